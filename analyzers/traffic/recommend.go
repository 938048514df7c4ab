package traffic

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/analyzers/resilience"
	"github.com/meshpilot/meshpilot/telemetry"
)

// Recommend derives timeouts, retries, outlier detection and connection
// pools from the observed traffic (MP6101–MP6104), each as an Info finding
// whose fix carries the settings, the evidence and the expected effect.
var Recommend = &analysis.Analyzer{
	Name: "traffic.Recommend",
	Doc: "resilience settings from observed traffic\n\n" +
		"Derives route timeouts from the latency quantiles, retries from the failure kinds and call chains, " +
		"outlier detection from the failure rate and endpoint count, and connection pools from Little's law; " +
		"the formulas are on each code (meshpilot explain MP6101).",
	Codes:     []*analysis.Code{codes.RecommendedTimeout, codes.RecommendedRetries, codes.RecommendedOutlierDetection, codes.RecommendedConnectionPool},
	Telemetry: true,
	Requires:  []*analysis.Analyzer{Index},
	Run: func(p *analysis.Pass) (any, error) {
		ix := indexOf(p)
		if ix == nil {
			return nil, nil
		}
		c := ix.chains()
		for _, rt := range ix.routes() {
			recommendRoute(p, ix, c, rt)
		}
		for _, h := range sortedHosts(ix) {
			recommendOutlier(p, ix, h)
			recommendPool(p, ix, h)
		}
		return nil, nil
	},
}

// evidence is what a recommendation about a host rests on.
func evidence(ix *index, h string, st *telemetry.ServiceTraffic) string {
	p50, _ := st.Latency.Quantile(0.5)
	p99, _ := st.Latency.Quantile(0.99)
	return fmt.Sprintf("%s requests to %s over %s (%.2f req/s), p50 %s, p99 %s, 5xx %s",
		count(st.Requests), h, window(ix.g.Window()), ix.g.Rate(st.Requests), ms(p50), ms(p99), pct(serverErrors(st)))
}

// routeHost is the first destination of a route with enough latency data
// for quantile q.
func routeHost(ix *index, rt route, q float64) (string, *telemetry.ServiceTraffic) {
	for _, h := range rt.hosts {
		if st := ix.host(h); st != nil && st.Latency.Count() >= enoughFor(q) {
			return h, st
		}
	}
	return "", nil
}

func recommendRoute(p *analysis.Pass, ix *index, c *chains, rt route) {
	class, from := resilience.RouteClass(ix.snap, rt.vs.Obj, rt.r)
	if class.Name == "streaming" {
		return
	}
	q := highQuantile(class)
	h, st := routeHost(ix, rt, q)
	if st == nil {
		return
	}
	obs, _ := st.Latency.Quantile(q)
	rec := recommendedTimeout(obs, class)
	cur := rt.r.GetTimeout().AsDuration()
	ref := rt.vs.Obj.Ref().String()
	timeoutPath := resilience.Ptr("spec", "http", rt.i, "timeout")
	if rt.r.GetTimeout() == nil || math.Abs(float64(rec-cur)) > 0.25*float64(cur) {
		was := "no timeout"
		if rt.r.GetTimeout() != nil {
			was = "a timeout of " + resilience.DurValue(cur)
		}
		f := analysis.NewFinding(codes.RecommendedTimeout, rt.vs.Obj, fmt.Sprintf(
			"%s: a %s timeout fits the observed latency (%s %s × %.1f, %s); it has %s",
			rt.label(), resilience.DurValue(rec), quantileName(q), ms(obs), timeoutMargin, from, was))
		f.Fixes = []analysis.Fix{{
			Message: "set a " + resilience.DurValue(rec) + " timeout",
			Explanation: fmt.Sprintf("Sets the timeout of %s of %s to %s. Evidence: %s. The observed %s is %s; with the %.1f× margin about %s of requests would exceed the timeout, and they fail with 504 after %s instead of holding the caller for longer.",
				rt.label(), ref, resilience.DurValue(rec), evidence(ix, h, st), quantileName(q), ms(obs), timeoutMargin, pct(st.Latency.Above(durMS(rec))), resilience.DurValue(rec)),
			Edits: []analysis.Edit{{Resource: ref, Path: timeoutPath, Value: resilience.DurValue(rec)}},
		}}
		p.Report(f)
	}
	if st.Latency.Count() < enoughFor(0.99) {
		return
	}
	recommendRetries(p, ix, c, rt, h, st, rec, cur)
}

