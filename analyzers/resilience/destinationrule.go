package resilience

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// OutlierDetection checks outlier detection settings and what depends on
// them.
var OutlierDetection = &analysis.Analyzer{
	Name: "resilience.OutlierDetection",
	Doc: "outlier detection\n\n" +
		"Reports DestinationRules of multi-endpoint services that routes retry but that eject no failing " +
		"endpoint, outlier detection that can eject every endpoint or ejects after a single error, and locality " +
		"failover that Istio ignores for want of outlier detection.",
	Codes: []*analysis.Code{codes.RetriesWithoutOutlierDetection, codes.FullOutlierEjection,
		codes.HairTriggerOutlierDetection, codes.LocalityFailoverWithoutOutlierDetection},
	Run: runOutlierDetection,
}

// ConnectionPool reports connection pools left at the circuit-breaking
// tutorial's values.
var ConnectionPool = &analysis.Analyzer{
	Name: "resilience.ConnectionPool",
	Doc: "connection pool limits\n\n" +
		"Reports connection pools that keep the values of Istio's circuit-breaking tutorial " +
		"(maxConnections: 1, http1MaxPendingRequests: 1, with maxRequestsPerConnection: 1).",
	Codes: []*analysis.Code{codes.TutorialConnectionPool},
	Run:   runConnectionPool,
}

