// Package deployment checks Deployments against the Services that select
// their pods.
package deployment

import (
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{MultiService}

// MultiService reports Deployments whose pods several Services select in
// ways Istio cannot reconcile.
var MultiService = &analysis.Analyzer{
	Name: "deployment.MultiService",
	Doc: "check services that select the same mesh deployment\n\n" +
		"For a Deployment in the mesh (with an istio-proxy container, sidecar.istio.io/inject=\"true\", or in a " +
		"namespace labeled istio-injection=enabled), the Services of its namespace whose selectors match its " +
		"pod template must not expose one port number with different protocols (IST0116), nor map one " +
		"targetPort from different service ports (IST0137). Waypoint deployments are skipped.",
	Codes: []*analysis.Code{codes.DeploymentAssociatedToMultipleServices, codes.DeploymentConflictingPorts},
	Run:   run,
}

func run(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	idx := indexServices(snap)
	for _, o := range snap.List(mesh.Deployment) {
		d, ok := o.Obj.(*appsv1.Deployment)
		if !ok || d == nil || o.Labels()["gateway.istio.io/managed"] == "istio.io-mesh-controller" {
			continue
		}
		if !inMesh(snap, o.Namespace(), &d.Spec.Template) {
			continue
		}
		svcs := idx.selecting(o.Namespace(), d.Spec.Template.Labels)
		if len(svcs) == 0 {
			continue
		}
		checkProtocols(p, o, svcs)
		checkTargetPorts(p, o, svcs)
	}
	return nil, nil
}

// service is a Service with a non-empty selector.
type service struct {
	obj  *mesh.Object
	spec *corev1.ServiceSpec
}

type nsLabel struct{ ns, key, value string }

// serviceIndex files each Service under one pair of its selector, so a
// Deployment only looks at Services sharing one of its labels, and sees
// each at most once.
type serviceIndex map[nsLabel][]service

func indexServices(snap *mesh.Snapshot) serviceIndex {
	idx := serviceIndex{}
	for _, o := range snap.List(mesh.Service) {
		svc, ok := o.Obj.(*corev1.Service)
		if !ok || svc == nil || len(svc.Spec.Selector) == 0 {
			continue
		}
		key := ""
		for k := range svc.Spec.Selector {
			if key == "" || k < key {
				key = k
			}
		}
		l := nsLabel{o.Namespace(), key, svc.Spec.Selector[key]}
		idx[l] = append(idx[l], service{o, &svc.Spec})
	}
	return idx
}

// selecting returns the Services of ns whose selector matches labels,
// sorted by name.
func (idx serviceIndex) selecting(ns string, labels map[string]string) []service {
	var out []service
	for k, v := range labels {
		for _, s := range idx[nsLabel{ns, k, v}] {
			if mesh.MatchLabels(s.spec.Selector, labels) {
				out = append(out, s)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].obj.Name() < out[j].obj.Name() })
	return out
}

// inMesh says whether a Deployment's pods get a proxy: an explicit proxy
// container, else the pod's inject label, else its annotation, else the
// namespace's istio-injection label.
func inMesh(snap *mesh.Snapshot, ns string, tmpl *corev1.PodTemplateSpec) bool {
	for _, c := range tmpl.Spec.Containers {
		if c.Name == "istio-proxy" && c.Image != "" {
			return true
		}
	}
	for _, m := range []map[string]string{tmpl.Labels, tmpl.Annotations} {
		if v, ok := m["sidecar.istio.io/inject"]; ok {
			return v == "true"
		}
	}
	if n := snap.Namespace(ns); n != nil {
		return n.Labels["istio-injection"] == "enabled"
	}
	return false
}

// checkProtocols reports each port number the Services expose with more
// than one protocol (the port's protocol field, TCP when unset).
func checkProtocols(p *analysis.Pass, o *mesh.Object, svcs []service) {
	byPort := map[int32]map[corev1.Protocol][]string{}
	for _, s := range svcs {
		for _, port := range s.spec.Ports {
			proto := port.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if byPort[port.Port] == nil {
				byPort[port.Port] = map[corev1.Protocol][]string{}
			}
			byPort[port.Port][proto] = append(byPort[port.Port][proto], s.obj.Name())
		}
	}
	for _, port := range sortedKeys(byPort) {
		protos := byPort[port]
		if len(protos) < 2 {
			continue
		}
		var uses []string
		for proto, names := range protos {
			for _, n := range names {
				uses = append(uses, n+" ("+string(proto)+")")
			}
		}
		sort.Strings(uses)
		p.Reportf(codes.DeploymentAssociatedToMultipleServices, o,
			"deployment %s/%s is selected by services that expose port %d with different protocols: %s; "+
				"its pods cannot serve both, so give the port one protocol in every service",
			o.Namespace(), o.Name(), port, strings.Join(uses, ", "))
	}
}

// checkTargetPorts reports each targetPort reached from more than one
// service port number.
func checkTargetPorts(p *analysis.Pass, o *mesh.Object, svcs []service) {
	byTarget := map[string]map[int32]string{}
	for _, s := range svcs {
		for _, port := range s.spec.Ports {
			target := port.TargetPort.String()
			if target == "" || target == "0" {
				target = strconv.Itoa(int(port.Port))
			}
			if byTarget[target] == nil {
				byTarget[target] = map[int32]string{}
			}
			byTarget[target][port.Port] = s.obj.Name()
		}
	}
	targets := make([]string, 0, len(byTarget))
	for t := range byTarget {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		ports := byTarget[t]
		if len(ports) < 2 {
			continue
		}
		var uses []string
		for _, port := range sortedKeys(ports) {
			uses = append(uses, ports[port]+" port "+strconv.Itoa(int(port)))
		}
		p.Reportf(codes.DeploymentConflictingPorts, o,
			"deployment %s/%s: targetPort %s is reached from different service ports (%s); Istio expects one "+
				"service port per targetPort, so use the same port number in every service",
			o.Namespace(), o.Name(), t, strings.Join(uses, ", "))
	}
}

func sortedKeys[V any](m map[int32]V) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
