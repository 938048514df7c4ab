package injection

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Injection, Image, ImageAuto}

// Injection reports namespaces whose injection labels are missing or
// contradict each other, and pods of injected namespaces without a proxy.
var Injection = &analysis.Analyzer{
	Name: "injection.Injection",
	Doc: "check namespaces and pods for sidecar injection\n\n" +
		"A namespace with neither istio-injection nor istio.io/rev gets no sidecars (IST0102), unless the " +
		"injector enables namespaces by default (IST0148); a namespace carrying several of istio-injection, " +
		"istio.io/rev and istio.io/dataplane-mode is ambiguous (IST0123); a running pod of a namespace labeled " +
		"istio-injection=enabled that has no istio-proxy container and does not opt out was created before " +
		"injection or bypassed it (IST0103).",
	Codes: []*analysis.Code{codes.NamespaceNotInjected, codes.PodMissingProxy,
		codes.NamespaceMultipleInjectionLabels, codes.NamespaceInjectionEnabledByDefault},
	Run: runInjection,
}

func runInjection(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	byDefault := enabledByDefault(snap)
	injected := map[string]bool{}
	for _, o := range snap.List(mesh.Namespace) {
		name := o.Name()
		if name == istioSystem || name == snap.RootNamespace() || systemNamespaces[name] {
			continue
		}
		if checkNamespace(p, o, byDefault) {
			injected[name] = true
		}
	}
	for _, o := range snap.List(mesh.Pod) {
		if !injected[o.Namespace()] {
			continue
		}
		pod, ok := o.Obj.(*corev1.Pod)
		if !ok || pod == nil || pod.Spec.HostNetwork {
			continue
		}
		if injectionDisabled(o.Annotations(), o.Labels()) {
			continue
		}
		if img, ok := proxyContainerImage(&pod.Spec); ok && img != "" {
			continue
		}
		p.Reportf(codes.PodMissingProxy, o,
			"pod %s/%s has no istio-proxy container although namespace %s is labeled %s=%s: it was started before "+
				"injection was enabled or the injector did not reach it; restart it (kubectl rollout restart) to get a sidecar",
			o.Namespace(), o.Name(), o.Namespace(), mesh.LabelInjection, injectionEnabled)
	}
	return nil, nil
}

// checkNamespace reports on one namespace and says whether its pods are
// expected to carry a sidecar.
func checkNamespace(p *analysis.Pass, o *mesh.Object, byDefault bool) bool {
	name, labels := o.Name(), o.Labels()
	inj, hasInj := labels[mesh.LabelInjection]
	_, hasRev := labels[mesh.LabelRevision]

	// istio-injection set to anything but enabled turns the others off.
	var set []string
	if hasInj {
		set = append(set, mesh.LabelInjection+"="+inj)
	}
	if !hasInj || inj == injectionEnabled {
		for _, k := range []string{mesh.LabelRevision, mesh.LabelDataplaneMode} {
			if v, ok := labels[k]; ok {
				set = append(set, k+"="+v)
			}
		}
	}
	if len(set) > 1 {
		p.Reportf(codes.NamespaceMultipleInjectionLabels, o,
			"namespace %s has conflicting data plane labels %s: keep only one (for example 'kubectl label namespace %s %s-')",
			name, strings.Join(set, ", "), name, dropSuggestion(set))
	}
	if labels[mesh.LabelDataplaneMode] == ambientMode {
		return false
	}
	if inj == "" && !hasRev {
		if byDefault {
			p.Reportf(codes.NamespaceInjectionEnabledByDefault, o,
				"namespace %s has no injection label, but the injector enables namespaces by default "+
					"(sidecarInjectorWebhook.enableNamespacesByDefault), so its pods get sidecars; label it "+
					"istio-injection=disabled if that is not intended", name)
			return false
		}
		p.Reportf(codes.NamespaceNotInjected, o,
			"namespace %s has neither istio-injection nor istio.io/rev, so its pods get no sidecar; run "+
				"'kubectl label namespace %s istio-injection=enabled' if they belong in the mesh", name, name)
		return false
	}
	return inj == injectionEnabled
}

// dropSuggestion names a label to remove: the legacy one when present,
// else the revision label.
func dropSuggestion(set []string) string {
	for _, s := range set {
		if strings.HasPrefix(s, mesh.LabelInjection+"=") {
			return mesh.LabelInjection
		}
	}
	return mesh.LabelRevision
}

// enabledByDefault reads sidecarInjectorWebhook.enableNamespacesByDefault
// from the default revision's injector ConfigMap.
func enabledByDefault(snap *mesh.Snapshot) bool {
	for _, o := range snap.List(mesh.ConfigMap) {
		if o.Name() != injectorConfigName("") {
			continue
		}
		b, _ := lookup(injectorValues(o), "sidecarInjectorWebhook", "enableNamespacesByDefault").(bool)
		return b
	}
	return false
}