// defaultOutlierDetection is what fixes add: Envoy's default error count,
// a 10s sweep, 30s ejections and at most half the endpoints out at once.
func defaultOutlierDetection() map[string]any {
	return map[string]any{"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 50}
}

const defaultODText = "consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50"

// policyLoc is one traffic policy of a DestinationRule: the top level, a
// port-level setting, or a subset's policy (and its port-level settings).
type policyLoc struct {
	where string // "trafficPolicy", "subsets[0] (\"v1\").trafficPolicy"
	path  []any  // JSON pointer parts of the policy object
	lb    *networking.LoadBalancerSettings
	pool  *networking.ConnectionPoolSettings
	od    *networking.OutlierDetection
	// inherited is outlier detection the policy inherits from the top level.
	inherited *networking.OutlierDetection
}

func trafficPolicies(dr *networking.DestinationRule) []policyLoc {
	var out []policyLoc
	top := dr.GetTrafficPolicy()
	var add func(tp *networking.TrafficPolicy, where string, path []any, inherited *networking.OutlierDetection)
	add = func(tp *networking.TrafficPolicy, where string, path []any, inherited *networking.OutlierDetection) {
		if tp == nil {
			return
		}
		out = append(out, policyLoc{where: where, path: path, lb: tp.GetLoadBalancer(), pool: tp.GetConnectionPool(),
			od: tp.GetOutlierDetection(), inherited: inherited})
		for j, pl := range tp.GetPortLevelSettings() {
			if pl == nil {
				continue
			}
			inh := tp.GetOutlierDetection()
			if inh == nil {
				inh = inherited
			}
			out = append(out, policyLoc{where: fmt.Sprintf("%s.portLevelSettings[%d]", where, j),
				path: append(append([]any{}, path...), "portLevelSettings", j), lb: pl.GetLoadBalancer(),
				pool: pl.GetConnectionPool(), od: pl.GetOutlierDetection(), inherited: inh})
		}
	}
	add(top, "trafficPolicy", []any{"spec", "trafficPolicy"}, nil)
	for i, s := range dr.GetSubsets() {
		add(s.GetTrafficPolicy(), routeName("subsets", i, s.GetName())+".trafficPolicy",
			[]any{"spec", "subsets", i, "trafficPolicy"}, top.GetOutlierDetection())
	}
	return out
}

func (pl policyLoc) sub(parts ...any) string {
	return ptr(append(append([]any{}, pl.path...), parts...)...)
}

func runOutlierDetection(p *analysis.Pass) (any, error) {
	retried := retriedHosts(p.Snapshot)
	for _, dr := range destinationRules(p.Snapshot) {
		for _, pl := range trafficPolicies(dr.Spec) {
			checkOutlier(p, dr, pl)
		}
		checkRetriedWithoutOD(p, dr, retried)
	}
	return nil, nil
}

func checkOutlier(p *analysis.Pass, dr destinationRule, pl policyLoc) {
	od := pl.od
	if od.GetMaxEjectionPercent() == 100 {
		report(p, codes.FullOutlierEjection, dr.Obj,
			fixFor("cap ejection at 50%",
				fmt.Sprintf("Sets maxEjectionPercent of %s in %s to 50: outlier detection can no longer eject every endpoint at once, so half keep serving when a shared dependency fails.",
					pl.where, dr.Obj.Ref()),
				set(dr.Obj, pl.sub("outlierDetection", "maxEjectionPercent"), 50)),
			"%s.outlierDetection.maxEjectionPercent is 100: every endpoint can be ejected at once", pl.where)
	}
	var edits []analysis.Edit
	var fields []string
	for _, f := range []struct {
		name string
		one  bool
	}{
		{"consecutive5xxErrors", od.GetConsecutive_5XxErrors() != nil && od.GetConsecutive_5XxErrors().GetValue() == 1},
		{"consecutiveGatewayErrors", od.GetConsecutiveGatewayErrors() != nil && od.GetConsecutiveGatewayErrors().GetValue() == 1},
		{"consecutiveErrors", od.GetConsecutiveErrors() == 1},
	} {
		if f.one {
			fields = append(fields, f.name)
			edits = append(edits, set(dr.Obj, pl.sub("outlierDetection", f.name), 5))
		}
	}
	if len(fields) > 0 {
		report(p, codes.HairTriggerOutlierDetection, dr.Obj,
			fixFor("require 5 consecutive errors before ejecting",
				fmt.Sprintf("Sets %s of %s in %s to 5: a single transient error no longer ejects a healthy endpoint; one failing 5 times in a row still is.",
					strings.Join(fields, " and "), pl.where, dr.Obj.Ref()), edits...),
			"%s.outlierDetection ejects an endpoint after one error (%s: 1)", pl.where, strings.Join(fields, ", "))
	}
	ls := pl.lb.GetLocalityLbSetting()
	if ls == nil || (ls.GetEnabled() != nil && !ls.GetEnabled().GetValue()) || len(ls.GetDistribute()) > 0 ||
		pl.od != nil || pl.inherited != nil {
		return
	}
	report(p, codes.LocalityFailoverWithoutOutlierDetection, dr.Obj,
		fixFor("add outlier detection", fmt.Sprintf("Adds outlierDetection (%s) to %s of %s: Istio now builds the locality failover priorities it ignored, so traffic fails over to other localities when local endpoints are ejected.",
			defaultODText, pl.where, dr.Obj.Ref()), set(dr.Obj, pl.sub("outlierDetection"), defaultOutlierDetection())),
		"%s.loadBalancer.localityLbSetting configures failover, but the policy has no outlierDetection, so Istio ignores it", pl.where)
}

// checkRetriedWithoutOD reports a DestinationRule of a retried,
// multi-endpoint host that ejects nothing.
func checkRetriedWithoutOD(p *analysis.Pass, dr destinationRule, retried map[string]string) {
	host := dr.Spec.GetHost()
	if host == "" || strings.HasPrefix(host, "*") || hasOutlierDetection(dr.Spec) {
		return
	}
	fqdn := p.Snapshot.FQDN(host, dr.Obj.Namespace())
	route, ok := retried[fqdn]
	if !ok {
		return
	}
	n := endpointCount(p.Snapshot, fqdn)
	if n <= 1 {
		return
	}
	var edit analysis.Edit
	if dr.Spec.GetTrafficPolicy() != nil {
		edit = set(dr.Obj, "/spec/trafficPolicy/outlierDetection", defaultOutlierDetection())
	} else {
		edit = set(dr.Obj, "/spec/trafficPolicy", map[string]any{"outlierDetection": defaultOutlierDetection()})
	}
	report(p, codes.RetriesWithoutOutlierDetection, dr.Obj,
		fixFor("add outlier detection", fmt.Sprintf("Adds outlierDetection (%s) to the traffic policy of %s: an endpoint that fails 5 times in a row is ejected for 30s instead of keeping its share of traffic while retries mask its errors.",
			defaultODText, dr.Obj.Ref()), edit),
		"host %s has about %d endpoints and is retried (%s), but this DestinationRule has no outlierDetection, so a failing endpoint is never ejected",
		host, n, route)
}

// hasOutlierDetection: the top-level policy, or every subset, ejects.
func hasOutlierDetection(dr *networking.DestinationRule) bool {
	if dr.GetTrafficPolicy().GetOutlierDetection() != nil {
		return true
	}
	for _, pl := range dr.GetTrafficPolicy().GetPortLevelSettings() {
		if pl.GetOutlierDetection() != nil {
			return true
		}
	}
	subsets := dr.GetSubsets()
	for _, s := range subsets {
		if s.GetTrafficPolicy().GetOutlierDetection() == nil {
			return false
		}
	}
	return len(subsets) > 0
}

// retriedHosts maps each destination host (FQDN) that a route retries
// explicitly (attempts > 0) to the first such route, for messages.
func retriedHosts(s *mesh.Snapshot) map[string]string {
	out := map[string]string{}
	for _, vs := range virtualServices(s) {
		for i, r := range vs.Spec.GetHttp() {
			if !forwards(r) || r.GetRetries().GetAttempts() <= 0 {
				continue
			}
			for _, rd := range r.GetRoute() {
				h := s.FQDN(rd.GetDestination().GetHost(), vs.Obj.Namespace())
				if _, seen := out[h]; !seen && h != "" {
					out[h] = fmt.Sprintf("%s %s", vs.Obj.Ref(), routeName("http", i, r.GetName()))
				}
			}
		}
	}
	return out
}

func runConnectionPool(p *analysis.Pass) (any, error) {
	for _, dr := range destinationRules(p.Snapshot) {
		for _, pl := range trafficPolicies(dr.Spec) {
			checkPool(p, dr, pl)
		}
	}
	return nil, nil
}

func checkPool(p *analysis.Pass, dr destinationRule, pl policyLoc) {
	tcp, http := pl.pool.GetTcp(), pl.pool.GetHttp()
	var fields []string
	var edits []analysis.Edit
	add := func(cond bool, name string, path ...any) {
		if cond {
			fields = append(fields, name+": 1")
			edits = append(edits, del(dr.Obj, pl.sub(append([]any{"connectionPool"}, path...)...)))
		}
	}
	add(tcp.GetMaxConnections() == 1, "tcp.maxConnections", "tcp", "maxConnections")
	add(http.GetHttp1MaxPendingRequests() == 1, "http.http1MaxPendingRequests", "http", "http1MaxPendingRequests")
	if len(fields) == 0 {
		return
	}
	add(http.GetMaxRequestsPerConnection() == 1, "http.maxRequestsPerConnection", "http", "maxRequestsPerConnection")
	list := strings.Join(fields, ", ")
	report(p, codes.TutorialConnectionPool, dr.Obj,
		fixFor("remove the tutorial connection limits",
			fmt.Sprintf("Removes %s from %s of %s: Istio's defaults apply again, so concurrent callers are no longer rejected with 503 once a single request is in flight.",
				list, pl.where, dr.Obj.Ref()), edits...),
		"%s.connectionPool keeps the circuit-breaking tutorial's limits (%s): about one request at a time gets through and the rest fail with 503",
		pl.where, list)
}

// report files a finding with fixes.
func report(p *analysis.Pass, code *analysis.Code, o *mesh.Object, fixes []analysis.Fix, format string, args ...any) {
	f := analysis.NewFinding(code, o, fmt.Sprintf(format, args...))
	if fixes != nil {
		f.Fixes = fixes
	}
	p.Report(f)
}
