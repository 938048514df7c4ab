// Package resilience checks how a mesh behaves when services fail: route
// timeouts and retries, outlier detection, connection pools, locality
// failover, fault injection and mirroring outside test namespaces, and
// traffic splits. Thresholds come from the workload class (api, batch,
// streaming; see Classes and classResolver). Every finding for which a safe
// mechanical change exists carries a Fix whose edits make it disappear.
package resilience

import (
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{
	RouteTimeouts,
	RetryIdempotency,
	OutlierDetection,
	ConnectionPool,
	TestOnlyFeatures,
	RouteWeights,
	UnusedSubsets,
	ConsistentHashRetries,
	WorkloadClass,
}

// defaultRetryAttempts is what Istio retries an HTTP route with no retries
// field: 2 retries on connect-failure, refused-stream, unavailable,
// cancelled and retriable-status-codes (503).
const defaultRetryAttempts = 2

// virtualService and destinationRule are the typed views the checks use.
type (
	virtualService  = mesh.Typed[*networking.VirtualService]
	destinationRule = mesh.Typed[*networking.DestinationRule]
)

func virtualServices(s *mesh.Snapshot) []virtualService {
	return mesh.ListOf[*networking.VirtualService](s, mesh.VirtualService)
}

func destinationRules(s *mesh.Snapshot) []destinationRule {
	return mesh.ListOf[*networking.DestinationRule](s, mesh.DestinationRule)
}

// forwards reports whether an HTTP route sends traffic to destinations
// (rather than redirecting, answering directly or delegating).
func forwards(r *networking.HTTPRoute) bool {
	return r != nil && len(r.GetRoute()) > 0 && r.GetRedirect() == nil && r.GetDirectResponse() == nil
}

// retryPolicy is the retry behaviour Istio gives a route.
type retryPolicy struct {
	explicit bool  // a retries field is present
	attempts int32 // retries after the first try; 0: none
	perTry   time.Duration
	hasPer   bool
}

func routeRetries(r *networking.HTTPRoute) retryPolicy {
	rt := r.GetRetries()
	if rt == nil {
		return retryPolicy{attempts: defaultRetryAttempts}
	}
	p := retryPolicy{explicit: true, attempts: rt.GetAttempts()}
	if p.attempts < 0 {
		p.attempts = 0
	}
	if d := rt.GetPerTryTimeout(); d != nil {
		p.perTry, p.hasPer = dur(d), true
	}
	return p
}

// dur converts a proto duration, saturating instead of overflowing.
func dur(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	const maxSec = int64(time.Duration(1<<63-1) / time.Second)
	switch s := d.GetSeconds(); {
	case s > maxSec:
		return time.Duration(1<<63 - 1)
	case s < -maxSec:
		return -time.Duration(1<<63 - 1)
	}
	return d.AsDuration()
}

// durValue writes a duration the way both Istio and protobuf JSON read it:
// decimal seconds ("3s", "0.5s").
func durValue(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// ptr builds a JSON pointer from parts, escaping each.
func ptr(parts ...any) string {
	var b []byte
	for _, p := range parts {
		b = append(b, '/')
		switch v := p.(type) {
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case string:
			for i := 0; i < len(v); i++ {
				switch v[i] {
				case '~':
					b = append(b, "~0"...)
				case '/':
					b = append(b, "~1"...)
				default:
					b = append(b, v[i])
				}
			}
		}
	}
	return string(b)
}

// routeName names route i for messages: "http[0]" or `http[0] ("name")`.
func routeName(kind string, i int, name string) string {
	s := kind + "[" + strconv.Itoa(i) + "]"
	if name != "" {
		s += " (" + strconv.Quote(name) + ")"
	}
	return s
}

// routeLabel names route i in prose for explanations: "route 0" or
// `route "checkout" (0)`.
func routeLabel(i int, name string) string {
	if name != "" {
		return "route " + strconv.Quote(name) + " (" + strconv.Itoa(i) + ")"
	}
	return "route " + strconv.Itoa(i)
}

// endpointCount estimates how many endpoints serve a host: the replicas of
// the workloads its Kubernetes Services select (a DaemonSet counts as
// several), and a ServiceEntry's endpoints.
func endpointCount(s *mesh.Snapshot, fqdn string) int {
	n := 0
	for _, sh := range s.ServiceHosts(fqdn) {
		if se, ok := sh.Object.Obj.(*networking.ServiceEntry); ok && se != nil {
			n += len(se.GetEndpoints())
			continue
		}
		for _, w := range serviceWorkloads(s, sh.Object) {
			n += replicas(w)
		}
	}
	return n
}

func replicas(w *mesh.Workload) int {
	if !w.FromTemplate || w.Object == nil {
		return 1
	}
	var r *int32
	switch v := w.Object.Obj.(type) {
	case *appsv1.Deployment:
		r = v.Spec.Replicas
	case *appsv1.StatefulSet:
		r = v.Spec.Replicas
	case *appsv1.ReplicaSet:
		r = v.Spec.Replicas
	case *appsv1.DaemonSet:
		return 2
	}
	if r == nil {
		return 1
	}
	return int(*r)
}

// fixFor builds a one-fix slice.
func fixFor(msg, explanation string, edits ...analysis.Edit) []analysis.Fix {
	return []analysis.Fix{{Message: msg, Explanation: explanation, Edits: edits}}
}

func set(o *mesh.Object, path string, v any) analysis.Edit {
	return analysis.Edit{Resource: o.Ref().String(), Path: path, Value: v}
}

func del(o *mesh.Object, path string) analysis.Edit {
	return analysis.Edit{Resource: o.Ref().String(), Path: path, Delete: true}
}
