package codes

import "github.com/meshpilot/meshpilot/analysis"

// Resilience codes (MP1xxx): timeouts, retries, outlier detection,
// connection pools and traffic splitting. Thresholds depend on the
// workload class (meshpilot.io/workload-class: api, batch, streaming).
var (
	RetriesWithoutTimeout = &analysis.Code{ID: "MP1001", Name: "RetriesWithoutTimeout", Level: analysis.Warning,
		Doc: "An HTTP route retries (attempts > 0) but has no timeout. A hung upstream then holds the caller's connection for as long as the caller waits, and each retry can hang again: retries multiply load exactly when the service is slow.",
		Fix: "Give the route a timeout that fits the retries: at least (attempts + 1) × perTryTimeout, within the workload class's maximum."}
	DefaultRetriesWithoutTimeout = &analysis.Code{ID: "MP1002", Name: "DefaultRetriesWithoutTimeout", Level: analysis.Info,
		Doc: "An HTTP route has no retries field, so Istio applies its default retry policy (2 retries on connect-failure, refused-stream, unavailable, cancelled and 503), but it has no timeout: a request to a hung upstream is never cut off.",
		Fix: "Give the route a timeout suited to its workload class, or set retries.attempts: 0 and a timeout if retries are unwanted."}
	RetryBudgetExceedsTimeout = &analysis.Code{ID: "MP1003", Name: "RetryBudgetExceedsTimeout", Level: analysis.Warning,
		Doc: "The first try and the retries of a route, each allowed perTryTimeout, take longer than the route's timeout: (attempts + 1) × perTryTimeout > timeout. The route timeout cuts the last tries short, so the configured attempts are never all made.",
		Fix: "Raise the route timeout to (attempts + 1) × perTryTimeout, or lower perTryTimeout to timeout / (attempts + 1)."}
	PerTryTimeoutNotBelowTimeout = &analysis.Code{ID: "MP1004", Name: "PerTryTimeoutNotBelowTimeout", Level: analysis.Warning,
		Doc: "A route's perTryTimeout is at least its timeout, so a slow first try uses up the whole route timeout and no retry can ever run after one.",
		Fix: "Lower perTryTimeout below timeout / (attempts + 1), or raise the timeout."}
	RetryOnNonIdempotent = &analysis.Code{ID: "MP1005", Name: "RetryOnNonIdempotent", Level: analysis.Warning,
		Doc: "A route retries on conditions that occur after the service received the request (5xx, gateway-error, reset, retriable-4xx, 500, 502, 504) while it carries non-idempotent requests: it matches POST or PATCH, or matches any method for a service that takes writes. A write that failed late may already be applied, and the retry applies it again. A service takes writes when its Service has meshpilot.io/takes-writes: \"true\", or when any VirtualService route to its host matches POST or PATCH (meshpilot.io/takes-writes: \"false\" overrides the inference).",
		Fix: "Retry non-idempotent routes only on failures that happen before the request reaches the service (connect-failure, refused-stream, unavailable, cancelled), or route the writes to a separate route without those retry conditions."}
	ExcessiveRetryAttempts = &analysis.Code{ID: "MP1006", Name: "ExcessiveRetryAttempts", Level: analysis.Warning,
		Doc: "A route allows more retry attempts than its workload class permits (api 5, batch 3, streaming 2). Every caller multiplies load on a failing service by attempts + 1, which turns a partial outage into a retry storm.",
		Fix: "Lower retries.attempts to the class's maximum, or mark the workload with the class it really is."}
	InvalidTimeout = &analysis.Code{ID: "MP1007", Name: "InvalidTimeout", Level: analysis.Warning,
		Doc: "A route timeout or perTryTimeout is zero, negative, or below one millisecond. Istio rejects negative durations and per-try timeouts under 1ms; Envoy counts in milliseconds, so a sub-millisecond timeout becomes 0, and a route timeout of 0 disables the timeout altogether (correct only for streaming workloads).",
		Fix: "Set a positive timeout suited to the workload class, or mark a long-lived streaming route with meshpilot.io/workload-class: streaming."}
	ExcessiveTimeout = &analysis.Code{ID: "MP1008", Name: "ExcessiveTimeout", Level: analysis.Warning,
		Doc: "A route timeout is longer than its workload class allows (api 60s, batch 1h; streaming has no maximum). Callers hold connections and threads that long when the upstream hangs, and upstream callers usually gave up long before.",
		Fix: "Lower the timeout to the class's maximum, or mark the workload with the class it really is (batch for long-running jobs, streaming for long-lived streams)."}
	RetriesWithoutOutlierDetection = &analysis.Code{ID: "MP1009", Name: "RetriesWithoutOutlierDetection", Level: analysis.Warning,
		Doc: "A DestinationRule for a service with more than one endpoint (replicas > 1) has no outlier detection while routes to it retry. A broken replica keeps its share of traffic, and every request it fails is retried: retries hide the failure and double the load instead of ejecting the bad endpoint.",
		Fix: "Add outlierDetection to the DestinationRule's trafficPolicy (for example consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50)."}
	FullOutlierEjection = &analysis.Code{ID: "MP1010", Name: "FullOutlierEjection", Level: analysis.Warning,
		Doc: "Outlier detection has maxEjectionPercent: 100, so every endpoint can be ejected at once; a shared dependency failing briefly then leaves no healthy endpoint and Envoy falls back to panic routing.",
		Fix: "Cap maxEjectionPercent (50 keeps half the endpoints serving)."}
	HairTriggerOutlierDetection = &analysis.Code{ID: "MP1011", Name: "HairTriggerOutlierDetection", Level: analysis.Warning,
		Doc: "Outlier detection ejects an endpoint after a single error (consecutive5xxErrors, consecutiveGatewayErrors or consecutiveErrors set to 1): one transient 503 removes a healthy endpoint, and under load the pool drains.",
		Fix: "Require several consecutive errors before ejecting (5 is Envoy's default)."}
	TutorialConnectionPool = &analysis.Code{ID: "MP1012", Name: "TutorialConnectionPool", Level: analysis.Warning,
		Doc: "A connection pool keeps the values of Istio's circuit-breaking tutorial (tcp.maxConnections: 1 or http.http1MaxPendingRequests: 1, with http.maxRequestsPerConnection: 1 counted alongside them): the service accepts about one request at a time and every concurrent caller gets a 503 overflow. maxRequestsPerConnection: 1 on its own is a legitimate way to disable keep-alive and is not reported.",
		Fix: "Remove the tutorial values to return to Istio's defaults, or size the limits from measured concurrency."}
	LocalityFailoverWithoutOutlierDetection = &analysis.Code{ID: "MP1013", Name: "LocalityFailoverWithoutOutlierDetection", Level: analysis.Warning,
		Doc: "A traffic policy sets locality load balancing in failover mode (failover, failoverPriority, or enabled without distribute) but has no outlier detection. Istio only builds locality failover priorities when outlier detection is configured, so the setting is silently ignored.",
		Fix: "Add outlierDetection to the same traffic policy."}
	FaultInjectionOutsideTest = &analysis.Code{ID: "MP1014", Name: "FaultInjectionOutsideTest", Level: analysis.Warning,
		Doc: "A route injects faults (delays or aborts with a non-zero percentage) in a namespace that is not a test namespace. Test namespaces are those labelled meshpilot.io/environment (or environment, env) with test, testing, dev, development, qa, staging, stage, sandbox, e2e, perf, load, ci or preview, or, without such a label, whose name has one of those words as a dash-, dot- or underscore-separated part.",
		Fix: "Remove the fault injection, or move the experiment to a test namespace."}
	FullMirrorOutsideTest = &analysis.Code{ID: "MP1015", Name: "FullMirrorOutsideTest", Level: analysis.Warning,
		Doc: "A route mirrors all of its traffic (mirror without mirrorPercentage, or a percentage of 100) in a namespace that is not a test namespace (see MP1014). The mirror target receives a full copy of production load, including writes.",
		Fix: "Mirror a sample (mirrorPercentage), or move the shadow deployment to a test namespace."}
	RouteWeightsNotHundred = &analysis.Code{ID: "MP1016", Name: "RouteWeightsNotHundred", Level: analysis.Warning,
		Doc: "The weights of a route's destinations do not add up to 100. Istio treats them as relative shares, so the split that results is not the percentages written.",
		Fix: "Scale the weights so they add up to 100."}
	ZeroWeightDestination = &analysis.Code{ID: "MP1017", Name: "ZeroWeightDestination", Level: analysis.Info,
		Doc: "A route lists a destination with weight 0 beside others that add up to 100: it receives no traffic and reads like a finished or forgotten canary. Routes of VirtualServices owned by a controller (Flagger, Argo Rollouts: metadata.ownerReferences) are not reported, as the controller sets weights.",
		Fix: "Remove the zero-weight destination, or give it the share intended."}
	UnusedSubset = &analysis.Code{ID: "MP1018", Name: "UnusedSubset", Level: analysis.Info,
		Doc: "A DestinationRule subset is referenced by no VirtualService route or mirror, although routes to its host do select subsets. Hosts no route reaches by subset, and hosts where a route names a subset that does not exist (reported as IST0101), are not reported.",
		Fix: "Remove the subset, or route to it."}
	ConsistentHashRetriesElsewhere = &analysis.Code{ID: "MP1019", Name: "ConsistentHashRetriesElsewhere", Level: analysis.Warning,
		Doc: "A route retries with retryIgnorePreviousHosts: true or retryRemoteLocalities: true to a destination whose DestinationRule uses consistent-hash load balancing. With consistent hashing Istio deliberately retries on the same host; these fields override that and send retries to other hosts or localities, breaking the affinity the hash exists for (caches, sessions).",
		Fix: "Remove retryIgnorePreviousHosts and retryRemoteLocalities from the route's retries."}
	UnknownWorkloadClass = &analysis.Code{ID: "MP1020", Name: "UnknownWorkloadClass", Level: analysis.Warning,
		Doc: "The meshpilot.io/workload-class label or annotation names no known class (api, batch, streaming). The value is ignored, and the next source in precedence, or the default api, decides the thresholds.",
		Fix: "Use api, batch or streaming."}
)

// Resilience lists the resilience checks (MP1xxx).
var Resilience = []*analysis.Code{
	RetriesWithoutTimeout, DefaultRetriesWithoutTimeout, RetryBudgetExceedsTimeout, PerTryTimeoutNotBelowTimeout,
	RetryOnNonIdempotent, ExcessiveRetryAttempts, InvalidTimeout, ExcessiveTimeout,
	RetriesWithoutOutlierDetection, FullOutlierEjection, HairTriggerOutlierDetection, TutorialConnectionPool,
	LocalityFailoverWithoutOutlierDetection, FaultInjectionOutsideTest, FullMirrorOutsideTest,
	RouteWeightsNotHundred, ZeroWeightDestination, UnusedSubset, ConsistentHashRetriesElsewhere,
	UnknownWorkloadClass,
}
