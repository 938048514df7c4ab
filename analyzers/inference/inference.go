// Package inference checks Gateway API Inference Extension resources:
// InferencePools that select no model server, and references to pools that
// do not exist.
package inference

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
	inf "github.com/meshpilot/meshpilot/mesh/inference"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Pools, PoolRefs}

// Pools checks that InferencePools select model-server pods.
var Pools = &analysis.Analyzer{
	Name: "inference.Pools",
	Doc: "report InferencePools whose selector matches no pod\n\n" +
		"An InferencePool's selector picks the model-server pods of its namespace; when it matches none, the " +
		"endpoint picker has nothing to route to.",
	Codes: []*analysis.Code{codes.InferencePoolNoPods},
	Run:   runPools,
}

func runPools(p *analysis.Pass) (any, error) {
	for _, gk := range []mesh.GroupKind{mesh.InferencePool, mesh.InferencePoolX} {
		for _, o := range p.Snapshot.List(gk) {
			pool, ok := o.Obj.(*inf.InferencePool)
			if !ok {
				continue
			}
			sel := pool.Spec.Selector.MatchLabels
			if len(sel) == 0 || p.Snapshot.AnyWorkload(o.Namespace(), sel) {
				continue
			}
			p.Reportf(codes.InferencePoolNoPods, o, "selector %s matches no pod or pod template in namespace %s",
				mesh.FormatLabels(sel), o.Namespace())
		}
	}
	return nil, nil
}

// PoolRefs checks references to InferencePools.
var PoolRefs = &analysis.Analyzer{
	Name: "inference.PoolRefs",
	Doc: "report HTTPRoute backends, InferenceModels and InferenceObjectives naming a missing InferencePool\n\n" +
		"An HTTPRoute backendRef of kind InferencePool, and the poolRef of an InferenceModel or InferenceObjective, " +
		"must name an InferencePool of the API group given (the route's namespace, or the one the backendRef names).",
	Codes: []*analysis.Code{codes.InferencePoolNotFound, codes.InferencePoolRefNotFound},
	Run:   runPoolRefs,
}

func runPoolRefs(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	for _, o := range snap.List(mesh.HTTPRoute) {
		r, ok := o.Obj.(*gwv1.HTTPRoute)
		if !ok {
			continue
		}
		for i, rule := range r.Spec.Rules {
			for j, b := range rule.BackendRefs {
				if b.Kind == nil || *b.Kind != "InferencePool" {
					continue
				}
				group := ""
				if b.Group != nil {
					group = string(*b.Group)
				}
				ns := o.Namespace()
				if b.Namespace != nil && *b.Namespace != "" {
					ns = string(*b.Namespace)
				}
				if !poolExists(snap, group, ns, string(b.Name)) {
					p.Reportf(codes.InferencePoolNotFound, o, "rules[%d].backendRefs[%d]: InferencePool %s/%s%s does not exist",
						i, j, ns, b.Name, groupSuffix(group))
				}
			}
		}
	}
	for _, o := range snap.List(mesh.InferenceModel) {
		if m, ok := o.Obj.(*inf.InferenceModel); ok {
			checkPoolRef(p, o, m.Spec.PoolRef)
		}
	}
	for _, o := range snap.List(mesh.InferenceObjective) {
		if m, ok := o.Obj.(*inf.InferenceObjective); ok {
			checkPoolRef(p, o, m.Spec.PoolRef)
		}
	}
	return nil, nil
}

func checkPoolRef(p *analysis.Pass, o *mesh.Object, ref inf.PoolRef) {
	if ref.Name == "" || (ref.Kind != "" && ref.Kind != "InferencePool") {
		return
	}
	if !poolExists(p.Snapshot, ref.Group, o.Namespace(), ref.Name) {
		p.Reportf(codes.InferencePoolRefNotFound, o, "spec.poolRef names InferencePool %s/%s%s, which does not exist",
			o.Namespace(), ref.Name, groupSuffix(ref.Group))
	}
}

// poolExists looks a pool up by API group; an empty group accepts either.
func poolExists(snap *mesh.Snapshot, group, ns, name string) bool {
	switch group {
	case mesh.GroupInference:
		return snap.Get(mesh.InferencePool, ns, name) != nil
	case mesh.GroupInferenceX:
		return snap.Get(mesh.InferencePoolX, ns, name) != nil
	}
	return snap.Get(mesh.InferencePool, ns, name) != nil || snap.Get(mesh.InferencePoolX, ns, name) != nil
}

func groupSuffix(group string) string {
	if group == "" {
		return ""
	}
	return fmt.Sprintf(" (group %s)", group)
}
