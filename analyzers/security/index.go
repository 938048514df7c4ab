package security

import (
	"sort"
	"strings"

	security "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshpilot/meshpilot/mesh"
)

// index holds what several checks ask of the snapshot, built once per
// pass from per-namespace and per-selector lookups, never pairwise.
type index struct {
	snap   *mesh.Snapshot
	root   string
	inMesh map[*mesh.Workload]bool
	// svcOf maps a workload to the Services selecting it.
	svcOf    map[*mesh.Workload][]*corev1.Service
	svcBuilt bool
	// paRoot is the mesh-wide PeerAuthentication in force (oldest), paNS
	// the namespace-wide one per namespace.
	paRoot *mesh.Object
	paNS   map[string]*mesh.Object
	paDone bool
	// raByNS holds the RequestAuthentications of each namespace.
	raByNS map[string][]*mesh.Object
}

func newIndex(snap *mesh.Snapshot) *index {
	return &index{snap: snap, root: snap.RootNamespace(), inMesh: map[*mesh.Workload]bool{}}
}

// meshWorkload reports whether a workload has (or will get) a sidecar, or
// runs in ambient mode.
func (x *index) meshWorkload(w *mesh.Workload) bool {
	v, ok := x.inMesh[w]
	if !ok {
		v = x.snap.HasSidecar(w) || ambient(x.snap, w)
		x.inMesh[w] = v
	}
	return v
}

func ambient(snap *mesh.Snapshot, w *mesh.Workload) bool {
	if w.Annotations[mesh.AnnotationRedirection] == "enabled" {
		return true
	}
	if w.Labels[mesh.LabelDataplaneMode] == "none" {
		return false
	}
	if w.Labels[mesh.LabelDataplaneMode] == "ambient" {
		return true
	}
	ns := snap.Namespace(w.Namespace)
	return ns != nil && ns.Labels[mesh.LabelDataplaneMode] == "ambient" && !snap.HasSidecar(w)
}

// isGateway reports whether a workload is an Istio gateway proxy.
func isGateway(w *mesh.Workload) bool {
	if v := w.Labels["istio"]; strings.HasSuffix(v, "gateway") {
		return true
	}
	if w.Labels["gateway.networking.k8s.io/gateway-name"] != "" || w.Labels["istio.io/gateway-name"] != "" {
		return true
	}
	if w.Spec != nil {
		for _, c := range w.Spec.Containers {
			if c.Name == mesh.ProxyContainer && len(c.Args) > 1 && c.Args[0] == "proxy" && c.Args[1] == "router" {
				return true
			}
		}
	}
	return false
}

// meshWorkloads keeps the workloads in the mesh, gateways included.
func (x *index) meshWorkloads(ws []*mesh.Workload) []*mesh.Workload {
	var out []*mesh.Workload
	for _, w := range ws {
		if x.meshWorkload(w) || isGateway(w) {
			out = append(out, w)
		}
	}
	return out
}

// scope returns the workloads a selector-based policy of namespace ns
// applies to: its namespace (every namespace from the root one).
func (x *index) scope(ns string, sel map[string]string) []*mesh.Workload {
	if ns == x.root {
		return x.meshWorkloads(x.snap.SelectWorkloads("", sel))
	}
	return x.meshWorkloads(x.snap.SelectWorkloads(ns, sel))
}

// services returns the Services selecting a workload.
func (x *index) services(w *mesh.Workload) []*corev1.Service {
	if !x.svcBuilt {
		x.svcBuilt = true
		x.svcOf = map[*mesh.Workload][]*corev1.Service{}
		for _, o := range x.snap.List(mesh.Service) {
			svc, ok := o.Obj.(*corev1.Service)
			if !ok || len(svc.Spec.Selector) == 0 {
				continue
			}
			for _, sw := range x.snap.SelectWorkloads(o.Namespace(), svc.Spec.Selector) {
				x.svcOf[sw] = append(x.svcOf[sw], svc)
			}
		}
	}
	return x.svcOf[w]
}

// portInfo is what the Services say of one container port of a workload.
type portInfo struct {
	protocol string // Istio protocol, "" when sniffed
}

// containerPorts returns the workload's container ports as its Services
// map them: target port → protocol.
func (x *index) containerPorts(w *mesh.Workload) map[uint32]portInfo {
	out := map[uint32]portInfo{}
	for _, svc := range x.services(w) {
		for _, p := range svc.Spec.Ports {
			t, ok := targetPort(w, p)
			if !ok {
				continue
			}
			if _, seen := out[t]; !seen || out[t].protocol == "" {
				out[t] = portInfo{protocol: mesh.ServicePortProtocol(p)}
			}
		}
	}
	return out
}

