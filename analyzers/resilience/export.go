package resilience

import (
	"time"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/mesh"
)

// The functions below share this package's reading of routes and classes
// with the checks of configuration against observed traffic
// (analyzers/traffic), so that both agree on what a route does.

// RouteClass returns the workload class of route r of VirtualService vs,
// and a description of where it came from ("workload class batch from
// Service shop/reports").
func RouteClass(s *mesh.Snapshot, vs *mesh.Object, r *networking.HTTPRoute) (Class, string) {
	cs := newClassResolver(s).route(vs, r)
	return cs.class, cs.describe()
}

// HostClass returns the workload class of the Service behind a fully
// qualified host, and where it came from.
func HostClass(s *mesh.Snapshot, fqdn string) (Class, string) {
	cs := newClassResolver(s).host(fqdn)
	return cs.class, cs.describe()
}

// RouteRetries returns the retries Istio applies on route r: attempts after
// the first try (Istio's default of 2 when the route sets none), the
// per-try timeout if set, and whether the route sets retries itself.
func RouteRetries(r *networking.HTTPRoute) (attempts int32, perTry time.Duration, explicit bool) {
	p := routeRetries(r)
	return p.attempts, p.perTry, p.explicit
}

// Forwards reports whether an HTTP route sends traffic to destinations.
func Forwards(r *networking.HTTPRoute) bool { return forwards(r) }

// EndpointCount estimates the endpoints behind a host (replicas of the
// workloads its Services select, a ServiceEntry's endpoints).
func EndpointCount(s *mesh.Snapshot, fqdn string) int { return endpointCount(s, fqdn) }

// DurValue writes a duration as Istio reads it ("1.5s").
func DurValue(d time.Duration) string { return durValue(d) }

// Ptr builds a JSON pointer from parts.
func Ptr(parts ...any) string { return ptr(parts...) }

// HasOutlierDetection reports whether a DestinationRule sets outlier
// detection at its top level.
func HasOutlierDetection(dr *networking.DestinationRule) bool { return hasOutlierDetection(dr) }
