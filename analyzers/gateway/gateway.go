// Package gateway checks Istio Gateways against the workloads they select,
// the Services that expose those workloads, the Secrets they serve and each
// other: the istioctl gateway analyzers.
package gateway

import (
	"fmt"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Selector, IngressGatewayPort, Secret, ConflictingGateway, Certificate}

// selection is Selector's result: the workloads each Gateway selector picks,
// real ones first and the stand-in ingress gateway last.
type selection struct {
	bySelector   map[string][]*mesh.Workload
	standIn      *mesh.Workload // the default ingress (mesh.DefaultIngress), or nil
	standInPorts []uint32
}

// of returns the workloads gw selects.
func (s *selection) of(gw *networking.Gateway) []*mesh.Workload {
	return s.bySelector[mesh.FormatLabels(gw.GetSelector())]
}

// namespace is where Istio looks for a gateway's credentials: that of the
// first workload it selects, or "" when it selects none.
func (s *selection) namespace(gw *networking.Gateway) string {
	if ws := s.of(gw); len(ws) > 0 {
		return ws[0].Namespace
	}
	return ""
}

// Selector reports Gateways whose selector matches no workload.
var Selector = &analysis.Analyzer{
	Name: "gateway.Selector",
	Doc: "report gateways whose selector matches no workload\n\n" +
		"A Gateway configures the proxies whose labels match its selector, in any namespace. A selector that " +
		"matches no pod or pod template configures nothing. When analyzing files, the default ingress gateway " +
		"(istio=ingressgateway in istio-system) is assumed to exist, as istioctl does.",
	Codes: []*analysis.Code{codes.ReferencedResourceNotFound},
	Run:   runSelector,
}

func runSelector(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	sel := &selection{bySelector: map[string][]*mesh.Workload{}}
	if in, ok := snap.DefaultIngress(); ok {
		sel.standIn = &mesh.Workload{Namespace: in.Namespace, Labels: in.Labels}
		sel.standInPorts = in.Ports
	}
	for _, o := range snap.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		key := mesh.FormatLabels(gw.GetSelector())
		ws, done := sel.bySelector[key]
		if !done {
			ws = snap.SelectWorkloads("", gw.GetSelector())
			if sel.standIn != nil && mesh.MatchLabels(gw.GetSelector(), sel.standIn.Labels) {
				ws = append(ws[:len(ws):len(ws)], sel.standIn)
			}
			sel.bySelector[key] = ws
		}
		if len(ws) == 0 {
			finding := analysis.NewFinding(codes.ReferencedResourceNotFound, o, fmt.Sprintf("%s matches no workload: no pod or pod template in any namespace carries these labels",
				describeSelector(gw.GetSelector())))
			finding.Equivalents = []string{"KIA0302"}
			p.Report(finding)
		}
	}
	return sel, nil
}

func describeSelector(sel map[string]string) string {
	if len(sel) == 0 {
		return "the empty selector"
	}
	return fmt.Sprintf("selector %q", mesh.FormatLabels(sel))
}

// fullName names an object as "namespace/name", its effective namespace.
func fullName(o *mesh.Object) string { return o.Namespace() + "/" + o.Name() }
