// Package gateway checks Istio Gateways against the workloads they select,
// the Services that expose those workloads, the Secrets they serve and each
// other: the istioctl gateway analyzers.
package gateway

import (
	"fmt"
	"sort"
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Selector, IngressGatewayPort, Secret, ConflictingGateway, Certificate}

// The default ingress gateway istioctl assumes when it analyzes files: a pod
// labelled istio=ingressgateway in istio-system behind a Service exposing
// these TCP ports. A folder of configuration rarely holds the mesh's own
// gateway deployment; without this stand-in every Gateway would be reported.
const standInNamespace = "istio-system"

var (
	standInLabels = map[string]string{"istio": "ingressgateway"}
	standInPorts  = []uint32{80, 443, 31400, 15443}
)

// selection is Selector's result: the workloads each Gateway selector picks,
// real ones first and the stand-in ingress gateway last.
type selection struct {
	bySelector map[string][]*mesh.Workload
	standIn    *mesh.Workload // nil when the mesh turns ingress off
}

// of returns the workloads gw selects.
func (s *selection) of(gw *networking.Gateway) []*mesh.Workload {
	return s.bySelector[selectorString(gw.GetSelector())]
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
	if snap.MeshConfig.GetIngressControllerMode() != meshconfig.MeshConfig_OFF {
		sel.standIn = &mesh.Workload{Namespace: standInNamespace, Labels: standInLabels}
	}
	for _, o := range snap.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		key := selectorString(gw.GetSelector())
		ws, done := sel.bySelector[key]
		if !done {
			ws = snap.SelectWorkloads("", gw.GetSelector())
			if sel.standIn != nil && mesh.MatchLabels(gw.GetSelector(), sel.standIn.Labels) {
				ws = append(ws[:len(ws):len(ws)], sel.standIn)
			}
			sel.bySelector[key] = ws
		}
		if len(ws) == 0 {
			p.Reportf(codes.ReferencedResourceNotFound, o, "%s matches no workload: no pod or pod template in any namespace carries these labels",
				describeSelector(gw.GetSelector()))
		}
	}
	return sel, nil
}

// selectorString renders a label selector as Kubernetes does: pairs sorted
// by key, "k=v" joined by commas; "" for an empty selector.
func selectorString(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(sel[k])
	}
	return b.String()
}

func describeSelector(sel map[string]string) string {
	if len(sel) == 0 {
		return "the empty selector"
	}
	return fmt.Sprintf("selector %q", selectorString(sel))
}

// fullName names an object as "namespace/name", its effective namespace.
func fullName(o *mesh.Object) string { return o.Namespace() + "/" + o.Name() }