func recommendRetries(p *analysis.Pass, ix *index, c *chains, rt route, h string, st *telemetry.ServiceTraffic, recTimeout, cur time.Duration) {
	p90, _ := st.Latency.Quantile(0.9)
	// Retries are fitted to the recommended timeout (MP6101), which is
	// proposed beside them whenever the current one differs.
	timeout := recTimeout
	others := c.below(h, map[string]bool{}).product * c.above(h)
	attempts, perTry := recommendedRetries(timeout, p90, others)
	retryOn := retryOnFor(st)
	curAttempts, curPer, explicit := resilience.RouteRetries(rt.r)
	same := explicit && int(curAttempts) == attempts &&
		(attempts == 0 || rt.r.GetRetries().GetRetryOn() == retryOn && math.Abs(float64(curPer-perTry)) <= 0.25*float64(perTry))
	if same {
		return
	}
	ref := rt.vs.Obj.Ref().String()
	value := map[string]any{"attempts": attempts}
	if attempts > 0 {
		value["perTryTimeout"] = resilience.DurValue(perTry)
		value["retryOn"] = retryOn
	}
	edits := []analysis.Edit{{Resource: ref, Path: resilience.Ptr("spec", "http", rt.i, "retries"), Value: value}}
	fits := ""
	if rt.r.GetTimeout() == nil || cur != timeout {
		edits = append(edits, analysis.Edit{Resource: ref, Path: resilience.Ptr("spec", "http", rt.i, "timeout"), Value: resilience.DurValue(timeout)})
		fits = " and a " + resilience.DurValue(timeout) + " timeout they fit in"
	}
	desc := fmt.Sprintf("attempts %d", attempts)
	if attempts > 0 {
		desc += fmt.Sprintf(", perTryTimeout %s, retryOn %s", resilience.DurValue(perTry), retryOn)
	}
	f := analysis.NewFinding(codes.RecommendedRetries, rt.vs.Obj, fmt.Sprintf(
		"%s: retries %s fit the observed traffic to %s (p90 %s; other hops of its call chains multiply tries by %d)",
		rt.label(), desc, shortHost(h), ms(p90), others))
	f.Fixes = []analysis.Fix{{
		Message: "set retries " + desc + fits,
		Explanation: fmt.Sprintf("Sets the retries of %s of %s to %s. Evidence: %s. (attempts + 1) × perTryTimeout = %s fits the %s timeout, and the product of tries along the observed chains through this hop stays at %d or below (now %d).%s",
			rt.label(), ref, desc, evidence(ix, h, st), resilience.DurValue(time.Duration(attempts+1)*perTry), resilience.DurValue(timeout), maxAmplification, others*(attempts+1), retryOnReason(st)),
		Edits: edits,
	}}
	p.Report(f)
}

// retryOnFor picks retry conditions from the observed failure kinds.
func retryOnFor(st *telemetry.ServiceTraffic) string {
	on := []string{"connect-failure", "refused-stream", "unavailable"}
	if resets(st) > 0.0001*st.Requests {
		on = append(on, "reset")
	}
	overall := serverErrors(st)
	if s := shapeOf(st.Profile, overall); overall > 0 && spiky(s) && !deterministic(overall, s) {
		on = append(on, "gateway-error")
	}
	return strings.Join(on, ",")
}

func resets(st *telemetry.ServiceTraffic) float64 {
	return st.Flags["UF"] + st.Flags["URX"] + st.Flags["UC"] + st.Flags["UR"]
}

func retryOnReason(st *telemetry.ServiceTraffic) string {
	var b strings.Builder
	if r := resets(st); r > 0.0001*st.Requests {
		fmt.Fprintf(&b, " %s connection failures or resets were seen (UF, URX, UC, UR), so reset is retried.", count(r))
	}
	overall := serverErrors(st)
	s := shapeOf(st.Profile, overall)
	switch {
	case overall > 0 && deterministic(overall, s):
		b.WriteString(" Its 5xx are steady, so they are not retried.")
	case overall > 0 && spiky(s):
		b.WriteString(" Its 5xx come in spikes, so gateway errors are retried.")
	}
	return b.String()
}

// above is the worst product of tries of the hops leading to a caller of
// h: the tries of the hosts its callers serve, and so on up. A host
// already on the way up ends it (a cycle).
func (c *chains) above(h string) int {
	return c.up(h, map[string]bool{h: true})
}

func (c *chains) up(h string, onPath map[string]bool) int {
	if v, ok := c.upMemo[h]; ok {
		return v
	}
	best := 1
	cyclic := false
	for _, w := range c.callers[h] {
		for _, x := range c.serves[w] {
			if onPath[x] {
				cyclic = true
				continue
			}
			onPath[x] = true
			if v := c.triesOf(x) * c.up(x, onPath); v > best {
				best = v
			}
			delete(onPath, x)
		}
	}
	if !cyclic {
		// A result cut short by a cycle depends on the path that led
		// here; only the others are kept.
		c.upMemo[h] = best
	}
	return best
}

