package traffic

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	securityv1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/analyzers/resilience"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/telemetry"
)

func newAnalyzer(name, doc string, code *analysis.Code, run func(*analysis.Pass, *index)) *analysis.Analyzer {
	return &analysis.Analyzer{Name: name, Doc: doc, Codes: []*analysis.Code{code}, Telemetry: true,
		Requires: []*analysis.Analyzer{Index},
		Run: func(p *analysis.Pass) (any, error) {
			if ix := indexOf(p); ix != nil {
				run(p, ix)
			}
			return nil, nil
		}}
}

// TimeoutBelowLatency reports route timeouts below the observed latency.
var TimeoutBelowLatency = newAnalyzer("traffic.TimeoutBelowLatency",
	"route timeouts below observed latency\n\nCompares each route timeout with the observed p99 (p99.9 for batch) of its destinations, and with the share of requests its callers' proxies cut with UT (upstream timeout).",
	codes.TimeoutBelowLatency, runTimeoutBelowLatency)

func runTimeoutBelowLatency(p *analysis.Pass, ix *index) {
	for _, rt := range ix.routes() {
		timeout := rt.r.GetTimeout()
		if timeout == nil || timeout.AsDuration() <= 0 {
			continue
		}
		class, from := resilience.RouteClass(ix.snap, rt.vs.Obj, rt.r)
		if class.Name == "streaming" {
			continue
		}
		q := highQuantile(class)
		t := timeout.AsDuration()
		for _, h := range rt.hosts {
			st := ix.host(h)
			if st == nil || st.Requests < minRequests {
				continue
			}
			obs, ok := st.Latency.Quantile(q)
			cut := st.Flags["UT"]
			slow := ok && st.Latency.Count() >= enoughFor(q) && durMS(t) < obs
			timedOut := cut >= 10 && cut/st.Requests > 1-q
			if !slow && !timedOut {
				continue
			}
			var msg string
			if slow {
				msg = fmt.Sprintf("%s timeout %s is below the observed %s of %s for %s (%s requests over %s, %s): about %s of its requests take longer and are cut with 504",
					rt.label(), resilience.DurValue(t), quantileName(q), ms(obs), h, count(st.Requests), window(ix.g.Window()), from, pct(st.Latency.Above(durMS(t))))
			} else {
				msg = fmt.Sprintf("%s timeout %s cut %s of the %s requests to %s over %s (response flag UT), more than the %s the %s allows (%s)",
					rt.label(), resilience.DurValue(t), count(cut), count(st.Requests), h, window(ix.g.Window()), pct(1-q), quantileName(q), from)
			}
			f := analysis.NewFinding(codes.TimeoutBelowLatency, rt.vs.Obj, msg)
			if ok {
				rec := recommendedTimeout(obs, class)
				if rec > t {
					f.Fixes = []analysis.Fix{{
						Message:     "set a " + resilience.DurValue(rec) + " timeout",
						Explanation: fmt.Sprintf("Raises the timeout of %s of %s from %s to %s: the observed %s of %s (%s) times %.1f, rounded up. Requests slower than %s now complete instead of failing with 504.", rt.label(), rt.vs.Obj.Ref(), resilience.DurValue(t), resilience.DurValue(rec), quantileName(q), h, ms(obs), timeoutMargin, ms(obs)),
						Edits:       []analysis.Edit{{Resource: rt.vs.Obj.Ref().String(), Path: resilience.Ptr("spec", "http", rt.i, "timeout"), Value: resilience.DurValue(rec)}},
					}}
				}
			}
			p.Report(f)
			break
		}
	}
}

// RetriesOnDeterministicFailures reports 5xx retries into steadily failing
// destinations.
var RetriesOnDeterministicFailures = newAnalyzer("traffic.RetriesOnDeterministicFailures",
	"retries on deterministic failures\n\nReports routes that retry on 5xx to destinations whose 5xx ratio is high and flat over the window.",
	codes.RetriesOnDeterministicFailures, runRetriesOnDeterministic)

