package kiali

import (
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// DestinationRule checks DestinationRules against each other and against
// the PeerAuthentications that decide mutual TLS.
var DestinationRule = &analysis.Analyzer{
	Name: "kiali.DestinationRule",
	Doc: "report overlapping DestinationRules, subsets without labels, and mTLS settings PeerAuthentications contradict\n\n" +
		"DestinationRules visible together must not define the same subset of a host twice. A service-specific " +
		"rule without TLS settings replaces a mesh-wide or namespace-wide rule that enables ISTIO_MUTUAL. A " +
		"mesh-wide (*.local) or namespace-wide (*.<ns>.svc.<domain>) rule that enables ISTIO_MUTUAL needs a " +
		"PeerAuthentication enabling mTLS; one that disables TLS fails against a STRICT PeerAuthentication, " +
		"and so does a rule for one service that disables TLS (or, with auto mTLS off, sets TLS without " +
		"ISTIO_MUTUAL) towards workloads a STRICT PeerAuthentication governs.",
	Codes: []*analysis.Code{codes.DestinationRuleSubsetConflict, codes.DestinationRuleOverridesMTLS,
		codes.MeshMTLSPeerAuthenticationMissing, codes.NamespaceMTLSPeerAuthenticationMissing,
		codes.NamespaceStrictMTLSConflict, codes.MeshStrictMTLSConflict, codes.DestinationRuleSubsetWithoutLabels},
	Run: runDestinationRule,
}

type destRule struct {
	obj  *mesh.Object
	spec *networking.DestinationRule
}

func runDestinationRule(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	var drs []destRule
	for _, o := range snap.List(mesh.DestinationRule) {
		if dr, ok := o.Obj.(*networking.DestinationRule); ok && dr != nil {
			drs = append(drs, destRule{o, dr})
		}
	}
	if len(drs) == 0 {
		return nil, nil
	}
	m := newMTLS(snap)
	checkSubsetConflicts(p, drs)
	for _, d := range drs {
		for i, ss := range d.spec.GetSubsets() {
			if len(ss.GetLabels()) == 0 {
				p.Reportf(codes.DestinationRuleSubsetWithoutLabels, d.obj,
					"subsets[%d] (%q) has no labels, so it selects every endpoint of %s", i, ss.GetName(), d.spec.GetHost())
			}
		}
		checkOverride(p, m, d)
		checkWideMTLS(p, m, d)
		checkHostStrictMTLS(p, m, d)
	}
	return nil, nil
}

// subsetKey is one subset of one host within one visibility scope: a
// namespace, or "*" for rules exported everywhere. Subset "" stands for a
// rule without subsets.
type subsetKey struct {
	cluster, scope, host, subset string
}

func checkSubsetConflicts(p *analysis.Pass, drs []destRule) {
	// Most keys have one rule: keep only the first per key, and a list only
	// for keys that turn out to be shared.
	first := make(map[subsetKey]*mesh.Object, len(drs))
	byKey := map[subsetKey][]*mesh.Object{}
	var keys []subsetKey
	add := func(k subsetKey, o *mesh.Object) {
		f, seen := first[k]
		switch {
		case !seen:
			first[k] = o
		case f == o:
		default:
			l := byKey[k]
			if len(l) == 0 {
				keys = append(keys, k)
				l = append(l, f)
			}
			if l[len(l)-1] != o {
				byKey[k] = append(l, o)
			}
		}
	}
	for _, d := range drs {
		if d.spec.GetHost() == "" || len(d.spec.GetWorkloadSelector().GetMatchLabels()) > 0 {
			continue
		}
		scope := d.obj.Namespace()
		if exportedEverywhere(d.spec.GetExportTo()) {
			scope = "*"
		}
		host := p.Snapshot.FQDN(d.spec.GetHost(), d.obj.Namespace())
		if len(d.spec.GetSubsets()) == 0 {
			add(subsetKey{d.obj.Source.Cluster, scope, host, ""}, d.obj)
		}
		for _, ss := range d.spec.GetSubsets() {
			add(subsetKey{d.obj.Source.Cluster, scope, host, ss.GetName()}, d.obj)
		}
	}
	reported := map[*mesh.Object]bool{}
	for _, k := range keys {
		l := byKey[k]
		if len(l) < 2 {
			continue
		}
		what := "subset " + quote(k.subset) + " of host " + k.host
		if k.subset == "" {
			what = "host " + k.host + " (without subsets)"
		}
		for _, o := range l {
			if reported[o] {
				continue
			}
			reported[o] = true
			p.Reportf(codes.DestinationRuleSubsetConflict, o,
				"%s is also defined by DestinationRule %s; only one of them takes effect", what, others(l, o))
		}
	}
}

func exportedEverywhere(exportTo []string) bool {
	if len(exportTo) == 0 {
		return true
	}
	for _, e := range exportTo {
		if e == "*" {
			return true
		}
	}
	return false
}

// checkOverride reports a service-specific rule without TLS settings for
// a cluster service that a wider rule puts under ISTIO_MUTUAL.
func checkOverride(p *analysis.Pass, m *mtls, d destRule) {
	host := p.Snapshot.FQDN(d.spec.GetHost(), d.obj.Namespace())
	rest, ok := strings.CutSuffix(host, ".svc."+p.Snapshot.DomainSuffix)
	if !ok || strings.HasPrefix(host, "*") || hasTLS(d.spec) {
		return
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return
	}
	wider := firstDR(m.nsDR[rest[i+1:]], networking.ClientTLSSettings_ISTIO_MUTUAL)
	if wider == nil {
		wider = firstDR(m.meshDR, networking.ClientTLSSettings_ISTIO_MUTUAL)
	}
	if wider == nil || wider.obj == d.obj {
		return
	}
	p.Reportf(codes.DestinationRuleOverridesMTLS, d.obj,
		"DestinationRule %s enables ISTIO_MUTUAL for %s, but this rule for host %s replaces it and sets no TLS mode",
		fullName(wider.obj), wider.obj.Obj.(*networking.DestinationRule).GetHost(), host)
}

func hasTLS(dr *networking.DestinationRule) bool {
	tp := dr.GetTrafficPolicy()
	if tp.GetTls() != nil {
		return true
	}
	for _, pl := range tp.GetPortLevelSettings() {
		if pl.GetTls() != nil {
			return true
		}
	}
	return false
}

func checkWideMTLS(p *analysis.Pass, m *mtls, d destRule) {
	tls := d.spec.GetTrafficPolicy().GetTls()
	if tls == nil {
		return
	}
	mode := tls.GetMode()
	meshEnabled := firstPA(m.meshPA, enablesMTLS)
	meshStrict := firstPA(m.meshPA, isStrict)
	if isMeshWideHost(d.spec.GetHost(), p.Snapshot.DomainSuffix) {
		switch {
		case mode == networking.ClientTLSSettings_ISTIO_MUTUAL && meshEnabled == nil:
			p.Reportf(codes.MeshMTLSPeerAuthenticationMissing, d.obj,
				"this mesh-wide rule makes clients use ISTIO_MUTUAL, but no PeerAuthentication without selector in root namespace %s enables mTLS",
				p.Snapshot.RootNamespace())
		case mode == networking.ClientTLSSettings_DISABLE && meshStrict != nil:
			p.Reportf(codes.MeshStrictMTLSConflict, d.obj,
				"this mesh-wide rule disables TLS, but PeerAuthentication %s requires STRICT mTLS mesh-wide", fullName(meshStrict))
		}
		return
	}
	ns, ok := namespaceWideHost(d.spec.GetHost(), p.Snapshot.DomainSuffix)
	if !ok {
		return
	}
	switch mode {
	case networking.ClientTLSSettings_ISTIO_MUTUAL:
		if firstPA(m.nsPA[ns], enablesMTLS) == nil && meshEnabled == nil {
			p.Reportf(codes.NamespaceMTLSPeerAuthenticationMissing, d.obj,
				"this rule makes clients of namespace %s use ISTIO_MUTUAL, but no namespace-wide or mesh-wide PeerAuthentication enables mTLS", ns)
		}
	case networking.ClientTLSSettings_DISABLE:
		if pa := firstPA(m.nsPA[ns], enablesMTLS); pa != nil {
			if isStrict(paMode(pa)) {
				p.Reportf(codes.NamespaceStrictMTLSConflict, d.obj,
					"this rule disables TLS for namespace %s, but PeerAuthentication %s requires STRICT mTLS there", ns, fullName(pa))
			}
			return
		}
		if meshStrict != nil {
			p.Reportf(codes.MeshStrictMTLSConflict, d.obj,
				"this rule disables TLS for namespace %s, but PeerAuthentication %s requires STRICT mTLS mesh-wide", ns, fullName(meshStrict))
		}
	}
}

// checkHostStrictMTLS compares the TLS mode of a rule for one service with
// the PeerAuthentication in force for the workloads behind it (workload,
// namespace or mesh-wide): disabling TLS, or with auto mTLS off setting
// TLS without ISTIO_MUTUAL, towards STRICT workloads makes requests fail.
// The wide rules are checkWideMTLS's; a rule without TLS settings is
// checkOverride's (MP3008) or the PeerAuthentication's (MP3014, MP3015).
func checkHostStrictMTLS(p *analysis.Pass, m *mtls, d destRule) {
	host := d.spec.GetHost()
	if host == "" || strings.Contains(host, "*") || !hasTLS(d.spec) {
		return
	}
	tls := d.spec.GetTrafficPolicy().GetTls()
	mode := tls.GetMode()
	disable := tls != nil && mode == networking.ClientTLSSettings_DISABLE
	noMTLS := !m.autoMTLS && mode != networking.ClientTLSSettings_ISTIO_MUTUAL && mode != networking.ClientTLSSettings_MUTUAL
	if !disable && !noMTLS {
		return
	}
	root := p.Snapshot.RootNamespace()
	type conflict struct {
		pa *mesh.Object
		ws []string
	}
	var byMesh, byNS *conflict
	for _, w := range hostWorkloads(p.Snapshot, d.obj, host) {
		wm, src := m.workloadMode(w)
		if !isStrict(wm) || src == nil {
			continue
		}
		c := &byNS
		if src.Namespace() == root {
			c = &byMesh
		}
		if *c == nil {
			*c = &conflict{pa: src}
		}
		(*c).ws = append((*c).ws, fullName(w.Object))
	}
	what := "trafficPolicy.tls.mode DISABLE sends plain text to host " + host
	if !disable {
		what = "auto mTLS is off and trafficPolicy.tls does not set ISTIO_MUTUAL, so clients send no mTLS to host " + host
	}
	if byNS != nil {
		p.Reportf(codes.NamespaceStrictMTLSConflict, d.obj,
			"%s, but PeerAuthentication %s requires STRICT mTLS for its workloads (%s): requests are rejected",
			what, fullName(byNS.pa), strings.Join(byNS.ws, ", "))
	}
	if byMesh != nil {
		p.Reportf(codes.MeshStrictMTLSConflict, d.obj,
			"%s, but mesh-wide PeerAuthentication %s requires STRICT mTLS for its workloads (%s): requests are rejected",
			what, fullName(byMesh.pa), strings.Join(byMesh.ws, ", "))
	}
}

func isStrict(mode security.PeerAuthentication_MutualTLS_Mode) bool {
	return mode == security.PeerAuthentication_MutualTLS_STRICT
}

func quote(s string) string { return `"` + s + `"` }

// others names the objects of l other than o, sorted.
func others(l []*mesh.Object, o *mesh.Object) string {
	var names []string
	for _, x := range l {
		if x != o {
			names = append(names, fullName(x))
		}
	}
	sort.Strings(names)
	if len(names) > 5 {
		names = append(names[:5], "and "+itoa(len(names)-5)+" more")
	}
	return strings.Join(names, ", ")
}
