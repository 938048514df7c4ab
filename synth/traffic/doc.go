// Package traffic generates a deterministic synthetic mesh together with
// the Istio telemetry it would produce, with planted defects whose
// telemetry findings are known: the ground truth for meshpilot's
// telemetry-driven checks and for benchmarks at 10,000 services.
//
// # Mesh
//
// Services are spread over namespaces team-000, team-001, ... (PerNamespace
// each), named svc-00000, svc-00001, ... in order. Every namespace is
// labelled istio-injection=enabled and has a PeerAuthentication "default"
// with mode STRICT. Every service has a ServiceAccount, a Service (port 8080
// named http, or tcp for the few TCP services), a Deployment <svc>-v1
// (labels app=<svc>, version=v1) and for some a <svc>-v2, a VirtualService
// and a DestinationRule with outlier detection and a generous connection
// pool. istio-system holds the ingress gateway: Deployment and Service
// istio-ingressgateway (labels istio=ingressgateway), and its ServiceAccount.
//
// # Topology
//
// In each namespace the first service is the entry: a Gateway <ns>-gateway
// exposes it as <ns>.example.com through its VirtualService, and all of its
// traffic comes from the istio-ingressgateway workload. The other services
// are mids (the first third), called by the entry, and leaves, called by one
// to three of the entry and the mids; one leaf in five is also called by the
// entry or a mid of another namespace. Leaves call nothing, so no call path
// is longer than three hops: gateway → entry → mid → leaf. In every second
// namespace one healthy leaf speaks plain TCP.
//
// # Retries
//
// A call path of n hops multiplies the tries of the n called services'
// VirtualServices (1 + retries.attempts each). Healthy services keep every
// product at 10 or below:
//   - entries retry once (attempts 1): the gateway's hop is already in front;
//   - any other service retries twice (attempts 2) when no call path through
//     it is longer than two hops, and once otherwise;
//   - TCP routes do not retry.
//
// A path of at most two hops multiplies at most 3×3 = 9 tries; on a path of
// three hops every service has a longer path through it, so 2×2×2 = 8; no
// path is longer. The deterministic-failure defect (4 tries) is placed on a
// leaf called only by its namespace's entry (2×4 = 8); only the
// retry-amplification defect exceeds 10. Every healthy route's per-try
// timeout is 2× the true p99.9 latency rounded up to 10ms, and its timeout is
// the tries times the per-try timeout, so tries always fit.
//
// # Telemetry
//
// WriteOpenMetrics streams the Window before End, one sample per Scrape, of
// istio_requests_total, istio_request_duration_milliseconds (Istio's
// default buckets, telemetry.DefaultBuckets) and, for TCP services, the four
// istio_tcp_* counters, with the labels of Istio's standard metrics. Every
// call between two proxies is reported twice with identical counts
// (reporter="source" and "destination"); client-side failures (UO) only by
// the source; callers outside the mesh only by the destination, as
// source_workload="unknown". Requests without mTLS carry source_principal
// and destination_principal "unknown" (and, at the destination,
// connection_security_policy="none"). Counts are expected values, not draws: each
// interval's increment is the rate times the interval with a deterministic
// noise of at most 2%, split by the true 5xx and plaintext ratios (jittered
// by at most 1%), and bucket counts follow the true log-normal CDF exactly.
// Server errors take as long as successes; UO failures take 0.1ms. Counters
// start at a random offset. The telemetry does not model the effect of a
// timeout or a retry: the histograms are the servers' true latency.
//
// # Planted defects
//
// Every DefectEvery-th service gets one, round-robin over the kinds below;
// a kind that does not fit the service (see Defect) is deferred to the next
// planted service. Each gives exactly one finding in Mesh.Truth:
//
//	a aggressive timeout: timeout = 0.5 × true p99                 MP6001 VirtualService ns/svc
//	b deterministic failures: flat 20% 503, retries 3 on 5xx       MP6002 VirtualService ns/svc
//	h retry amplification: s1→s2→s3→s4, attempts 3 on s2, s3, s4   MP6003 VirtualService ns/s2
//	c pool overflow: 2% UO at the callers, pending/conn limits 1   MP6004 DestinationRule ns/svc
//	d error spikes: 0.2% 5xx, three 5m bursts of 25%, no outlier   MP6005 DestinationRule ns/svc
//	e plaintext: workload PERMISSIVE under STRICT, 30% plaintext   MP6006 PeerAuthentication ns/svc-permissive
//	f unused subset: subsets v1, v2 and a v2 Deployment, no v2 hit MP6007 DestinationRule ns/svc
//	g outside callers: 5% from source_workload="unknown"           MP6008 Service ns/svc
//
// The amplification chain takes three more services of the namespace: s1, a
// worker that nobody calls (so s2 is the first hop of every amplifying path;
// the sub-path s2→s3→s4 multiplies 16 tries and belongs to the same
// finding), and s3, s4, each called only by the one before.
package traffic