// retries5xx reports whether a retryOn value retries server errors; an
// empty one is Istio's default, which retries 503.
func retries5xx(retryOn string) bool {
	if strings.TrimSpace(retryOn) == "" {
		return true
	}
	for _, c := range strings.Split(retryOn, ",") {
		switch c = strings.TrimSpace(c); {
		case c == "5xx", c == "gateway-error", c == "retriable-status-codes", strings.HasPrefix(c, "5"):
			return true
		}
	}
	return false
}

// safeRetryOn keeps the conditions of retryOn that fire before a request
// reaches the service.
func safeRetryOn(retryOn string) string {
	keep := []string{}
	for _, c := range strings.Split(retryOn, ",") {
		switch c = strings.TrimSpace(c); c {
		case "connect-failure", "refused-stream", "unavailable", "cancelled", "reset", "retriable-headers", "deadline-exceeded", "resource-exhausted":
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return "connect-failure,refused-stream,unavailable"
	}
	return strings.Join(keep, ",")
}

// serverErrors is the 5xx ratio the destination itself produced: the
// client-side overflow 503s (UO) are the caller's.
func serverErrors(st *telemetry.ServiceTraffic) float64 {
	if st.Requests == 0 {
		return 0
	}
	n := st.Count(5) - st.Flags["UO"]
	if n < 0 {
		n = 0
	}
	return n / st.Requests
}

func runRetriesOnDeterministic(p *analysis.Pass, ix *index) {
	for _, rt := range ix.routes() {
		attempts, _, explicit := resilience.RouteRetries(rt.r)
		if !explicit || attempts <= 0 || !retries5xx(rt.r.GetRetries().GetRetryOn()) {
			continue
		}
		for _, h := range rt.hosts {
			st := ix.host(h)
			if st == nil || st.Requests < minRequests {
				continue
			}
			overall := serverErrors(st)
			shape := shapeOf(st.Profile, overall)
			if !deterministic(overall, shape) {
				continue
			}
			steady := ""
			if shape.steps > 0 {
				steady = fmt.Sprintf(", steady in %.0f%% of the %d steps with traffic", shape.present*100, shape.steps)
			}
			f := analysis.NewFinding(codes.RetriesOnDeterministicFailures, rt.vs.Obj, fmt.Sprintf(
				"%s retries server errors (attempts %d, retryOn %q) to %s, whose 5xx ratio was %s over %s%s: failures that steady fail again when retried, so each retry adds load to a failing service",
				rt.label(), attempts, rt.r.GetRetries().GetRetryOn(), h, pct(overall), window(ix.g.Window()), steady))
			safe := safeRetryOn(rt.r.GetRetries().GetRetryOn())
			f.Fixes = []analysis.Fix{{
				Message:     "retry only on " + safe,
				Explanation: fmt.Sprintf("Sets retryOn of %s of %s to %q: requests are still retried when the connection fails before reaching %s, but no longer when it answers with an error, which it did for %s of requests.", rt.label(), rt.vs.Obj.Ref(), safe, h, pct(overall)),
				Edits:       []analysis.Edit{{Resource: rt.vs.Obj.Ref().String(), Path: resilience.Ptr("spec", "http", rt.i, "retries", "retryOn"), Value: safe}},
			}}
			p.Report(f)
			break
		}
	}
}

// PoolOverflow reports destinations whose callers overflowed the pool.
var PoolOverflow = newAnalyzer("traffic.PoolOverflow",
	"connection pool overflows\n\nReports destinations whose callers' proxies rejected requests with UO (upstream overflow).",
	codes.PoolOverflow, runPoolOverflow)

func runPoolOverflow(p *analysis.Pass, ix *index) {
	for _, h := range sortedHosts(ix) {
		st := ix.host(h)
		uo := st.Flags["UO"]
		if uo < 10 || uo < 0.001*st.Requests {
			continue
		}
		target, limits := ix.poolOwner(h)
		if target == nil {
			continue
		}
		p.Report(analysis.NewFinding(codes.PoolOverflow, target, fmt.Sprintf(
			"%s of the %s requests to %s over %s (%s) were rejected by the callers' proxies with 503 UO (connection pool full)%s",
			count(uo), count(st.Requests), h, window(ix.g.Window()), pct(uo/st.Requests), limits)))
	}
}

// sortedHosts lists the hosts with traffic, sorted (once, by Index).
func sortedHosts(ix *index) []string { return ix.hosts }

// poolOwner is the object that sets the pool of a host — its
// DestinationRule with a connectionPool, else any DestinationRule of it,
// else its Service — and a description of the limits in force.
func (ix *index) poolOwner(h string) (*mesh.Object, string) {
	drs := ix.destinationRules(h)
	for _, dr := range drs {
		if cp := dr.Spec.GetTrafficPolicy().GetConnectionPool(); cp != nil {
			return dr.Obj, "; limits in force: " + describePool(cp)
		}
	}
	if len(drs) > 0 {
		return drs[0].Obj, "; its DestinationRule sets no connectionPool, so a subset or port-level pool is in force"
	}
	return ix.service(h), "; no DestinationRule sets its pool"
}

func describePool(cp *networking.ConnectionPoolSettings) string {
	var parts []string
	if v := cp.GetTcp().GetMaxConnections(); v > 0 {
		parts = append(parts, fmt.Sprintf("tcp.maxConnections %d", v))
	}
	if v := cp.GetHttp().GetHttp1MaxPendingRequests(); v > 0 {
		parts = append(parts, fmt.Sprintf("http.http1MaxPendingRequests %d", v))
	}
	if v := cp.GetHttp().GetHttp2MaxRequests(); v > 0 {
		parts = append(parts, fmt.Sprintf("http.http2MaxRequests %d", v))
	}
	if v := cp.GetHttp().GetMaxRequestsPerConnection(); v > 0 {
		parts = append(parts, fmt.Sprintf("http.maxRequestsPerConnection %d", v))
	}
	if len(parts) == 0 {
		return "Istio's defaults"
	}
	return strings.Join(parts, ", ")
}

// ErrorSpikes reports spiking destinations without outlier detection.
var ErrorSpikes = newAnalyzer("traffic.ErrorSpikes",
	"error spikes without outlier detection\n\nReports destinations whose 5xx ratio spiked during the window while no DestinationRule ejects failing endpoints.",
	codes.ErrorSpikesWithoutOutlierDetection, runErrorSpikes)

func runErrorSpikes(p *analysis.Pass, ix *index) {
	for _, h := range sortedHosts(ix) {
		st := ix.host(h)
		if st.Requests < minRequests || st.Profile == nil {
			continue
		}
		overall := serverErrors(st)
		shape := shapeOf(st.Profile, overall)
		if !spiky(shape) || deterministic(overall, shape) {
			continue
		}
		drs := ix.destinationRules(h)
		protected := false
		for _, dr := range drs {
			protected = protected || resilience.HasOutlierDetection(dr.Spec)
		}
		if protected {
			continue
		}
		target := ix.service(h)
		what := "no DestinationRule for it sets outlierDetection"
		if len(drs) > 0 {
			target, what = drs[0].Obj, "its DestinationRule sets no outlierDetection"
		}
		if target == nil {
			continue
		}
		p.Report(analysis.NewFinding(codes.ErrorSpikesWithoutOutlierDetection, target, fmt.Sprintf(
			"the 5xx ratio of %s spiked to %s (%d of %d steps at 10%% or more, against a baseline of %s) over %s, and %s: one bad endpoint's errors reach every caller",
			h, pct(shape.peak), shape.spikes, shape.steps, pct(shape.base), window(ix.g.Window()), what)))
	}
}

// PlaintextIntoStrict reports plaintext traffic into STRICT namespaces.
var PlaintextIntoStrict = newAnalyzer("traffic.PlaintextIntoStrict",
	"plaintext traffic into STRICT namespaces\n\nReports plaintext requests and connections observed into workloads of namespaces whose PeerAuthentication is STRICT, on the exception that let them in.",
	codes.PlaintextIntoStrict, runPlaintextIntoStrict)

type peerAuth = mesh.Typed[*securityv1.PeerAuthentication]

func runPlaintextIntoStrict(p *analysis.Pass, ix *index) {
	pas := mesh.ListOf[*securityv1.PeerAuthentication](ix.snap, mesh.PeerAuthentication)
	type hit struct {
		plain   float64
		callers map[string]bool
		into    map[string]bool
	}
	hits := map[*mesh.Object]*hit{}
	var order []*mesh.Object
	for _, e := range ix.g.Edges {
		plain := e.Security[telemetry.None]
		if plain <= 0 || !e.Destination.Known() || !strictIntent(pas, ix.snap.RootNamespace(), e.Destination.Namespace) {
			continue
		}
		// Without an exception, plaintext reaching a STRICT workload means
		// it has no sidecar enforcing the policy, or the caller is outside
		// the mesh (TrafficFromOutsideMesh): no PeerAuthentication is at
		// fault.
		target := exception(pas, e.Destination.Namespace, ix.workload(e.Destination))
		if target == nil {
			continue
		}
		h := hits[target]
		if h == nil {
			h = &hit{callers: map[string]bool{}, into: map[string]bool{}}
			hits[target] = h
			order = append(order, target)
		}
		h.plain += plain
		h.callers[e.Source.String()] = true
		h.into[e.Destination.String()] = true
	}
	for _, o := range order {
		h := hits[o]
		p.Report(analysis.NewFinding(codes.PlaintextIntoStrict, o, fmt.Sprintf(
			"%s plaintext requests or connections reached %s over %s from %s, in a namespace whose PeerAuthentication is STRICT; this exception lets them in",
			count(h.plain), strings.Join(sortedStrings(h.into), ", "), window(ix.g.Window()), strings.Join(sortedStrings(h.callers), ", "))))
	}
}

// strictIntent: the namespace's own namespace-wide policy is STRICT, or it
// has none and the mesh-wide one is.
func strictIntent(pas []peerAuth, root, ns string) bool {
	mode := func(namespace string) (securityv1.PeerAuthentication_MutualTLS_Mode, bool) {
		for _, pa := range pas {
			if pa.Obj.Namespace() == namespace && len(pa.Spec.GetSelector().GetMatchLabels()) == 0 && pa.Spec.GetMtls() != nil {
				return pa.Spec.GetMtls().GetMode(), true
			}
		}
		return 0, false
	}
	if m, ok := mode(ns); ok && m != securityv1.PeerAuthentication_MutualTLS_UNSET {
		return m == securityv1.PeerAuthentication_MutualTLS_STRICT
	}
	m, ok := mode(root)
	return ok && m == securityv1.PeerAuthentication_MutualTLS_STRICT
}

// exception finds the workload-level PeerAuthentication that relaxes mTLS
// for a workload (its mode or a port's is PERMISSIVE or DISABLE).
func exception(pas []peerAuth, ns string, w *mesh.Workload) *mesh.Object {
	if w == nil {
		return nil
	}
	relaxed := func(m securityv1.PeerAuthentication_MutualTLS_Mode) bool {
		return m == securityv1.PeerAuthentication_MutualTLS_PERMISSIVE || m == securityv1.PeerAuthentication_MutualTLS_DISABLE
	}
	for _, pa := range pas {
		sel := pa.Spec.GetSelector().GetMatchLabels()
		if pa.Obj.Namespace() != ns || len(sel) == 0 || !mesh.MatchLabels(sel, w.Labels) {
			continue
		}
		if relaxed(pa.Spec.GetMtls().GetMode()) {
			return pa.Obj
		}
		for _, pm := range pa.Spec.GetPortLevelMtls() {
			if relaxed(pm.GetMode()) {
				return pa.Obj
			}
		}
	}
	return nil
}

// NoTrafficToSubset reports DestinationRule subsets no request reached.
var NoTrafficToSubset = newAnalyzer("traffic.NoTrafficToSubset",
	"subsets without traffic\n\nReports DestinationRule subsets whose workloads received none of their service's requests during the window.",
	codes.NoTrafficToSubset, runNoTrafficToSubset)

func runNoTrafficToSubset(p *analysis.Pass, ix *index) {
	for _, dr := range mesh.ListOf[*networking.DestinationRule](ix.snap, mesh.DestinationRule) {
		h := ix.snap.FQDN(dr.Spec.GetHost(), dr.Obj.Namespace())
		st := ix.host(h)
		svc := ix.service(h)
		if st == nil || st.Requests < minRequests || svc == nil {
			continue
		}
		served := map[*mesh.Workload]bool{}
		for _, e := range st.Edges {
			if mw := ix.workload(e.Destination); mw != nil && (e.Requests > 0 || e.TCP.ConnectionsOpened > 0) {
				served[mw] = true
			}
		}
		if len(served) == 0 {
			continue // the reporter could not tell which workload served
		}
		var idle []string
		for _, ss := range dr.Spec.GetSubsets() {
			if len(ss.GetLabels()) == 0 {
				continue
			}
			ws := ix.snap.SelectWorkloads(svc.Namespace(), subsetSelector(svc, ss.GetLabels()))
			if len(ws) == 0 {
				continue
			}
			used := false
			names := []string{}
			for _, w := range ws {
				used = used || served[w]
				names = append(names, w.Object.Name())
			}
			if !used {
				idle = append(idle, fmt.Sprintf("%s (%s)", ss.GetName(), strings.Join(names, ", ")))
			}
		}
		if len(idle) == 0 {
			continue
		}
		p.Report(analysis.NewFinding(codes.NoTrafficToSubset, dr.Obj, fmt.Sprintf(
			"subset %s received none of the %s requests to %s over %s",
			strings.Join(idle, ", subset "), count(st.Requests), h, window(ix.g.Window()))))
	}
}

// TrafficFromOutsideMesh reports services reached directly from outside
// the mesh.
var TrafficFromOutsideMesh = newAnalyzer("traffic.TrafficFromOutsideMesh",
	"traffic from outside the mesh\n\nReports services that callers without a sidecar reached directly, not through a gateway.",
	codes.TrafficFromOutsideMesh, runTrafficFromOutside)

func runTrafficFromOutside(p *analysis.Pass, ix *index) {
	for _, h := range sortedHosts(ix) {
		st := ix.host(h)
		var outside float64
		for _, e := range st.Edges {
			if e.Source.Known() || isGateway(ix.workload(e.Destination)) {
				continue
			}
			outside += e.Requests + e.TCP.ConnectionsOpened
		}
		svc := ix.service(h)
		if outside == 0 || svc == nil || svc.GroupKind != mesh.Service || servesGateway(ix, svc) {
			continue
		}
		total := st.Requests + st.TCP.ConnectionsOpened
		p.Report(analysis.NewFinding(codes.TrafficFromOutsideMesh, svc, fmt.Sprintf(
			"%s of the %s requests or connections to %s over %s (%s) came from callers outside the mesh, not through a gateway",
			count(outside), count(total), h, window(ix.g.Window()), pct(outside/total))))
	}
}

// servesGateway reports whether a Service selects gateway workloads.
func servesGateway(ix *index, svc *mesh.Object) bool {
	k, ok := svc.Obj.(*corev1.Service)
	if !ok || k == nil || len(k.Spec.Selector) == 0 {
		return false
	}
	for _, w := range ix.snap.SelectWorkloads(svc.Namespace(), k.Spec.Selector) {
		if isGateway(w) {
			return true
		}
	}
	return false
}

// subsetSelector is what a subset selects: its labels and those of the
// Service's selector, together.
func subsetSelector(svc *mesh.Object, labels map[string]string) map[string]string {
	out := map[string]string{}
	if k, ok := svc.Obj.(*corev1.Service); ok && k != nil {
		for key, v := range k.Spec.Selector {
			out[key] = v
		}
	}
	for key, v := range labels {
		out[key] = v
	}
	return out
}
