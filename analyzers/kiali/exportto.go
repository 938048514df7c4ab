package kiali

import (
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// ExportTo reports exportTo entries naming namespaces that do not exist.
var ExportTo = &analysis.Analyzer{
	Name: "kiali.ExportTo",
	Doc: "report exportTo entries of VirtualServices, DestinationRules and ServiceEntries naming unknown namespaces\n\n" +
		"Besides \".\", \"*\" and \"~\", each exportTo entry names a namespace, which must exist. The check runs " +
		"only when the inputs hold Namespace objects; namespaces holding any object count as existing.",
	Codes: []*analysis.Code{codes.ExportToNamespaceNotFound},
	Run:   runExportTo,
}

func runExportTo(p *analysis.Pass) (any, error) {
	known := knownNamespaces(p.Snapshot)
	if known == nil {
		return nil, nil
	}
	for _, gk := range []mesh.GroupKind{mesh.VirtualService, mesh.DestinationRule, mesh.ServiceEntry} {
		for _, o := range p.Snapshot.List(gk) {
			for _, ns := range exportTo(o) {
				if ns == "." || ns == "*" || ns == "~" || known[ns] {
					continue
				}
				p.Reportf(codes.ExportToNamespaceNotFound, o, "exportTo names namespace %q, which does not exist", ns)
			}
		}
	}
	return nil, nil
}

func exportTo(o *mesh.Object) []string {
	switch v := o.Obj.(type) {
	case *networking.VirtualService:
		return v.GetExportTo()
	case *networking.DestinationRule:
		return v.GetExportTo()
	case *networking.ServiceEntry:
		return v.GetExportTo()
	}
	return nil
}
