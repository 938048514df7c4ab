package codes

import "github.com/meshpilot/meshpilot/analysis"

// Traffic codes (MP6xxx): configuration checked against observed traffic
// (Prometheus or Envoy access logs). They are reported only when a run has
// traffic evidence (--prometheus-url, --access-log), and always on the
// object whose configuration is at fault. MP61xx are recommendations:
// settings derived from the traffic, each with a fix.
var (
	TimeoutBelowLatency = &analysis.Code{ID: "MP6001", Name: "TimeoutBelowObservedLatency", Level: analysis.Warning,
		Doc: "A route's timeout is below the latency its destination showed over the window: the observed p99 (p99.9 for the batch workload class) of its responses other than 5xx, whose durations are the failures' (a local 503, a 504 at the timeout). Requests slower than the timeout are cut with 504 even though the service would have answered, and with retries each cut request is sent again.",
		Fix: "Raise the route timeout above the high quantile, with a margin (meshpilot recommend proposes one), or make the service faster."}
	RetriesOnDeterministicFailures = &analysis.Code{ID: "MP6002", Name: "RetriesOnDeterministicFailures", Level: analysis.Warning,
		Doc: "A route retries on 5xx responses to a destination whose 5xx ratio is high (at least 5%) and flat over the window (present in at least 80% of the steps with traffic, varying little). Failures that steady are deterministic — a bad release, a missing dependency — and fail again when retried: every retry only multiplies the load on a service that is already failing, a retry storm in waiting.",
		Fix: "Drop 5xx, gateway-error and retriable-status-codes from retryOn (keep connect-failure, refused-stream, unavailable), and fix the failing service."}
	RetryAmplification = &analysis.Code{ID: "MP6003", Name: "RetryAmplification", Level: analysis.Warning,
		Doc: "Along a call chain observed in the traffic, the retries of each hop multiply: a hop with attempts a tries up to a+1 times, so one request at the top of the chain can become the product of (a+1) over the hops at the bottom. The finding names the path and its product when that exceeds 10, on the VirtualService of the first retrying hop of the path.",
		Fix: "Retry at one layer only — usually the edge or the hop closest to the failure — and set attempts: 0 (or 1) on the others, so the product along every path stays at most 10."}
	PoolOverflow = &analysis.Code{ID: "MP6004", Name: "ConnectionPoolOverflow", Level: analysis.Warning,
		Doc: "Callers' proxies answered requests to this destination with 503 and the UO response flag (upstream overflow): the connection pool of its DestinationRule was full (http1MaxPendingRequests, http2MaxRequests, maxConnections or maxRequestsPerConnection), so requests were rejected without ever reaching the service. Reported when at least 10 requests and 0.1% of the destination's requests overflowed.",
		Fix: "Size the connection pool from the traffic with Little's law (concurrency = request rate × latency, with headroom); meshpilot recommend proposes limits."}
	ErrorSpikesWithoutOutlierDetection = &analysis.Code{ID: "MP6005", Name: "ErrorSpikesWithoutOutlierDetection", Level: analysis.Warning,
		Doc: "A destination's 5xx ratio spiked during the window — at least one step at 10% or more and at least five times its baseline (the 10th percentile of its steps, robust to bursts that raise most of them) — and no DestinationRule for it sets outlierDetection. Spikes like these usually come from one bad endpoint (a pod out of memory, a node in trouble) that outlier detection would have ejected, instead of every caller sharing its errors.",
		Fix: "Add trafficPolicy.outlierDetection to the destination's DestinationRule (meshpilot recommend derives the settings from the observed failure rate)."}
	PlaintextIntoStrict = &analysis.Code{ID: "MP6006", Name: "PlaintextIntoStrictNamespace", Level: analysis.Warning,
		Doc: "Plaintext (non-mTLS) requests or connections reached a workload in a namespace whose PeerAuthentication — the namespace's own, or the mesh-wide one in the root namespace — is STRICT. A more specific policy let them in: a workload or port-level PeerAuthentication in PERMISSIVE or DISABLE mode. The traffic shows the exception is used: callers without mesh identity are talking to a workload the namespace means to protect.",
		Fix: "Find the plaintext callers (the finding names them), bring them into the mesh, then remove the exception or set it to STRICT."}
	NoTrafficToSubset = &analysis.Code{ID: "MP6007", Name: "NoTrafficToSubset", Level: analysis.Info,
		Doc: "A DestinationRule subset selects running workloads, and the service received traffic during the window, but no request reached any of the subset's workloads. Either the routes never send to it (a finished canary, a stale version) or a route to it is broken.",
		Fix: "Remove the subset and the workloads behind it if they are retired, or fix the route weights and matches meant to reach it."}
	TrafficFromOutsideMesh = &analysis.Code{ID: "MP6008", Name: "TrafficFromOutsideMesh", Level: analysis.Warning,
		Doc: "Requests reached this service from callers outside the mesh — with no sidecar and no mesh identity (Istio's source_workload \"unknown\") — directly rather than through an ingress gateway. Such callers bypass the gateway's authentication, rate limits and routing, and AuthorizationPolicies that match principals cannot tell them apart.",
		Fix: "Route outside callers through an ingress gateway, and set PeerAuthentication STRICT on the service's workloads so that only mesh callers get in."}

	RecommendedTimeout = &analysis.Code{ID: "MP6101", Name: "RecommendedTimeout", Level: analysis.Info,
		Doc: "A route timeout derived from observed latency differs from the configured one by more than 25% (or the route has none). The recommendation is T = Q × 1.5, where Q is the observed p99 of the destination's responses other than 5xx (p99.9 for the batch class), rounded up to two significant digits, at least 100ms and at most the class's maximum.",
		Fix: "Apply the suggested timeout (meshpilot recommend shows the diff), after checking it against what callers can wait."}
	RecommendedRetries = &analysis.Code{ID: "MP6102", Name: "RecommendedRetries", Level: analysis.Info,
		Doc: "Retry settings derived from the observed failure kinds. retryOn keeps connect-failure, refused-stream and unavailable always, adds reset when resets or upstream connection failures were seen (UF, URX, UC, DC), and adds gateway-error (502, 503, 504) only when the destination's 5xx are transient (spiky, not flat). attempts is the largest a ≤ 2 whose equal share of the route timeout, timeout / (a + 1), still lets a try run 1.2 × the observed p90 (so most tries are not cut), lowered further so the product of tries along every observed call chain through the route stays at most 10; perTryTimeout is that share rounded down to two significant digits, so (attempts + 1) × perTryTimeout fits the timeout (the recommended one, MP6101). attempts is 0 when not even one retry fits.",
		Fix: "Apply the suggested retries (meshpilot recommend shows the diff)."}
	RecommendedOutlierDetection = &analysis.Code{ID: "MP6103", Name: "RecommendedOutlierDetection", Level: analysis.Info,
		Doc: "Outlier detection derived from the observed failure rate. With p the destination's baseline 5xx ratio (the 10th percentile of its steps) and n the requests one endpoint serves per interval, consecutive5xxErrors k is the smallest k ≥ 3 with n × p^k < 0.01 — a healthy endpoint is then ejected by chance less than once in a hundred intervals — capped at 20. interval is 10s when each endpoint serves at least one request a second, else 30s; baseEjectionTime 30s; maxEjectionPercent lets a third of the endpoints go (at least one): ⌈100 × max(1, ⌊E/3⌋) / E⌉ for E endpoints.",
		Fix: "Apply the suggested outlierDetection (meshpilot recommend shows the diff)."}
	RecommendedConnectionPool = &analysis.Code{ID: "MP6104", Name: "RecommendedConnectionPool", Level: analysis.Info,
		Doc: "Connection pool limits from Little's law: the requests in flight L = λ × W, with λ the peak request rate of the window (the highest step of the profile; twice the mean without one) and W the observed p99 latency in seconds. Limits are set to twice L, at least 10: http2MaxRequests and http1MaxPendingRequests = tcp.maxConnections = ⌈2L⌉. Proposed where overflow (UO) was seen or a configured limit is below that.",
		Fix: "Apply the suggested connectionPool (meshpilot recommend shows the diff)."}
)

// Traffic lists the checks and recommendations against observed traffic.
var Traffic = []*analysis.Code{
	TimeoutBelowLatency, RetriesOnDeterministicFailures, RetryAmplification, PoolOverflow,
	ErrorSpikesWithoutOutlierDetection, PlaintextIntoStrict, NoTrafficToSubset, TrafficFromOutsideMesh,
	RecommendedTimeout, RecommendedRetries, RecommendedOutlierDetection, RecommendedConnectionPool,
}
