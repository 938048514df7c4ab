// Package ambient checks Istio's ambient data plane: how namespaces and
// workloads are enrolled (ambient, sidecar, waypoint), and L7 configuration
// that needs a waypoint to take effect; and WorkloadGroups, the templates
// of VM workloads that ambient and sidecar meshes alike admit.
package ambient

import (
	"strings"

	typev1beta1 "istio.io/api/type/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Enrolment, L7Config, WorkloadGroup}

// Labels of ambient mode that mesh does not define.
const (
	labelUseWaypoint   = "istio.io/use-waypoint"
	labelWaypointNS    = "istio.io/use-waypoint-namespace"
	waypointClass      = "istio-waypoint"
	gatewayNameLabel   = "gateway.networking.k8s.io/gateway-name"
	istioGatewayLabel  = "istio.io/gateway-name"
	dataplaneAmbient   = "ambient"
	dataplaneNone      = "none"
	injectionEnabled   = "enabled"
	injectionDisabled  = "disabled"
	sidecarInjectTrue  = "true"
	sidecarInjectFalse = "false"
)

// mode is what the labels of a namespace say about its data plane.
type nsMode struct {
	labels    map[string]string
	ambient   bool // istio.io/dataplane-mode=ambient
	injection bool // istio-injection=enabled or istio.io/rev
	disabled  bool // istio-injection=disabled
}

func namespaceMode(snap *mesh.Snapshot, name string) nsMode {
	ns := snap.Namespace(name)
	if ns == nil {
		return nsMode{}
	}
	l := ns.Labels
	return nsMode{
		labels:    l,
		ambient:   l[mesh.LabelDataplaneMode] == dataplaneAmbient,
		injection: l[mesh.LabelInjection] == injectionEnabled || (l[mesh.LabelRevision] != "" && l[mesh.LabelInjection] != injectionDisabled),
		disabled:  l[mesh.LabelInjection] == injectionDisabled,
	}
}

// ambientLabelled: the workload or its namespace asks for ambient mode and
// the workload does not opt out.
func ambientLabelled(w *mesh.Workload, ns nsMode) bool {
	switch w.Labels[mesh.LabelDataplaneMode] {
	case dataplaneAmbient:
		return true
	case dataplaneNone:
		return false
	}
	return ns.ambient
}

// sidecarEnabled: the injector would add a sidecar to the workload's pods.
func sidecarEnabled(w *mesh.Workload, ns nsMode) bool {
	v := w.Labels[mesh.LabelSidecarInject]
	if v == "" {
		v = w.Annotations[mesh.LabelSidecarInject]
	}
	if v == sidecarInjectFalse || ns.disabled {
		return false
	}
	return v == sidecarInjectTrue || ns.injection || w.Labels[mesh.LabelRevision] != ""
}

// hasProxy: the pod (or template) already carries the istio-proxy container.
func hasProxy(w *mesh.Workload) bool {
	if w.Spec == nil {
		return false
	}
	for _, list := range [][]corev1.Container{w.Spec.Containers, w.Spec.InitContainers} {
		for _, c := range list {
			if c.Name == mesh.ProxyContainer {
				return true
			}
		}
	}
	return false
}

// inAmbient: the workload's traffic is (or will be) captured by ztunnel.
func inAmbient(w *mesh.Workload, ns nsMode) bool {
	if w.Annotations[mesh.AnnotationRedirection] == injectionEnabled {
		return true
	}
	return !hasProxy(w) && !sidecarEnabled(w, ns) && ambientLabelled(w, ns)
}

// isGateway: waypoints and gateways are proxies themselves.
func isGateway(w *mesh.Workload) bool {
	_, a := w.Labels[gatewayNameLabel]
	_, b := w.Labels[istioGatewayLabel]
	return a || b || w.Labels["istio"] == "ingressgateway" || w.Labels["istio"] == "egressgateway"
}

// enrolled reports whether a resource uses a waypoint: its own
// istio.io/use-waypoint wins (including "none"), else its namespace's.
func enrolled(own, ns map[string]string) bool {
	if v, ok := own[labelUseWaypoint]; ok {
		return v != "" && v != dataplaneNone
	}
	v := ns[labelUseWaypoint]
	return v != "" && v != dataplaneNone
}

// waypointRef is the waypoint a resource's labels name, or ok=false.
func waypointRef(own, ns map[string]string, namespace string) (wpNS, wpName string, ok bool) {
	labels := own
	if _, set := own[labelUseWaypoint]; !set {
		labels = ns
	}
	name := labels[labelUseWaypoint]
	if name == "" || name == dataplaneNone {
		return "", "", false
	}
	if v := labels[labelWaypointNS]; v != "" {
		namespace = v
	}
	return namespace, name, true
}

// isWaypoint reports whether a Gateway API Gateway is an Istio waypoint.
func isWaypoint(o *mesh.Object) bool {
	return o != nil && gatewayClass(o) == waypointClass
}

func gatewayClass(o *mesh.Object) string {
	gw, ok := gatewayObj(o)
	if !ok {
		return ""
	}
	return string(gw.Spec.GatewayClassName)
}

// targetRefs joins targetRef and targetRefs.
func targetRefs(one *typev1beta1.PolicyTargetReference, many []*typev1beta1.PolicyTargetReference) []*typev1beta1.PolicyTargetReference {
	if one == nil {
		return many
	}
	return append([]*typev1beta1.PolicyTargetReference{one}, many...)
}

func isServiceRef(r *typev1beta1.PolicyTargetReference) bool {
	return r.GetKind() == "Service" && (r.GetGroup() == "" || r.GetGroup() == "core")
}

func isGatewayRef(r *typev1beta1.PolicyTargetReference) bool {
	return r.GetKind() == "Gateway" && r.GetGroup() == mesh.GroupGatewayAPI
}

func workloadName(w *mesh.Workload) string {
	if w.FromTemplate {
		return w.Object.Kind + " " + w.Object.Name() + " (pod template)"
	}
	return w.Object.Kind + " " + w.Object.Name()
}

func joinNames(objs []*mesh.Object) string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Name()
	}
	return strings.Join(out, ", ")
}
