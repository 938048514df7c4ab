package gateway

import (
	"sort"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// IngressGatewayPort reports Gateway ports that no Service of the selected
// workloads exposes.
var IngressGatewayPort = &analysis.Analyzer{
	Name: "gateway.IngressGatewayPort",
	Doc: "report gateway ports that no service of the gateway's workloads exposes\n\n" +
		"Traffic reaches a gateway proxy through a Service selecting its pods. A server on a port that no such " +
		"Service exposes over TCP receives nothing (a Service port or its numeric target port both count). Gateways that " +
		"select no workload are reported by gateway.Selector, which this analyzer requires, as istioctl's does.",
	Codes:    []*analysis.Code{codes.GatewayPortNotDefinedOnService, codes.ReferencedResourceNotFound},
	Requires: []*analysis.Analyzer{Selector},
	Run:      runIngressGatewayPort,
}

func runIngressGatewayPort(p *analysis.Pass) (any, error) {
	sel, ok := p.ResultOf[Selector].(*selection)
	if !ok {
		return nil, nil
	}
	ix := newPortIndex(p.Snapshot, sel.standIn, sel.standInPorts)
	for _, o := range p.Snapshot.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		ws := sel.of(gw)
		if len(ws) == 0 {
			continue
		}
		exposed := ix.forSelector(mesh.FormatLabels(gw.GetSelector()), ws)
		for i, srv := range gw.GetServers() {
			if srv.GetPort() == nil {
				continue
			}
			n := srv.GetPort().GetNumber()
			if exposed[n] {
				continue
			}
			p.Reportf(codes.GatewayPortNotDefinedOnService, o,
				"server %d listens on port %d, but no Service selecting the workloads of %s exposes it (exposed TCP ports: %s)",
				i, n, describeSelector(gw.GetSelector()), portList(exposed))
		}
	}
	return nil, nil
}

// portIndex finds the TCP ports Services expose for workloads, memoized by
// namespace and label set, and by gateway selector.
type portIndex struct {
	services     map[string][]*corev1.Service
	standIn      *mesh.Workload
	standInPorts []uint32
	byLabels     map[string]map[uint32]bool
	bySelector   map[string]map[uint32]bool
}

func newPortIndex(snap *mesh.Snapshot, standIn *mesh.Workload, standInPorts []uint32) *portIndex {
	ix := &portIndex{services: map[string][]*corev1.Service{}, standIn: standIn, standInPorts: standInPorts,
		byLabels: map[string]map[uint32]bool{}, bySelector: map[string]map[uint32]bool{}}
	for _, o := range snap.List(mesh.Service) {
		if svc, ok := o.Obj.(*corev1.Service); ok {
			ix.services[o.Namespace()] = append(ix.services[o.Namespace()], svc)
		}
	}
	return ix
}

func (ix *portIndex) forSelector(key string, ws []*mesh.Workload) map[uint32]bool {
	if ports, ok := ix.bySelector[key]; ok {
		return ports
	}
	ports := map[uint32]bool{}
	for _, w := range ws {
		for n := range ix.forWorkload(w) {
			ports[n] = true
		}
	}
	ix.bySelector[key] = ports
	return ports
}

func (ix *portIndex) forWorkload(w *mesh.Workload) map[uint32]bool {
	key := w.Namespace + "\x00" + mesh.FormatLabels(w.Labels)
	if ports, ok := ix.byLabels[key]; ok {
		return ports
	}
	ports := map[uint32]bool{}
	// As in istioctl, a Service without a selector counts as selecting every
	// pod of its namespace.
	for _, svc := range ix.services[w.Namespace] {
		if !mesh.MatchLabels(svc.Spec.Selector, w.Labels) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			// An unwritten protocol is TCP, the API server's default.
			if sp.Protocol != corev1.ProtocolTCP && sp.Protocol != "" {
				continue
			}
			// Istio translates a server port that is a Service port to its
			// target port, so either one reaches the proxy.
			ports[uint32(sp.Port)] = true
			if tp := sp.TargetPort.IntValue(); tp > 0 {
				ports[uint32(tp)] = true
			}
		}
	}
	if ix.standIn != nil && w.Namespace == ix.standIn.Namespace && mesh.MatchLabels(ix.standIn.Labels, w.Labels) {
		for _, n := range ix.standInPorts {
			ports[n] = true
		}
	}
	ix.byLabels[key] = ports
	return ports
}

func portList(ports map[uint32]bool) string {
	if len(ports) == 0 {
		return "none"
	}
	list := make([]int, 0, len(ports))
	for n := range ports {
		list = append(list, int(n))
	}
	sort.Ints(list)
	s := make([]string, len(list))
	for i, n := range list {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
