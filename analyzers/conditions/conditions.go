// Package conditions reports status conditions in which Istio, or the
// Gateway API controller, says a resource is not working.
package conditions

import (
	metav1alpha1 "istio.io/api/meta/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Negative}

// Negative reports negative status conditions.
var Negative = &analysis.Analyzer{
	Name: "conditions.Negative",
	Doc: "report status conditions that say a resource is not working\n\n" +
		"Status written by Istio and Gateway API controllers: a Service or ServiceEntry not bound to its waypoint, " +
		"an AuthorizationPolicy ztunnel or a waypoint did not accept (or accepted only in part), a Gateway not " +
		"accepted, programmed or with unresolved references, and HTTPRoutes and GRPCRoutes whose parents did not " +
		"accept them. Conditions of other controllers are ignored.",
	Codes: []*analysis.Code{codes.NegativeConditionStatus},
	Run:   run,
}

// condition is the part of a status condition the check reads.
type condition struct {
	Type, Status, Reason, Message string
}

// negative lists, by kind, the condition types whose "False" status is
// a problem.
var negative = map[mesh.GroupKind]map[string]bool{
	mesh.Service:             {"istio.io/WaypointBound": true},
	mesh.ServiceEntry:        {"istio.io/WaypointBound": true},
	mesh.AuthorizationPolicy: {"ZtunnelAccepted": true, "WaypointAccepted": true},
	mesh.KubeGateway:         {"Accepted": true, "Programmed": true, "ResolvedRefs": true},
	mesh.HTTPRoute:           {"Accepted": true, "Programmed": true, "ResolvedRefs": true},
	mesh.GRPCRoute:           {"Accepted": true, "Programmed": true, "ResolvedRefs": true},
}

var checkedKinds = []mesh.GroupKind{mesh.Service, mesh.ServiceEntry, mesh.AuthorizationPolicy, mesh.KubeGateway, mesh.HTTPRoute, mesh.GRPCRoute}

func run(p *analysis.Pass) (any, error) {
	for _, gk := range checkedKinds {
		for _, o := range p.Snapshot.List(gk) {
			for _, c := range conditionsOf(o) {
				if negative[gk][c.Type] && c.Status == string(metav1.ConditionFalse) {
					p.Reportf(codes.NegativeConditionStatus, o, "condition %s is False (reason %s): %s", c.Type, c.Reason, c.Message)
				}
				// A waypoint that accepts a policy only in part says so with
				// this reason whatever the status; istioctl reports it apart.
				if gk == mesh.AuthorizationPolicy && c.Type == "WaypointAccepted" && c.Reason == "PartiallyInvalid" {
					p.Reportf(codes.NegativeConditionStatus, o, "condition %s is only partly met (reason %s): %s", c.Type, c.Reason, c.Message)
				}
			}
		}
	}
	return nil, nil
}

func conditionsOf(o *mesh.Object) []condition {
	if st, ok := o.Status.(*metav1alpha1.IstioStatus); ok && st != nil {
		out := make([]condition, 0, len(st.GetConditions()))
		for _, c := range st.GetConditions() {
			out = append(out, condition{c.GetType(), c.GetStatus(), c.GetReason(), c.GetMessage()})
		}
		return out
	}
	switch v := o.Obj.(type) {
	case *corev1.Service:
		return fromMeta(v.Status.Conditions)
	case *gwv1.Gateway:
		return fromMeta(v.Status.Conditions)
	case *gwv1.HTTPRoute:
		return fromParents(v.Status.Parents)
	case *gwv1.GRPCRoute:
		return fromParents(v.Status.Parents)
	}
	return nil
}

func fromMeta(cs []metav1.Condition) []condition {
	out := make([]condition, 0, len(cs))
	for _, c := range cs {
		out = append(out, condition{c.Type, string(c.Status), c.Reason, c.Message})
	}
	return out
}

func fromParents(parents []gwv1.RouteParentStatus) []condition {
	var out []condition
	for _, ps := range parents {
		out = append(out, fromMeta(ps.Conditions)...)
	}
	return out
}
