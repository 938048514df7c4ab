package mesh

import (
	"sort"
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// Labels and annotations that decide how a workload joins the mesh.
const (
	LabelInjection        = "istio-injection"         // namespace: enabled|disabled
	LabelRevision         = "istio.io/rev"            // namespace or pod: control-plane revision
	LabelSidecarInject    = "sidecar.istio.io/inject" // pod label (or legacy annotation): "true"|"false"
	LabelDataplaneMode    = "istio.io/dataplane-mode" // namespace or pod: ambient|none
	AnnotationRedirection = "ambient.istio.io/redirection"
	ProxyContainer        = "istio-proxy"
)

// FormatLabels writes labels as a selector: "k=v" pairs sorted by key,
// joined by commas; "" for none.
func FormatLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
	}
	return b.String()
}

// DefaultIngress is the ingress gateway istioctl assumes when it analyzes
// files: a pod labelled istio=ingressgateway in istio-system behind a
// Service exposing TCP ports 80, 443, 31400 and 15443. A folder of
// configuration rarely holds the mesh's own gateway deployment; without it
// every Gateway and gateway route would be reported.
type DefaultIngress struct {
	Namespace string
	Service   string // from meshConfig.ingressService, "istio-ingressgateway" by default
	Labels    map[string]string
	Ports     []uint32
}

// DefaultIngress returns the stand-in ingress gateway, or false when the
// snapshot holds live objects (the real gateway is then visible) or the
// mesh configuration turns the ingress controller off.
func (s *Snapshot) DefaultIngress() (DefaultIngress, bool) {
	if s.MeshConfig.GetIngressControllerMode() == meshconfig.MeshConfig_OFF {
		return DefaultIngress{}, false
	}
	for _, o := range s.objects {
		if o.Source.Cluster != "" {
			return DefaultIngress{}, false
		}
	}
	svc := s.MeshConfig.GetIngressService()
	if svc == "" {
		svc = "istio-ingressgateway"
	}
	return DefaultIngress{Namespace: "istio-system", Service: svc,
		Labels: map[string]string{"istio": "ingressgateway"}, Ports: []uint32{80, 443, 31400, 15443}}, true
}

// HasSidecar reports whether a workload has an istio-proxy container or
// will be injected with one: its own sidecar.istio.io/inject label (or the
// legacy annotation) decides first, then its namespace's istio-injection
// label, then the namespace's istio.io/rev label.
func (s *Snapshot) HasSidecar(w *Workload) bool {
	if w.Spec != nil && (hasProxyContainer(w.Spec.Containers) || hasProxyContainer(w.Spec.InitContainers)) {
		return true
	}
	if v, ok := w.Labels[LabelSidecarInject]; ok {
		return v == "true"
	}
	if v, ok := w.Annotations[LabelSidecarInject]; ok {
		return v == "true"
	}
	ns := s.Namespace(w.Namespace)
	if ns == nil {
		return false
	}
	if v, ok := ns.Labels[LabelInjection]; ok {
		return v == "enabled"
	}
	return ns.Labels[LabelRevision] != ""
}

func hasProxyContainer(cs []corev1.Container) bool {
	for _, c := range cs {
		if c.Name == ProxyContainer && c.Image != "" {
			return true
		}
	}
	return false
}
