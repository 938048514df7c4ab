package injection

import (
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// autoImage is the placeholder image the injector replaces.
const autoImage = "auto"

// ImageAuto reports `image: auto` proxies that no injector will rewrite.
var ImageAuto = &analysis.Analyzer{
	Name: "injection.ImageAuto",
	Doc: "check that image: auto proxies are injected\n\n" +
		"An istio-proxy container with image \"auto\" (gateway deployments) relies on the injector to fill in " +
		"the real image. A Pod that still has it was never injected and cannot start (IST0147); a Deployment " +
		"whose pod template no Istio injection webhook selects, by namespace labels and pod labels, will " +
		"create such pods (IST0146).",
	Codes: []*analysis.Code{codes.ImageAutoWithoutInjectionWarning, codes.ImageAutoWithoutInjectionError},
	Run:   runImageAuto,
}

func runImageAuto(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	var hooks []admissionv1.MutatingWebhook
	for _, o := range snap.List(mesh.MutatingWebhookConfiguration) {
		cfg, ok := o.Obj.(*admissionv1.MutatingWebhookConfiguration)
		if !ok || cfg == nil {
			continue
		}
		for _, h := range cfg.Webhooks {
			if strings.HasSuffix(h.Name, "istio.io") {
				hooks = append(hooks, h)
			}
		}
	}
	for _, o := range snap.List(mesh.Pod) {
		pod, ok := o.Obj.(*corev1.Pod)
		if !ok || pod == nil || !hasAutoImage(&pod.Spec) {
			continue
		}
		p.Reportf(codes.ImageAutoWithoutInjectionError, o,
			"pod %s/%s runs istio-proxy with image \"auto\": it was not injected, so the placeholder image was never "+
				"replaced and the pod cannot start; enable injection for it and recreate it", o.Namespace(), o.Name())
	}
	for _, o := range snap.List(mesh.Deployment) {
		d, ok := o.Obj.(*appsv1.Deployment)
		if !ok || d == nil || !hasAutoImage(&d.Spec.Template.Spec) {
			continue
		}
		var nsLabels map[string]string
		if ns := snap.Namespace(o.Namespace()); ns != nil {
			nsLabels = ns.Labels
		}
		if selectedByAny(hooks, nsLabels, d.Spec.Template.Labels) {
			continue
		}
		p.Reportf(codes.ImageAutoWithoutInjectionWarning, o,
			"deployment %s/%s uses istio-proxy image \"auto\" but no Istio injection webhook selects its pods "+
				"(namespace %s labels: %s; pod labels: %s); label the namespace istio-injection=enabled or the pod "+
				"template sidecar.istio.io/inject=\"true\"", o.Namespace(), o.Name(), o.Namespace(),
			showLabels(nsLabels), showLabels(d.Spec.Template.Labels))
	}
	return nil, nil
}

func hasAutoImage(spec *corev1.PodSpec) bool {
	for _, c := range spec.Containers {
		if c.Name == mesh.ProxyContainer && c.Image == autoImage {
			return true
		}
	}
	return false
}

func selectedByAny(hooks []admissionv1.MutatingWebhook, nsLabels, podLabels map[string]string) bool {
	for _, h := range hooks {
		if selects(h.NamespaceSelector, nsLabels) && selects(h.ObjectSelector, podLabels) {
			return true
		}
	}
	return false
}

// selects applies a webhook selector; an absent one matches everything.
func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(set))
}

func showLabels(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	return labels.Set(m).String()
}
