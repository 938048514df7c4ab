package kiali

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Service checks that Service ports reach a port the selected workloads
// declare.
var Service = &analysis.Analyzer{
	Name: "kiali.Service",
	Doc: "report Service ports whose target port no selected workload declares\n\n" +
		"Each port of a Service with a selector targets a container port by number (targetPort, or the " +
		"port itself) or by name; at least one container of the workloads the selector matches should " +
		"declare it. Services of the root namespace, where Istio's own debug ports live, are skipped.",
	Codes: []*analysis.Code{codes.ServiceTargetPortNotExposed},
	Run:   runService,
}

func runService(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	root := snap.RootNamespace()
	for _, o := range snap.List(mesh.Service) {
		svc, ok := o.Obj.(*corev1.Service)
		if !ok || svc == nil || o.Namespace() == root || len(svc.Spec.Selector) == 0 {
			continue
		}
		ws := snap.SelectWorkloads(o.Namespace(), svc.Spec.Selector)
		if len(ws) == 0 {
			continue
		}
		for i, sp := range svc.Spec.Ports {
			if exposed(ws, sp) {
				continue
			}
			p.Reportf(codes.ServiceTargetPortNotExposed, o,
				"ports[%d] (%d) targets container port %s, which none of the %d workload(s) selected by %s declares",
				i, sp.Port, target(sp), len(ws), mesh.FormatLabels(svc.Spec.Selector))
		}
	}
	return nil, nil
}

func target(sp corev1.ServicePort) string {
	if sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "" {
		return quote(sp.TargetPort.StrVal)
	}
	if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0 {
		return itoa(int(sp.TargetPort.IntVal))
	}
	return itoa(int(sp.Port))
}

func exposed(ws []*mesh.Workload, sp corev1.ServicePort) bool {
	byName := sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != ""
	number := sp.Port
	if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0 {
		number = sp.TargetPort.IntVal
	}
	for _, w := range ws {
		if w.Spec == nil {
			continue
		}
		for _, c := range w.Spec.Containers {
			for _, cp := range c.Ports {
				if (byName && cp.Name == sp.TargetPort.StrVal) || (!byName && cp.ContainerPort == number) {
					return true
				}
			}
		}
	}
	return false
}