func recommendOutlier(p *analysis.Pass, ix *index, h string) {
	st := ix.host(h)
	drs := ix.destinationRules(h)
	if st.Requests < minRequests || len(drs) == 0 {
		return
	}
	for _, dr := range drs {
		if resilience.HasOutlierDetection(dr.Spec) {
			return
		}
	}
	dr := drs[0]
	e := resilience.EndpointCount(ix.snap, h)
	if e < 1 {
		e = 1
	}
	perEndpoint := ix.g.Rate(st.Requests) / float64(e)
	interval := 30 * time.Second
	if perEndpoint >= 1 {
		interval = 10 * time.Second
	}
	overall := serverErrors(st)
	shape := shapeOf(st.Profile, overall)
	base := shape.base
	if shape.steps == 0 {
		base = overall
	}
	k := consecutive5xx(base, perEndpoint*interval.Seconds())
	mep := maxEjectionPercent(e)
	value := map[string]any{"consecutive5xxErrors": k, "interval": resilience.DurValue(interval), "baseEjectionTime": "30s", "maxEjectionPercent": mep}
	ref := dr.Obj.Ref().String()
	f := analysis.NewFinding(codes.RecommendedOutlierDetection, dr.Obj, fmt.Sprintf(
		"outlier detection for %s: consecutive5xxErrors %d, interval %s, baseEjectionTime 30s, maxEjectionPercent %d (baseline 5xx %s, %d endpoints, %.2f req/s each)",
		shortHost(h), k, resilience.DurValue(interval), mep, pct(base), e, perEndpoint))
	f.Fixes = []analysis.Fix{{
		Message: fmt.Sprintf("eject endpoints after %d consecutive 5xx", k),
		Explanation: fmt.Sprintf("Adds outlierDetection to %s. Evidence: %s, %d endpoints. At the baseline 5xx ratio of %s a healthy endpoint serving %.1f requests per %s interval returns %d errors in a row less than once in a hundred intervals, so only an endpoint that really fails is ejected, for 30s at first; at most %d%% of the endpoints (a third, at least one) are ejected at once.",
			ref, evidence(ix, h, st), e, pct(base), perEndpoint*interval.Seconds(), resilience.DurValue(interval), k, mep),
		Edits: []analysis.Edit{{Resource: ref, Path: "/spec/trafficPolicy/outlierDetection", Value: value}},
	}}
	p.Report(f)
}

func recommendPool(p *analysis.Pass, ix *index, h string) {
	st := ix.host(h)
	p99, ok := st.Latency.Quantile(0.99)
	if !ok || st.Latency.Count() < enoughFor(0.99) {
		return
	}
	peak := peakRate(st.Profile, ix.g.Rate(st.Requests))
	limit := poolLimit(peak, p99)
	uo := st.Flags["UO"]
	for _, dr := range ix.destinationRules(h) {
		cp := dr.Spec.GetTrafficPolicy().GetConnectionPool()
		tight := false
		for _, v := range []int32{cp.GetTcp().GetMaxConnections(), cp.GetHttp().GetHttp1MaxPendingRequests(), cp.GetHttp().GetHttp2MaxRequests()} {
			tight = tight || (v > 0 && int(v) < limit)
		}
		if mrpc := cp.GetHttp().GetMaxRequestsPerConnection(); mrpc == 1 && uo > 0 {
			tight = true
		}
		if !tight && uo < 10 {
			continue
		}
		ref := dr.Obj.Ref().String()
		edits := []analysis.Edit{
			{Resource: ref, Path: "/spec/trafficPolicy/connectionPool/tcp/maxConnections", Value: limit},
			{Resource: ref, Path: "/spec/trafficPolicy/connectionPool/http/http1MaxPendingRequests", Value: limit},
			{Resource: ref, Path: "/spec/trafficPolicy/connectionPool/http/http2MaxRequests", Value: limit},
		}
		if cp.GetHttp().GetMaxRequestsPerConnection() == 1 {
			edits = append(edits, analysis.Edit{Resource: ref, Path: "/spec/trafficPolicy/connectionPool/http/maxRequestsPerConnection", Delete: true})
		}
		l := peak * p99 / 1000
		f := analysis.NewFinding(codes.RecommendedConnectionPool, dr.Obj, fmt.Sprintf(
			"connection pool for %s: %d (Little's law: peak %.1f req/s × p99 %s = %.1f in flight, doubled); in force: %s",
			shortHost(h), limit, peak, ms(p99), l, describePool(cp)))
		f.Fixes = []analysis.Fix{{
			Message: fmt.Sprintf("allow %d requests and connections in flight", limit),
			Explanation: fmt.Sprintf("Sets maxConnections, http1MaxPendingRequests and http2MaxRequests of %s to %d. Evidence: %s, peak %.1f req/s, %s requests rejected with UO. By Little's law %.1f req/s that each take up to %s keep %.1f requests in flight; twice that leaves headroom for bursts, so the pool stops rejecting healthy traffic while still capping a runaway caller.",
				ref, limit, evidence(ix, h, st), peak, count(uo), peak, ms(p99), l),
			Edits: edits,
		}}
		p.Report(f)
		return
	}
}
