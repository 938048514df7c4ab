// Package deprecation reports Istio fields and resource types that Istio
// has deprecated or removed.
package deprecation

import (
	networking "istio.io/api/networking/v1alpha3"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Fields}

// Fields reports deprecated fields and removed custom resource types.
var Fields = &analysis.Analyzer{
	Name: "deprecation.Fields",
	Doc: "report deprecated Istio fields and removed resource types\n\n" +
		"A VirtualService fault delay given as an integer percent (replaced by percentage), a Sidecar " +
		"outboundTrafficPolicy.egressProxy (which Istio ignores), and CustomResourceDefinitions of the removed " +
		"rbac.istio.io kinds.",
	Codes: []*analysis.Code{codes.Deprecated},
	Run:   run,
}

// removedKinds are Istio custom resource kinds no longer served.
var removedKinds = map[mesh.GroupKind]bool{
	{Group: "rbac.istio.io", Kind: "ClusterRbacConfig"}:  true,
	{Group: "rbac.istio.io", Kind: "RbacConfig"}:         true,
	{Group: "rbac.istio.io", Kind: "ServiceRole"}:        true,
	{Group: "rbac.istio.io", Kind: "ServiceRoleBinding"}: true,
}

func run(p *analysis.Pass) (any, error) {
	for _, o := range p.Snapshot.List(mesh.VirtualService) {
		vs, _ := o.Obj.(*networking.VirtualService)
		for i, r := range vs.GetHttp() {
			//nolint:staticcheck // reading the deprecated field is the point
			if r.GetFault().GetDelay().GetPercent() > 0 {
				p.Reportf(codes.Deprecated, o, "http[%d].fault.delay.percent is deprecated; give the share of delayed requests in fault.delay.percentage.value", i)
			}
		}
	}
	for _, o := range p.Snapshot.List(mesh.Sidecar) {
		sc, _ := o.Obj.(*networking.Sidecar)
		if sc.GetOutboundTrafficPolicy().GetEgressProxy() != nil {
			p.Reportf(codes.Deprecated, o, "outboundTrafficPolicy.egressProxy is deprecated and ignored by Istio; remove it")
		}
	}
	for _, o := range p.Snapshot.List(mesh.CustomResourceDefinition) {
		crd, _ := o.Obj.(*apiextv1.CustomResourceDefinition)
		if crd == nil {
			continue
		}
		gk := mesh.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
		if removedKinds[gk] {
			p.Reportf(codes.Deprecated, o, "custom resource type %s was removed from Istio; delete this definition and its resources", gk)
		}
	}
	return nil, nil
}
