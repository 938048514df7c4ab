package guardrail

import (
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshpilot/meshpilot/mesh"
)

// AnnotationProject is the Rancher annotation naming a namespace's project
// as "<cluster>:<project>"; Rancher also labels the namespace with the
// project part alone.
const AnnotationProject = "field.cattle.io/projectId"

// index lists, per kind, the limits and rules that may apply to it.
func (p *Policy) index() {
	add := func(gk mesh.GroupKind, l *limit, r *rule) {
		kc := p.kinds[gk]
		if kc == nil {
			kc = &kindChecks{}
			p.kinds[gk] = kc
		}
		if l != nil && (len(kc.limits) == 0 || kc.limits[len(kc.limits)-1] != l) {
			kc.limits = append(kc.limits, l)
		}
		if r != nil {
			kc.rules = append(kc.rules, r)
		}
	}
	for _, l := range p.limits {
		if l.maxTimeout > 0 || l.maxAttempts >= 0 {
			add(mesh.VirtualService, l, nil)
			add(mesh.HTTPRoute, l, nil)
		}
		if l.allowedRetryOn != nil {
			add(mesh.VirtualService, l, nil)
		}
		if l.mtls != "" {
			add(mesh.PeerAuthentication, l, nil)
			add(mesh.DestinationRule, l, nil)
			add(mesh.Namespace, l, nil)
		}
		for _, gk := range sortedKinds(l.forbidden) {
			add(gk, l, nil)
		}
	}
	for _, r := range p.rules {
		for _, gk := range sortedKinds(r.scope.kinds) {
			add(gk, nil, r)
		}
	}
}

func sortedKinds(m map[mesh.GroupKind]bool) []mesh.GroupKind {
	out := make([]mesh.GroupKind, 0, len(m))
	for gk := range m {
		out = append(out, gk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// objectNamespace is the namespace an object is scoped by: its own, or for
// a Namespace the namespace it is.
func objectNamespace(o *mesh.Object) string {
	if o.GroupKind == mesh.Namespace {
		return o.Name()
	}
	return o.Namespace()
}

// matchNamespace reports whether the namespace parts of a scope select
// namespace ns, whose Namespace object (possibly absent) carries
// nsLabels and nsAnnotations. Cluster-scoped objects (ns "") are selected
// only by scopes that name no namespace.
func (s *scope) matchNamespace(ns string, nsLabels, nsAnnotations map[string]string) bool {
	if ns == "" {
		return len(s.namespaces) == 0 && s.nsSelector == nil && len(s.projects) == 0
	}
	if len(s.namespaces) > 0 && !matchAny(s.namespaces, ns) {
		return false
	}
	if matchAny(s.exclude, ns) {
		return false
	}
	if s.nsSelector != nil && !s.nsSelector.Matches(labels.Set(nsLabels)) {
		return false
	}
	if len(s.projects) > 0 && !s.matchProject(nsLabels, nsAnnotations) {
		return false
	}
	return true
}

func (s *scope) matchProject(nsLabels, nsAnnotations map[string]string) bool {
	cluster, project, ok := strings.Cut(nsAnnotations[AnnotationProject], ":")
	if !ok {
		cluster, project = "", nsLabels[AnnotationProject]
	}
	if project == "" {
		return false
	}
	for _, p := range s.projects {
		if p.project == project && (p.cluster == "" || p.cluster == cluster) {
			return true
		}
	}
	return false
}

func (s *scope) matchObject(objLabels map[string]string) bool {
	return s.objSelector == nil || s.objSelector.Matches(labels.Set(objLabels))
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