// targetPort resolves a Service port to the workload's container port.
func targetPort(w *mesh.Workload, p corev1.ServicePort) (uint32, bool) {
	switch {
	case p.TargetPort.Type == intstr.String && p.TargetPort.StrVal != "":
		if w.Spec == nil {
			return 0, false
		}
		for _, c := range w.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == p.TargetPort.StrVal {
					return uint32(cp.ContainerPort), true
				}
			}
		}
		return 0, false
	case p.TargetPort.IntVal > 0:
		return uint32(p.TargetPort.IntVal), true
	}
	return uint32(p.Port), p.Port > 0
}

// serviceToTarget maps a Service port number to the container port it
// forwards to for these workloads, when that is a single other port and
// the number is not itself a container port. ok is false otherwise.
func (x *index) serviceToTarget(ws []*mesh.Workload, port uint32) (uint32, bool) {
	var target uint32
	for _, w := range ws {
		if _, isContainer := x.containerPorts(w)[port]; isContainer || declaresContainerPort(w, port) {
			return 0, false
		}
		for _, svc := range x.services(w) {
			for _, p := range svc.Spec.Ports {
				if uint32(p.Port) != port {
					continue
				}
				t, ok := targetPort(w, p)
				if !ok || t == port || (target != 0 && t != target) {
					return 0, false
				}
				target = t
			}
		}
	}
	return target, target != 0
}

func declaresContainerPort(w *mesh.Workload, port uint32) bool {
	if w.Spec == nil {
		return false
	}
	for _, c := range w.Spec.Containers {
		for _, cp := range c.Ports {
			if uint32(cp.ContainerPort) == port {
				return true
			}
		}
	}
	return false
}

// nonHTTP reports whether an Istio protocol carries no HTTP that an
// inbound sidecar could inspect.
func nonHTTP(proto string) bool {
	switch strings.ToUpper(proto) {
	case "TCP", "TLS", "HTTPS", "MONGO", "REDIS", "MYSQL":
		return true
	}
	return false
}

// older orders objects by creation time, then load order; the second
// result is false when some object has no creation time.
func older(objs []*mesh.Object) ([]*mesh.Object, bool) {
	out := append([]*mesh.Object(nil), objs...)
	known := true
	for _, o := range out {
		if o.Meta.CreationTimestamp.IsZero() {
			known = false
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Meta.CreationTimestamp.Before(&out[j].Meta.CreationTimestamp)
	})
	return out, known
}

func (x *index) buildPA() {
	if x.paDone {
		return
	}
	x.paDone = true
	x.paNS = map[string]*mesh.Object{}
	nsWide := map[string][]*mesh.Object{}
	for _, o := range x.snap.List(mesh.PeerAuthentication) {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		if !ok {
			continue
		}
		if len(pa.GetSelector().GetMatchLabels()) == 0 {
			nsWide[o.Namespace()] = append(nsWide[o.Namespace()], o)
		}
	}
	for ns, l := range nsWide {
		sorted, _ := older(l)
		if ns == x.root {
			x.paRoot = sorted[0]
		} else {
			x.paNS[ns] = sorted[0]
		}
	}
}

func paMode(o *mesh.Object) security.PeerAuthentication_MutualTLS_Mode {
	if o == nil {
		return security.PeerAuthentication_MutualTLS_UNSET
	}
	pa, _ := o.Obj.(*security.PeerAuthentication)
	return pa.GetMtls().GetMode()
}

// nsMode is the mTLS mode in force for a namespace (before workload
// policies) and the policy that sets it, nil for the default.
func (x *index) nsMode(ns string) (security.PeerAuthentication_MutualTLS_Mode, *mesh.Object) {
	x.buildPA()
	for _, o := range []*mesh.Object{x.paNS[ns], x.paRoot} {
		if m := paMode(o); m != security.PeerAuthentication_MutualTLS_UNSET {
			return m, o
		}
	}
	return security.PeerAuthentication_MutualTLS_PERMISSIVE, nil
}

// requestAuthn reports whether some RequestAuthentication applies to w.
func (x *index) requestAuthn(w *mesh.Workload) bool {
	if x.raByNS == nil {
		x.raByNS = map[string][]*mesh.Object{}
		for _, o := range x.snap.List(mesh.RequestAuthentication) {
			x.raByNS[o.Namespace()] = append(x.raByNS[o.Namespace()], o)
		}
	}
	for _, ns := range []string{w.Namespace, x.root} {
		for _, o := range x.raByNS[ns] {
			ra, ok := o.Obj.(*security.RequestAuthentication)
			if !ok {
				continue
			}
			if ra.GetTargetRef() != nil || len(ra.GetTargetRefs()) > 0 {
				if isGateway(w) && targetsGatewayOf(ra.GetTargetRef(), ra.GetTargetRefs(), w) {
					return true
				}
				continue
			}
			if mesh.MatchLabels(ra.GetSelector().GetMatchLabels(), w.Labels) {
				return true
			}
		}
	}
	return false
}

func names(ws []*mesh.Workload, max int) string {
	var parts []string
	for i, w := range ws {
		if i == max {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, w.Object.Name())
	}
	return strings.Join(parts, ", ")
}

func sortStrings(l []string) { sort.Strings(l) }
