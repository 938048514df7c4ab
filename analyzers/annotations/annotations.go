// Package annotations checks the Istio annotations written on Kubernetes
// objects: that Istio knows them, that they sit on a kind they apply to,
// that their values parse, and whether they are deprecated or alpha.
package annotations

import (
	"sort"
	"strings"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{K8s, Alpha}

// K8s reports unknown, misplaced, invalid and deprecated Istio annotations.
var K8s = &analysis.Analyzer{
	Name: "annotations.K8s",
	Doc: "report unknown, misplaced, invalid and deprecated Istio annotations\n\n" +
		"Annotations in an Istio domain (any key whose prefix ends in istio.io, and kubernetes.io/ingress.class) " +
		"on Namespaces, Services, Pods and Deployments are looked up in Istio's annotation catalogue: an unknown key " +
		"is reported, as is a key on a kind it does not apply to, a value the sidecar injector would reject, and a " +
		"deprecated key.",
	Codes: []*analysis.Code{codes.MisplacedAnnotation, codes.UnknownAnnotation, codes.InvalidAnnotation, codes.DeprecatedAnnotation},
	Run:   runK8s,
}

// Alpha reports Istio annotations whose feature status is alpha.
var Alpha = &analysis.Analyzer{
	Name: "annotations.Alpha",
	Doc: "report Istio annotations that are still alpha\n\n" +
		"An alpha annotation may change or disappear in a later Istio release. Annotations that Istio's own " +
		"controllers write (sidecar status, gateway controller version, revision) are not reported, nor, on pods " +
		"without an istio-init container (CNI), the traffic annotations the CNI plugin sets.",
	Codes: []*analysis.Code{codes.AlphaAnnotation},
	Run:   runAlpha,
}

// checkedKinds are the kinds whose annotations istioctl inspects.
var checkedKinds = []mesh.GroupKind{mesh.Namespace, mesh.Service, mesh.Pod, mesh.Deployment}

// catalogue indexes Istio's annotation definitions by name; it is built
// once from the immutable generated list.
var catalogue = func() map[string]*annotation.Instance {
	m := map[string]*annotation.Instance{}
	for _, a := range annotation.AllResourceAnnotations() {
		m[a.Name] = a
	}
	return m
}()

// ownedByIstio are alpha annotations that Istio's controllers set
// themselves: users did not write them, so they are not reported.
var ownedByIstio = map[string]bool{
	annotation.SidecarStatus.Name:            true,
	annotation.GatewayControllerVersion.Name: true,
	annotation.IoIstioRev.Name:               true,
}

// setByCNI are traffic annotations the Istio CNI plugin writes on pods.
var setByCNI = map[string]bool{
	annotation.SidecarInterceptionMode.Name:               true,
	annotation.SidecarTrafficIncludeInboundPorts.Name:     true,
	annotation.SidecarTrafficExcludeInboundPorts.Name:     true,
	annotation.SidecarTrafficIncludeOutboundIPRanges.Name: true,
}

// istioDomain reports whether an annotation key belongs to Istio.
func istioDomain(key string) bool {
	if key == annotation.IoKubernetesIngressClass.Name {
		return true
	}
	prefix, _, _ := strings.Cut(key, "/")
	return strings.HasSuffix(prefix, "istio.io")
}

// sortedKeys returns an object's annotation keys in order, so findings
// come out deterministically.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func runK8s(p *analysis.Pass) (any, error) {
	for _, gk := range checkedKinds {
		for _, o := range p.Snapshot.List(gk) {
			checkObject(p, o)
		}
	}
	return nil, nil
}

func checkObject(p *analysis.Pass, o *mesh.Object) {
	ann := o.Annotations()
	for _, key := range sortedKeys(ann) {
		if !istioDomain(key) {
			continue
		}
		def := catalogue[key]
		if def == nil {
			p.Reportf(codes.UnknownAnnotation, o, "annotation %q is in an Istio domain but Istio defines no such annotation; check its spelling", key)
			continue
		}
		if def.Deprecated && !(key == annotation.SidecarInject.Name && hasLabel(o, key)) {
			p.Reportf(codes.DeprecatedAnnotation, o, "annotation %q is deprecated%s", key, replacement(key))
		}
		if appliesToAny(def) {
			continue
		}
		kinds := resourceNames(def)
		if !contains(kinds, o.Kind) {
			p.Reportf(codes.MisplacedAnnotation, o, "annotation %q has no effect on a %s; it applies to: %s",
				key, o.Kind, strings.Join(kinds, ", "))
			continue
		}
		if validate := valueCheckers[key]; validate != nil {
			if err := validate(ann[key]); err != nil {
				p.Reportf(codes.InvalidAnnotation, o, "annotation %q has invalid value %q: %v", key, ann[key], err)
			}
		}
	}
}

func hasLabel(o *mesh.Object, key string) bool {
	_, ok := o.Labels()[key]
	return ok
}

func replacement(key string) string {
	if key == annotation.SidecarInject.Name {
		return "; use the label of the same name instead"
	}
	return ""
}

func appliesToAny(def *annotation.Instance) bool {
	for _, r := range def.Resources {
		if r == annotation.Any {
			return true
		}
	}
	return false
}

func resourceNames(def *annotation.Instance) []string {
	out := []string{}
	for _, r := range def.Resources {
		if s := r.String(); s != "Unknown" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func runAlpha(p *analysis.Pass) (any, error) {
	for _, gk := range checkedKinds {
		for _, o := range p.Snapshot.List(gk) {
			cni := false
			if pod, ok := o.Obj.(*corev1.Pod); ok {
				cni = !hasInitContainer(pod, "istio-init")
			}
			for _, key := range sortedKeys(o.Annotations()) {
				if !istioDomain(key) {
					continue
				}
				def := catalogue[key]
				if def == nil || def.FeatureStatus != annotation.Alpha || ownedByIstio[key] {
					continue
				}
				if cni && setByCNI[key] {
					continue
				}
				p.Reportf(codes.AlphaAnnotation, o, "annotation %q is alpha: it may change or be removed in a later Istio release", key)
			}
		}
	}
	return nil, nil
}

func hasInitContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}
