package kiali

import (
	"slices"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// PeerAuthentication checks how PeerAuthentications and
// RequestAuthentications select workloads, and PeerAuthentications against
// the DestinationRules that make clients use mutual TLS.
var PeerAuthentication = &analysis.Analyzer{
	Name: "kiali.PeerAuthentication",
	Doc: "report PeerAuthentications that overlap, select nothing, or that DestinationRules contradict\n\n" +
		"A namespace may hold one PeerAuthentication without selector and a workload may be selected by one " +
		"with a selector; PeerAuthentication and RequestAuthentication selectors must match a workload. With " +
		"auto mTLS off, a STRICT PeerAuthentication needs a namespace-wide or mesh-wide DestinationRule " +
		"enabling ISTIO_MUTUAL; one disabling mTLS (namespace-wide, mesh-wide, or for the workloads behind a " +
		"service) must not face a DestinationRule that enables it.",
	Codes: []*analysis.Code{codes.PolicySelectorMatchesNoWorkload, codes.MultiplePeerAuthenticationsWithoutSelector,
		codes.ConflictingPeerAuthenticationSelectors, codes.MeshMTLSDestinationRuleMissing,
		codes.NamespaceMTLSDestinationRuleMissing, codes.NamespaceMTLSDisableConflict, codes.MeshMTLSDisableConflict},
	Run: runPeerAuthentication,
}

func runPeerAuthentication(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	checkSelectors(p, mesh.RequestAuthentication, func(o *mesh.Object) (map[string]string, bool) {
		ra, ok := o.Obj.(*security.RequestAuthentication)
		return ra.GetSelector().GetMatchLabels(), ok && ra != nil && ra.GetTargetRef() == nil && len(ra.GetTargetRefs()) == 0
	})
	pas := snap.List(mesh.PeerAuthentication)
	if len(pas) == 0 {
		return nil, nil
	}
	claims := checkSelectors(p, mesh.PeerAuthentication, func(o *mesh.Object) (map[string]string, bool) {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		return pa.GetSelector().GetMatchLabels(), ok && pa != nil
	})
	reportClaims(p, claims)
	m := newMTLS(snap)
	reportMultipleNamespaceWide(p, m)
	root := snap.RootNamespace()
	reported := map[*mesh.Object]bool{}
	for _, o := range pas {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		if !ok || pa == nil {
			continue
		}
		if o.Namespace() == root {
			if len(pa.GetSelector().GetMatchLabels()) == 0 {
				reported[o] = checkMeshPA(p, m, o, pa)
			}
			continue
		}
		reported[o] = checkNamespacePA(p, m, o, pa)
	}
	checkHostDisableConflicts(p, m, pas, reported)
	return nil, nil
}

// checkHostDisableConflicts reports a PeerAuthentication that disables
// mutual TLS for workloads behind a service whose own DestinationRule makes
// clients use it (ISTIO_MUTUAL or MUTUAL), unless the policy is already
// reported for a wide DestinationRule.
func checkHostDisableConflicts(p *analysis.Pass, m *mtls, pas []*mesh.Object, reported map[*mesh.Object]bool) {
	type conflict struct{ drs, ws []string }
	byPA := map[*mesh.Object]*conflict{}
	for _, o := range p.Snapshot.List(mesh.DestinationRule) {
		dr, ok := o.Obj.(*networking.DestinationRule)
		if !ok || dr == nil || dr.GetHost() == "" || strings.Contains(dr.GetHost(), "*") {
			continue
		}
		switch dr.GetTrafficPolicy().GetTls().GetMode() {
		case networking.ClientTLSSettings_ISTIO_MUTUAL, networking.ClientTLSSettings_MUTUAL:
		default:
			continue
		}
		for _, w := range hostWorkloads(p.Snapshot, o, dr.GetHost()) {
			mode, src := m.workloadMode(w)
			if mode != security.PeerAuthentication_MutualTLS_DISABLE || src == nil || reported[src] {
				continue
			}
			c := byPA[src]
			if c == nil {
				c = &conflict{}
				byPA[src] = c
			}
			if name := fullName(o) + " (host " + dr.GetHost() + ")"; !slices.Contains(c.drs, name) {
				c.drs = append(c.drs, name)
			}
			if name := fullName(w.Object); !slices.Contains(c.ws, name) {
				c.ws = append(c.ws, name)
			}
		}
	}
	root := p.Snapshot.RootNamespace()
	for _, o := range pas {
		c := byPA[o]
		if c == nil {
			continue
		}
		code := codes.NamespaceMTLSDisableConflict
		if o.Namespace() == root {
			code = codes.MeshMTLSDisableConflict
		}
		p.Reportf(code, o, "this policy disables mTLS for %s, but DestinationRule %s makes clients use it: the servers expect plain text",
			strings.Join(c.ws, ", "), strings.Join(c.drs, ", "))
	}
}

// checkSelectors reports policies of kind whose selector matches no
// workload and returns, per workload, the policies with a selector that
// select it, in load order.
func checkSelectors(p *analysis.Pass, kind mesh.GroupKind, selector func(*mesh.Object) (map[string]string, bool)) map[*mesh.Workload][]*mesh.Object {
	snap := p.Snapshot
	claims := map[*mesh.Workload][]*mesh.Object{}
	for _, o := range snap.List(kind) {
		labels, ok := selector(o)
		if !ok || len(labels) == 0 {
			continue
		}
		ns := o.Namespace()
		scope := "namespace " + ns
		if ns == snap.RootNamespace() {
			ns, scope = "", "any namespace"
		}
		ws := snap.SelectWorkloads(ns, labels)
		if len(ws) == 0 {
			p.Reportf(codes.PolicySelectorMatchesNoWorkload, o,
				"the selector %s matches no workload in %s", mesh.FormatLabels(labels), scope)
			continue
		}
		for _, w := range ws {
			claims[w] = append(claims[w], o)
		}
	}
	return claims
}

func reportClaims(p *analysis.Pass, claims map[*mesh.Workload][]*mesh.Object) {
	reported := map[*mesh.Object]bool{}
	var ws []*mesh.Workload
	for w, l := range claims {
		if len(l) > 1 {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return fullName(ws[i].Object) < fullName(ws[j].Object) })
	for _, w := range ws {
		l := claims[w]
		for _, o := range l {
			if reported[o] {
				continue
			}
			reported[o] = true
			p.Reportf(codes.ConflictingPeerAuthenticationSelectors, o,
				"workload %s %s is also selected by PeerAuthentication %s; only the oldest applies",
				w.Object.Kind, fullName(w.Object), others(l, o))
		}
	}
}

func reportMultipleNamespaceWide(p *analysis.Pass, m *mtls) {
	groups := [][]*mesh.Object{m.meshPA}
	namespaces := make([]string, 0, len(m.nsPA))
	for ns := range m.nsPA {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		groups = append(groups, m.nsPA[ns])
	}
	for _, l := range groups {
		if len(l) < 2 {
			continue
		}
		for _, o := range l {
			p.Reportf(codes.MultiplePeerAuthenticationsWithoutSelector, o,
				"namespace %s has several PeerAuthentications without selector (this one and %s); only the oldest applies",
				o.Namespace(), others(l, o))
		}
	}
}

// checkMeshPA checks the mesh-wide PeerAuthentication against the
// mesh-wide DestinationRules; it reports whether it found a disable
// conflict.
func checkMeshPA(p *analysis.Pass, m *mtls, o *mesh.Object, pa *security.PeerAuthentication) bool {
	switch pa.GetMtls().GetMode() {
	case security.PeerAuthentication_MutualTLS_STRICT:
		if !m.autoMTLS && firstDR(m.meshDR, networking.ClientTLSSettings_ISTIO_MUTUAL) == nil {
			p.Reportf(codes.MeshMTLSDestinationRuleMissing, o,
				"mesh-wide STRICT mTLS with auto mTLS off needs a DestinationRule for *.local with tls.mode ISTIO_MUTUAL, and there is none")
		}
	case security.PeerAuthentication_MutualTLS_DISABLE:
		if dr := firstDR(m.meshDR, networking.ClientTLSSettings_ISTIO_MUTUAL, networking.ClientTLSSettings_MUTUAL); dr != nil {
			p.Reportf(codes.MeshMTLSDisableConflict, o,
				"this policy disables mTLS mesh-wide, but DestinationRule %s makes clients use it", fullName(dr.obj))
			return true
		}
	}
	return false
}

// checkNamespacePA checks a PeerAuthentication of a namespace against the
// namespace-wide and mesh-wide DestinationRules; it reports whether it
// found a disable conflict.
func checkNamespacePA(p *analysis.Pass, m *mtls, o *mesh.Object, pa *security.PeerAuthentication) bool {
	ns := o.Namespace()
	switch pa.GetMtls().GetMode() {
	case security.PeerAuthentication_MutualTLS_STRICT:
		if m.autoMTLS {
			return false
		}
		if firstDR(m.nsDR[ns], networking.ClientTLSSettings_ISTIO_MUTUAL) == nil &&
			firstDR(m.meshDR, networking.ClientTLSSettings_ISTIO_MUTUAL) == nil {
			p.Reportf(codes.NamespaceMTLSDestinationRuleMissing, o,
				"STRICT mTLS with auto mTLS off needs a DestinationRule for *.%s.svc.%s or *.local with tls.mode ISTIO_MUTUAL, and there is none",
				ns, p.Snapshot.DomainSuffix)
		}
	case security.PeerAuthentication_MutualTLS_DISABLE:
		if len(pa.GetSelector().GetMatchLabels()) > 0 {
			return false
		}
		enabling := []networking.ClientTLSSettings_TLSmode{networking.ClientTLSSettings_ISTIO_MUTUAL, networking.ClientTLSSettings_MUTUAL}
		if dr := firstDR(m.nsDR[ns], enabling...); dr != nil {
			p.Reportf(codes.NamespaceMTLSDisableConflict, o,
				"this policy disables mTLS in namespace %s, but DestinationRule %s makes its clients use it", ns, fullName(dr.obj))
			return true
		}
		if firstDR(m.nsDR[ns], networking.ClientTLSSettings_DISABLE) != nil {
			return false
		}
		if dr := firstDR(m.meshDR, enabling...); dr != nil {
			p.Reportf(codes.NamespaceMTLSDisableConflict, o,
				"this policy disables mTLS in namespace %s, but mesh-wide DestinationRule %s makes its clients use it and no DestinationRule for the namespace disables it",
				ns, fullName(dr.obj))
			return true
		}
	}
	return false
}
