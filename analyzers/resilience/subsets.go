package resilience

import (
	"fmt"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// UnusedSubsets reports DestinationRule subsets no route uses.
var UnusedSubsets = &analysis.Analyzer{
	Name: "resilience.UnusedSubsets",
	Doc: "subsets no route uses\n\n" +
		"Reports DestinationRule subsets that no VirtualService route or mirror names, for hosts that routes " +
		"do reach by subset. Hosts where a route names an undefined subset are left to IST0101: the unused " +
		"subset is then most likely the one meant. No fix is offered: tools outside the configuration " +
		"(canary controllers, kubectl scripts) may still use the subset.",
	Codes: []*analysis.Code{codes.UnusedSubset},
	Run:   runUnusedSubsets,
}

func runUnusedSubsets(p *analysis.Pass) (any, error) {
	s := p.Snapshot
	drs := destinationRules(s)
	defined := map[string]map[string]bool{}
	for _, dr := range drs {
		h := s.FQDN(dr.Spec.GetHost(), dr.Obj.Namespace())
		if defined[h] == nil {
			defined[h] = map[string]bool{}
		}
		for _, ss := range dr.Spec.GetSubsets() {
			defined[h][ss.GetName()] = true
		}
	}
	used := map[string]map[string]bool{}
	broken := map[string]bool{}
	for _, vs := range virtualServices(s) {
		for _, d := range mesh.Destinations(vs.Spec) {
			if d.GetSubset() == "" {
				continue
			}
			h := s.FQDN(d.GetHost(), vs.Obj.Namespace())
			if used[h] == nil {
				used[h] = map[string]bool{}
			}
			used[h][d.GetSubset()] = true
			if !defined[h][d.GetSubset()] {
				broken[h] = true
			}
		}
	}
	for _, dr := range drs {
		h := s.FQDN(dr.Spec.GetHost(), dr.Obj.Namespace())
		if len(used[h]) == 0 || broken[h] || strings.HasPrefix(h, "*") {
			continue
		}
		for i, ss := range dr.Spec.GetSubsets() {
			if ss == nil || used[h][ss.GetName()] {
				continue
			}
			p.Report(analysis.NewFinding(codes.UnusedSubset, dr.Obj, fmt.Sprintf(
				"%s: subset %q of host %s is named by no VirtualService route or mirror (routes use %s)",
				routeName("subsets", i, ""), ss.GetName(), dr.Spec.GetHost(), sortedKeys(used[h]))))
		}
	}
	return nil, nil
}

func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, fmt.Sprintf("%q", k))
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// ConsistentHashRetries reports retries sent to other hosts of a
// consistent-hash destination.
var ConsistentHashRetries = &analysis.Analyzer{
	Name: "resilience.ConsistentHashRetries",
	Doc: "retries that break consistent-hash affinity\n\n" +
		"With consistent-hash load balancing Istio retries on the same host (it drops the previous-hosts " +
		"predicate of its default retry policy). Reports routes to such destinations whose retries set " +
		"retryIgnorePreviousHosts: true or retryRemoteLocalities: true, which send retries elsewhere.",
	Codes: []*analysis.Code{codes.ConsistentHashRetriesElsewhere},
	Run:   runConsistentHashRetries,
}

func runConsistentHashRetries(p *analysis.Pass) (any, error) {
	s := p.Snapshot
	byHost := map[string][]destinationRule{}
	for _, dr := range destinationRules(s) {
		h := s.FQDN(dr.Spec.GetHost(), dr.Obj.Namespace())
		byHost[h] = append(byHost[h], dr)
	}
	for _, vs := range virtualServices(s) {
		for i, r := range vs.Spec.GetHttp() {
			rt := r.GetRetries()
			if !forwards(r) || rt.GetAttempts() <= 0 {
				continue
			}
			var fields []string
			rc := routeCtx{vs: vs.Obj, i: i, r: r}
			var edits []analysis.Edit
			if rt.GetRetryIgnorePreviousHosts().GetValue() {
				fields = append(fields, "retryIgnorePreviousHosts: true")
				edits = append(edits, del(vs.Obj, rc.path("retries", "retryIgnorePreviousHosts")))
			}
			if rt.GetRetryRemoteLocalities().GetValue() {
				fields = append(fields, "retryRemoteLocalities: true")
				edits = append(edits, del(vs.Obj, rc.path("retries", "retryRemoteLocalities")))
			}
			if len(fields) == 0 {
				continue
			}
			dr, host := hashedDestination(s, vs, r, byHost)
			if dr == nil {
				continue
			}
			list := strings.Join(fields, " and ")
			report(p, codes.ConsistentHashRetriesElsewhere, vs.Obj,
				fixFor("keep retries on the hashed host", fmt.Sprintf("Removes %s from the retries of %s: retries stay on the host the consistent hash of %s picks, so its affinity (caches, sessions) holds.",
					list, rc.label(), dr.Obj.Ref()), edits...),
				"%s retries with %s, but %s load-balances %s by consistent hash: retries leave the hashed host",
				rc.where(), list, dr.Obj.Ref(), host)
		}
	}
	return nil, nil
}

// hashedDestination returns the first DestinationRule that balances a
// destination of r by consistent hash (top level, port level, or the
// destination's subset).
func hashedDestination(s *mesh.Snapshot, vs virtualService, r *networking.HTTPRoute, byHost map[string][]destinationRule) (*destinationRule, string) {
	for _, rd := range r.GetRoute() {
		d := rd.GetDestination()
		for k, dr := range byHost[s.FQDN(d.GetHost(), vs.Obj.Namespace())] {
			if hashes(dr.Spec.GetTrafficPolicy()) {
				return &byHost[s.FQDN(d.GetHost(), vs.Obj.Namespace())][k], d.GetHost()
			}
			for _, ss := range dr.Spec.GetSubsets() {
				if ss.GetName() == d.GetSubset() && d.GetSubset() != "" && hashes(ss.GetTrafficPolicy()) {
					return &byHost[s.FQDN(d.GetHost(), vs.Obj.Namespace())][k], d.GetHost()
				}
			}
		}
	}
	return nil, ""
}

func hashes(tp *networking.TrafficPolicy) bool {
	if tp.GetLoadBalancer().GetConsistentHash() != nil {
		return true
	}
	for _, pl := range tp.GetPortLevelSettings() {
		if pl.GetLoadBalancer().GetConsistentHash() != nil {
			return true
		}
	}
	return false
}
