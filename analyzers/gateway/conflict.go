package gateway

import (
	"fmt"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// ConflictingGateway reports Gateways that claim the same host and port on
// the same workloads.
var ConflictingGateway = &analysis.Analyzer{
	Name: "gateway.ConflictingGateway",
	Doc: "report gateways that claim the same host on the same port of the same workloads\n\n" +
		"Two Gateways whose selectors are equal, or overlap on a selected pod while one selector's text contains " +
		"the other's (istioctl's rule), must not both declare a server on one port for one host with the same " +
		"bind address: the proxy keeps only one. A Gateway with no servers whose selector no other Gateway " +
		"shares is reported as selecting nothing.",
	Codes:    []*analysis.Code{codes.ConflictingGateways, codes.ReferencedResourceNotFound},
	Requires: []*analysis.Analyzer{Selector},
	Run:      runConflictingGateway,
}

// claim is one gateway's hosts on one selector and port: the last of its
// servers there, as istioctl keeps it.
type claim struct {
	key  mesh.Key
	name string
	bind string
}

type bucketKey struct {
	selector string
	port     uint32
}

// conflictIndex holds, per selector and port, which gateways claim each
// host, and per selector string which selectors it overlaps.
type conflictIndex struct {
	buckets   map[bucketKey]map[string][]claim
	selectors map[string]map[string]string // selector string → labels, gateways with servers only
	byPair    map[[2]string][]string       // label pair → selector strings containing it
	empty     bool                         // some gateway with servers has an empty selector
	sel       *selection
	hits      map[string][]string
}

func runConflictingGateway(p *analysis.Pass) (any, error) {
	sel, ok := p.ResultOf[Selector].(*selection)
	if !ok {
		return nil, nil
	}
	ix := newConflictIndex(p.Snapshot, sel)
	for _, o := range p.Snapshot.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		s := mesh.FormatLabels(gw.GetSelector())
		hits := ix.overlapping(s)
		if len(hits) == 0 {
			// gateway.Selector already reports a selector matching no workload.
			if s != "" && len(sel.of(gw)) > 0 {
				p.Reportf(codes.ReferencedResourceNotFound, o,
					"%s is used by no Gateway that declares servers, and this one declares none", describeSelector(gw.GetSelector()))
			}
			continue
		}
		for i, srv := range gw.GetServers() {
			port := srv.GetPort().GetNumber()
			others, more := ix.conflicts(o.Key(), hits, port, srv)
			if len(others) == 0 {
				continue
			}
			names := strings.Join(others, ", ")
			if more {
				names += " and more"
			}
			finding := analysis.NewFinding(codes.ConflictingGateways, o, fmt.Sprintf("server %d claims host(s) %s on port %d of the workloads of %s, already claimed by gateway(s) %s",
				i, strings.Join(srv.GetHosts(), ", "), port, describeSelector(gw.GetSelector()), names))
			finding.Equivalents = []string{"KIA0301"}
			p.Report(finding)
		}
	}
	return nil, nil
}

func newConflictIndex(snap *mesh.Snapshot, sel *selection) *conflictIndex {
	ix := &conflictIndex{
		buckets:   map[bucketKey]map[string][]claim{},
		selectors: map[string]map[string]string{},
		byPair:    map[[2]string][]string{},
		sel:       sel,
		hits:      map[string][]string{},
	}
	type last struct {
		bk    bucketKey
		key   mesh.Key
		hosts []string
		claim claim
	}
	var order []*last
	latest := map[bucketKey]map[mesh.Key]*last{}
	for _, o := range snap.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok || len(gw.GetServers()) == 0 {
			continue
		}
		s := mesh.FormatLabels(gw.GetSelector())
		if _, seen := ix.selectors[s]; !seen {
			ix.selectors[s] = gw.GetSelector()
			if len(gw.GetSelector()) == 0 {
				ix.empty = true
			}
			for k, v := range gw.GetSelector() {
				ix.byPair[[2]string{k, v}] = append(ix.byPair[[2]string{k, v}], s)
			}
		}
		for _, srv := range gw.GetServers() {
			bk := bucketKey{s, srv.GetPort().GetNumber()}
			if latest[bk] == nil {
				latest[bk] = map[mesh.Key]*last{}
			}
			l := latest[bk][o.Key()]
			if l == nil {
				l = &last{bk: bk, key: o.Key()}
				latest[bk][o.Key()] = l
				order = append(order, l)
			}
			l.hosts = srv.GetHosts()
			l.claim = claim{key: o.Key(), name: fullName(o), bind: srv.GetBind()}
		}
	}
	for _, l := range order {
		hosts := ix.buckets[l.bk]
		if hosts == nil {
			hosts = map[string][]claim{}
			ix.buckets[l.bk] = hosts
		}
		for _, h := range l.hosts {
			hosts[h] = append(hosts[h], l.claim)
		}
	}
	for _, hosts := range ix.buckets {
		for _, claims := range hosts {
			sort.SliceStable(claims, func(i, j int) bool { return claims[i].name < claims[j].name })
		}
	}
	return ix
}

// overlapping returns the selector strings (of gateways with servers) that
// a gateway with selector string s competes with: s itself, and selectors
// that contain s or are contained in it and match one of its workloads.
func (ix *conflictIndex) overlapping(s string) []string {
	if hits, ok := ix.hits[s]; ok {
		return hits
	}
	found := map[string]bool{}
	if _, ok := ix.selectors[s]; ok {
		found[s] = true
	}
	seenLabels := map[string]bool{}
	for _, w := range ix.sel.bySelector[s] {
		sig := mesh.FormatLabels(w.Labels)
		if seenLabels[sig] {
			continue
		}
		seenLabels[sig] = true
		for _, x := range ix.matching(w.Labels) {
			if x != s && (strings.Contains(x, s) || strings.Contains(s, x)) {
				found[x] = true
			}
		}
	}
	hits := make([]string, 0, len(found))
	for x := range found {
		hits = append(hits, x)
	}
	sort.Strings(hits)
	ix.hits[s] = hits
	return hits
}

// matching returns the selector strings whose labels are all in labels.
func (ix *conflictIndex) matching(labels map[string]string) []string {
	count := map[string]int{}
	for k, v := range labels {
		for _, x := range ix.byPair[[2]string{k, v}] {
			count[x]++
		}
	}
	var out []string
	for x, n := range count {
		if n == len(ix.selectors[x]) {
			out = append(out, x)
		}
	}
	if ix.empty {
		out = append(out, "")
	}
	return out
}

// maxNamed bounds the gateways a finding names: a host shared by hundreds
// of gateways would otherwise make every finding list them all.
const maxNamed = 10

// conflicts returns the names of other gateways that claim one of srv's
// hosts with the same bind on port, under one of the selectors hits: the
// first maxNamed by name, and whether there are more.
func (ix *conflictIndex) conflicts(self mesh.Key, hits []string, port uint32, srv *networking.Server) ([]string, bool) {
	seen := map[string]bool{}
	more := false
	for _, x := range hits {
		hosts := ix.buckets[bucketKey{x, port}]
		for _, h := range srv.GetHosts() {
			taken := 0
			// Claims are sorted by name: the first maxNamed+1 others of
			// each list hold the first maxNamed of their union.
			for _, c := range hosts[h] {
				if c.key == self || c.bind != srv.GetBind() {
					continue
				}
				if taken == maxNamed+1 {
					more = true
					break
				}
				taken++
				seen[c.name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	if len(out) > maxNamed {
		out, more = out[:maxNamed], true
	}
	return out, more
}
