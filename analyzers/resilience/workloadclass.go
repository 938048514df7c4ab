package resilience

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// WorkloadClass reports workload-class values that name no class.
var WorkloadClass = &analysis.Analyzer{
	Name: "resilience.WorkloadClass",
	Doc: "unknown workload classes\n\n" +
		"Reports a " + ClassKey + " label or annotation on a VirtualService, Service or workload controller " +
		"whose value is not api, batch or streaming; the value is ignored when thresholds are chosen.",
	Codes: []*analysis.Code{codes.UnknownWorkloadClass},
	Run:   runWorkloadClass,
}

// classKinds are the kinds whose class is read.
var classKinds = []mesh.GroupKind{mesh.VirtualService, mesh.Service, mesh.Deployment, mesh.StatefulSet,
	mesh.DaemonSet, mesh.ReplicaSet, mesh.Pod}

func runWorkloadClass(p *analysis.Pass) (any, error) {
	known := make([]string, 0, len(Classes))
	for k := range Classes {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, gk := range classKinds {
		for _, o := range p.Snapshot.List(gk) {
			if o.Meta == nil {
				continue
			}
			for _, src := range []struct {
				what string
				m    map[string]string
			}{{"annotation", o.Annotations()}, {"label", o.Labels()}} {
				v, ok := src.m[ClassKey]
				if !ok || Classes[v].Name != "" {
					continue
				}
				p.Report(analysis.NewFinding(codes.UnknownWorkloadClass, o, fmt.Sprintf(
					"%s %s is %q, which names no workload class (want %s); it is ignored",
					src.what, ClassKey, v, strings.Join(known, ", "))))
			}
		}
	}
	return nil, nil
}
