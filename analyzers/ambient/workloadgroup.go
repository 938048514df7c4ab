package ambient

import (
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// WorkloadGroup checks WorkloadGroups, the templates of VM workloads.
var WorkloadGroup = &analysis.Analyzer{
	Name: "ambient.WorkloadGroup",
	Doc: "report WorkloadGroups with a missing service account or duplicate labels\n\n" +
		"A WorkloadGroup's template.serviceAccount must name a ServiceAccount of its namespace (\"default\" " +
		"always exists), and two WorkloadGroups of a namespace should not give their workloads the same labels.",
	Codes: []*analysis.Code{codes.WorkloadGroupServiceAccountNotFound, codes.WorkloadGroupDuplicateLabels},
	Run:   runWorkloadGroup,
}

func runWorkloadGroup(p *analysis.Pass) (any, error) {
	byLabels := map[[2]string][]*mesh.Object{}
	var order [][2]string
	for _, o := range p.Snapshot.List(mesh.WorkloadGroup) {
		wg, ok := o.Obj.(*networking.WorkloadGroup)
		if !ok {
			continue
		}
		ns := o.Namespace()
		if sa := wg.GetTemplate().GetServiceAccount(); sa != "" && sa != "default" && p.Snapshot.Get(mesh.ServiceAccount, ns, sa) == nil {
			p.Reportf(codes.WorkloadGroupServiceAccountNotFound, o,
				"spec.template.serviceAccount %q names no ServiceAccount in namespace %s", sa, ns)
		}
		labels := wg.GetMetadata().GetLabels()
		if len(labels) == 0 {
			continue
		}
		k := [2]string{ns, mesh.FormatLabels(labels)}
		if byLabels[k] == nil {
			order = append(order, k)
		}
		byLabels[k] = append(byLabels[k], o)
	}
	for _, k := range order {
		groups := byLabels[k]
		if len(groups) < 2 {
			continue
		}
		for _, o := range groups {
			p.Reportf(codes.WorkloadGroupDuplicateLabels, o,
				"WorkloadGroups %s of namespace %s all label their workloads %s", joinNames(groups), k[0], k[1])
		}
	}
	return nil, nil
}
