// Package traffic checks configuration against observed traffic — the
// telemetry.Graph a run reads from Prometheus or Envoy access logs — and
// derives settings from it: timeouts from latency, retries from failure
// kinds, outlier detection from failure rates, connection pools from
// Little's law. Every analyzer here is marked Telemetry, so it runs only
// when there is traffic evidence, and reports on the object whose
// configuration is at fault (the VirtualService for a timeout, the
// DestinationRule for a pool).
//
// The formulas are documented on each code (analyzers/codes/traffic.go,
// shown by meshpilot explain) and implemented in formulas.go.
package traffic

import (
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/telemetry"
)

// Analyzers are the checks and recommendations of this package.
var Analyzers = []*analysis.Analyzer{
	TimeoutBelowLatency, RetriesOnDeterministicFailures, RetryAmplification, PoolOverflow,
	ErrorSpikes, PlaintextIntoStrict, NoTrafficToSubset, TrafficFromOutsideMesh,
	Recommend,
}

// Evidence thresholds shared by the checks.
const (
	// minRequests is the least traffic a destination needs in the window
	// before its ratios mean anything.
	minRequests = 100
	// maxAmplification bounds the product of tries along a call chain.
	maxAmplification = 10
)

// Index joins the traffic graph to the mesh's objects once per run for
// the analyzers of this package, which require it: traffic by host, the
// forwarding routes and the DestinationRules by host. It reports nothing,
// and is not in Analyzers: it runs when a check requires it.
var Index = &analysis.Analyzer{
	Name:      "traffic.Index",
	Doc:       "traffic joined to the mesh\n\nIndexes observed traffic by host, and routes and DestinationRules by destination, for the traffic checks.",
	Telemetry: true,
	Run: func(p *analysis.Pass) (any, error) {
		if p.Telemetry == nil {
			return nil, nil
		}
		return buildIndex(p.Snapshot, p.Telemetry), nil
	},
}

// index joins the traffic graph to the mesh's objects. Built once by
// Index, it is read by analyzers running at once: nothing in it changes
// after buildIndex.
type index struct {
	snap   *mesh.Snapshot
	g      *telemetry.Graph
	byHost map[string]*telemetry.ServiceTraffic
	hosts  []string // the keys of byHost, sorted
	rts    []route
	drs    map[string][]destinationRule // by host FQDN
}

func buildIndex(snap *mesh.Snapshot, g *telemetry.Graph) *index {
	ix := &index{snap: snap, g: g, byHost: map[string]*telemetry.ServiceTraffic{}, drs: map[string][]destinationRule{}}
	for _, st := range g.Services() {
		h := ix.fqdn(st.Service)
		if ix.byHost[h] == nil {
			ix.hosts = append(ix.hosts, h)
		}
		ix.byHost[h] = st
	}
	sort.Strings(ix.hosts)
	ix.rts = ix.listRoutes()
	for _, dr := range mesh.ListOf[*networking.DestinationRule](snap, mesh.DestinationRule) {
		h := snap.FQDN(dr.Spec.GetHost(), dr.Obj.Namespace())
		ix.drs[h] = append(ix.drs[h], dr)
	}
	return ix
}

// indexOf returns the run's index as seen by pass p: lookups go through
// p's own snapshot, so that each analyzer's reads are its own.
func indexOf(p *analysis.Pass) *index {
	shared, ok := p.ResultOf[Index].(*index)
	if !ok || shared == nil {
		return nil
	}
	ix := *shared
	ix.snap = p.Snapshot
	return &ix
}

// fqdn is the host a telemetry service stands for.
func (ix *index) fqdn(s telemetry.Service) string {
	if s.Host != "" && strings.Contains(s.Host, ".") {
		return s.Host
	}
	if s.Namespace == "" {
		return s.Name
	}
	return ix.snap.FQDN(s.Name, s.Namespace)
}

// host returns the traffic into a fully qualified host, or nil.
func (ix *index) host(fqdn string) *telemetry.ServiceTraffic { return ix.byHost[fqdn] }

type virtualService = mesh.Typed[*networking.VirtualService]
type destinationRule = mesh.Typed[*networking.DestinationRule]

// route is one forwarding HTTP route and the hosts it sends to.
type route struct {
	vs    virtualService
	i     int
	r     *networking.HTTPRoute
	hosts []string // FQDNs, in order, without repeats
}

func (rt route) label() string {
	if n := rt.r.GetName(); n != "" {
		return "route " + quote(n)
	}
	return "route " + itoa(rt.i)
}

// routes lists every forwarding HTTP route of every VirtualService.
func (ix *index) routes() []route { return ix.rts }

func (ix *index) listRoutes() []route {
	var out []route
	for _, vs := range mesh.ListOf[*networking.VirtualService](ix.snap, mesh.VirtualService) {
		for i, r := range vs.Spec.GetHttp() {
			if len(r.GetRoute()) == 0 || r.GetRedirect() != nil || r.GetDirectResponse() != nil {
				continue
			}
			rt := route{vs: vs, i: i, r: r}
			seen := map[string]bool{}
			for _, d := range r.GetRoute() {
				h := d.GetDestination().GetHost()
				if h == "" {
					continue
				}
				f := ix.snap.FQDN(h, vs.Obj.Namespace())
				if !seen[f] {
					seen[f] = true
					rt.hosts = append(rt.hosts, f)
				}
			}
			out = append(out, rt)
		}
	}
	return out
}

// destinationRules returns the DestinationRules whose host is fqdn.
func (ix *index) destinationRules(fqdn string) []destinationRule { return ix.drs[fqdn] }

// service returns the Kubernetes Service (or ServiceEntry) behind a host.
func (ix *index) service(fqdn string) *mesh.Object {
	for _, sh := range ix.snap.ServiceHosts(fqdn) {
		return sh.Object
	}
	return nil
}

// workload finds the mesh workload Istio names name in namespace: the
// controller of that name, or a pod of it.
func (ix *index) workload(w telemetry.Workload) *mesh.Workload {
	if !w.Known() {
		return nil
	}
	var podMatch *mesh.Workload
	for _, mw := range ix.snap.WorkloadsIn(w.Namespace) {
		if mw.Object == nil {
			continue
		}
		name := mw.Object.Name()
		if name == w.Name {
			return mw
		}
		if mw.Object.GroupKind == mesh.Pod && strings.HasPrefix(name, w.Name+"-") && podMatch == nil {
			podMatch = mw
		}
	}
	return podMatch
}

// isGateway reports whether a workload is a gateway (its traffic from
// outside the mesh is its purpose).
func isGateway(w *mesh.Workload) bool {
	if w == nil {
		return false
	}
	l := w.Labels
	return l["istio"] == "ingressgateway" || l["istio"] == "egressgateway" || l["gateway.networking.k8s.io/gateway-name"] != "" ||
		l["gateway.istio.io/managed"] != ""
}

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
