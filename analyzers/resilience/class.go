package resilience

import (
	"time"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/mesh"
)

// ClassKey is the label or annotation that names a workload's class.
const ClassKey = "meshpilot.io/workload-class"

// Class holds the thresholds of one workload class.
type Class struct {
	Name string
	// DefaultTimeout is the timeout fixes propose.
	DefaultTimeout time.Duration
	// MaxTimeout bounds route timeouts; 0 means no bound.
	MaxTimeout time.Duration
	// MaxAttempts bounds retries.attempts.
	MaxAttempts int32
	// RequireTimeout: streams live as long as they need to, so streaming
	// routes may go without a timeout (or disable it with 0s).
	RequireTimeout bool
}

// Classes is the threshold table. api is request/response traffic with a
// human or another service waiting; batch is long-running work (reports,
// exports) that may take minutes; streaming is long-lived connections
// (WebSocket, server-sent events, gRPC streams) where a route timeout would
// cut healthy streams.
var Classes = map[string]Class{
	"api":       {Name: "api", DefaultTimeout: 10 * time.Second, MaxTimeout: 60 * time.Second, MaxAttempts: 5, RequireTimeout: true},
	"batch":     {Name: "batch", DefaultTimeout: 5 * time.Minute, MaxTimeout: time.Hour, MaxAttempts: 3, RequireTimeout: true},
	"streaming": {Name: "streaming", MaxAttempts: 2},
}

// DefaultClass applies when nothing names a class.
const DefaultClass = "api"

// classValue returns the class an object names: its annotation, else its
// label. ok is false when neither is set.
func classValue(o *mesh.Object) (string, bool) {
	if o == nil || o.Meta == nil {
		return "", false
	}
	if v, ok := o.Annotations()[ClassKey]; ok {
		return v, true
	}
	v, ok := o.Labels()[ClassKey]
	return v, ok
}

// knownClass returns the class an object names, if it names a known one.
func knownClass(o *mesh.Object) (Class, bool) {
	v, ok := classValue(o)
	if !ok {
		return Class{}, false
	}
	c, ok := Classes[v]
	return c, ok
}

// classResolver decides the class of a VirtualService route. Precedence,
// most specific first: the VirtualService; the Kubernetes Service of the
// route's first destination host; the controllers (Deployment, StatefulSet,
// …) or pods that Service selects, in snapshot order, their object metadata
// before their pod template; otherwise api. On each object the annotation
// wins over the label. Unknown values are skipped (and reported as MP1020).
type classResolver struct {
	snap  *mesh.Snapshot
	cache map[string]classSource
}

type classSource struct {
	class Class
	from  string // "VirtualService shop/cart", or "" for the default
}

func newClassResolver(s *mesh.Snapshot) *classResolver {
	return &classResolver{snap: s, cache: map[string]classSource{}}
}

// route returns the class of route r of VirtualService vs.
func (c *classResolver) route(vs *mesh.Object, r *networking.HTTPRoute) classSource {
	if cl, ok := knownClass(vs); ok {
		return classSource{cl, vs.Ref().String()}
	}
	for _, rd := range r.GetRoute() {
		if h := rd.GetDestination().GetHost(); h != "" {
			return c.host(c.snap.FQDN(h, vs.Namespace()))
		}
	}
	return classSource{class: Classes[DefaultClass]}
}

// host returns the class of the Service behind a fully qualified host.
func (c *classResolver) host(fqdn string) classSource {
	if cs, ok := c.cache[fqdn]; ok {
		return cs
	}
	cs := classSource{class: Classes[DefaultClass]}
	for _, sh := range c.snap.ServiceHosts(fqdn) {
		if found, ok := c.service(sh.Object); ok {
			cs = found
			break
		}
	}
	c.cache[fqdn] = cs
	return cs
}

func (c *classResolver) service(o *mesh.Object) (classSource, bool) {
	if cl, ok := knownClass(o); ok {
		return classSource{cl, o.Ref().String()}, true
	}
	for _, w := range serviceWorkloads(c.snap, o) {
		if cl, ok := knownClass(w.Object); ok {
			return classSource{cl, w.Object.Ref().String()}, true
		}
		if cl, ok := Classes[w.Annotations[ClassKey]]; ok {
			return classSource{cl, w.Object.Ref().String()}, true
		}
		if cl, ok := Classes[w.Labels[ClassKey]]; ok {
			return classSource{cl, w.Object.Ref().String()}, true
		}
	}
	return classSource{}, false
}

// serviceWorkloads returns the workloads a Kubernetes Service selects; a
// Service without selector (or another kind) selects none.
func serviceWorkloads(s *mesh.Snapshot, o *mesh.Object) []*mesh.Workload {
	svc, ok := o.Obj.(*corev1.Service)
	if !ok || svc == nil || len(svc.Spec.Selector) == 0 {
		return nil
	}
	return s.SelectWorkloads(o.Namespace(), svc.Spec.Selector)
}

// describe names the class and where it came from, for messages.
func (cs classSource) describe() string {
	if cs.from == "" {
		return "workload class " + cs.class.Name + " by default"
	}
	return "workload class " + cs.class.Name + " from " + cs.from
}
