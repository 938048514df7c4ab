package ambient

import (
	security "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Enrolment checks how namespaces and workloads join ambient mode.
var Enrolment = &analysis.Analyzer{
	Name: "ambient.Enrolment",
	Doc: "report conflicting ambient, sidecar and waypoint enrolment\n\n" +
		"A workload is in one data plane: sidecar or ambient. Labels that ask for both, sidecars left in " +
		"ambient namespaces, istio.io/use-waypoint naming a waypoint that does not exist or set on a " +
		"workload outside ambient mode, and L7 authorization policies for ambient workloads without a " +
		"waypoint all leave traffic handled differently than the labels say.",
	Codes: []*analysis.Code{codes.AmbientNamespaceWithInjection, codes.AmbientWorkloadSidecarAndAmbient,
		codes.AmbientWaypointWithoutAmbient, codes.AmbientWaypointNotFound, codes.AmbientRedirectedPodWithSidecarLabel,
		codes.AmbientLabelledPodWithSidecar, codes.AmbientNamespaceSidecarWorkload, codes.AmbientL7PolicyWithoutWaypoint},
	Run: runEnrolment,
}

type enrolmentPass struct {
	p    *analysis.Pass
	snap *mesh.Snapshot
	ns   map[string]nsMode
	// l7 holds the L7 AuthorizationPolicies of each namespace.
	l7 map[string][]*mesh.Object
}

func (e *enrolmentPass) mode(name string) nsMode {
	m, ok := e.ns[name]
	if !ok {
		m = namespaceMode(e.snap, name)
		e.ns[name] = m
	}
	return m
}

func runEnrolment(p *analysis.Pass) (any, error) {
	e := &enrolmentPass{p: p, snap: p.Snapshot, ns: map[string]nsMode{}, l7: map[string][]*mesh.Object{}}
	for _, o := range e.snap.List(mesh.AuthorizationPolicy) {
		if ap, ok := o.Obj.(*security.AuthorizationPolicy); ok && isL7Policy(ap) {
			e.l7[o.Namespace()] = append(e.l7[o.Namespace()], o)
		}
	}
	for _, o := range e.snap.List(mesh.Namespace) {
		e.checkNamespace(o)
	}
	for _, o := range e.snap.List(mesh.Service) {
		e.checkWaypointLabel(o, o.Labels(), o.Namespace())
	}
	for _, o := range e.snap.List(mesh.ServiceEntry) {
		e.checkWaypointLabel(o, o.Labels(), o.Namespace())
	}
	for _, w := range e.snap.Workloads() {
		e.checkWorkload(w)
	}
	return nil, nil
}

func (e *enrolmentPass) checkNamespace(o *mesh.Object) {
	m := e.mode(o.Name())
	if m.ambient && m.injection {
		e.p.Reportf(codes.AmbientNamespaceWithInjection, o,
			"namespace %s is labelled %s=ambient and enables sidecar injection (%s): injection takes precedence, so its pods get sidecars instead of joining ambient mode",
			o.Name(), mesh.LabelDataplaneMode, injectionLabels(m.labels))
	}
	if _, _, ok := waypointRef(m.labels, nil, o.Name()); ok && !m.ambient {
		e.p.Reportf(codes.AmbientWaypointWithoutAmbient, o,
			"namespace %s sets %s=%s but is not labelled %s=ambient: only ambient traffic is sent through waypoints",
			o.Name(), labelUseWaypoint, m.labels[labelUseWaypoint], mesh.LabelDataplaneMode)
	}
	e.checkWaypointLabel(o, m.labels, o.Name())
}

func injectionLabels(l map[string]string) string {
	if l[mesh.LabelInjection] == injectionEnabled {
		return mesh.LabelInjection + "=" + injectionEnabled
	}
	return mesh.LabelRevision + "=" + l[mesh.LabelRevision]
}

// checkWaypointLabel reports an istio.io/use-waypoint label on the object
// itself that names no waypoint.
func (e *enrolmentPass) checkWaypointLabel(o *mesh.Object, own map[string]string, namespace string) {
	if _, set := own[labelUseWaypoint]; !set {
		return
	}
	wpNS, wpName, ok := waypointRef(own, nil, namespace)
	if !ok {
		return
	}
	gw := e.snap.Get(mesh.KubeGateway, wpNS, wpName)
	switch {
	case gw == nil:
		e.p.Reportf(codes.AmbientWaypointNotFound, o,
			"%s=%s names waypoint %s/%s, but no Gateway of that name exists in namespace %s", labelUseWaypoint, wpName, wpNS, wpName, wpNS)
	case !isWaypoint(gw):
		e.p.Reportf(codes.AmbientWaypointNotFound, o,
			"%s=%s names Gateway %s/%s, whose gatewayClassName is %q, not %s: it is not a waypoint",
			labelUseWaypoint, wpName, wpNS, wpName, gatewayClass(gw), waypointClass)
	}
}

func (e *enrolmentPass) checkWorkload(w *mesh.Workload) {
	if isGateway(w) {
		return
	}
	m := e.mode(w.Namespace)
	own := w.Labels[mesh.LabelDataplaneMode]
	name := workloadName(w)
	proxy := hasProxy(w)

	// Both enrolments: the namespace-only case is reported on the namespace.
	if ambientLabelled(w, m) && sidecarEnabled(w, m) && (own == dataplaneAmbient || w.Labels[mesh.LabelSidecarInject] == sidecarInjectTrue) {
		e.p.Reportf(codes.AmbientWorkloadSidecarAndAmbient, w.Object,
			"%s is enrolled in ambient mode (%s) and enabled for sidecar injection (%s): a workload runs in one data plane only",
			name, ambientSource(w, m), sidecarSource(w, m))
	}
	if !w.FromTemplate && w.Annotations[mesh.AnnotationRedirection] == injectionEnabled && sidecarEnabled(w, m) {
		e.p.Reportf(codes.AmbientRedirectedPodWithSidecarLabel, w.Object,
			"pod %s is redirected to ztunnel (%s=enabled) while sidecar injection is enabled for it (%s)",
			w.Object.Name(), mesh.AnnotationRedirection, sidecarSource(w, m))
	}
	if proxy && own == dataplaneAmbient {
		e.p.Reportf(codes.AmbientLabelledPodWithSidecar, w.Object,
			"%s is labelled %s=ambient but runs an %s sidecar, so ambient mode skips it", name, mesh.LabelDataplaneMode, mesh.ProxyContainer)
	}
	if proxy && own == "" && m.ambient {
		e.p.Reportf(codes.AmbientNamespaceSidecarWorkload, w.Object,
			"%s runs an %s sidecar in namespace %s, which is labelled %s=ambient; restart it without injection to move it to ambient mode",
			name, mesh.ProxyContainer, w.Namespace, mesh.LabelDataplaneMode)
	}
	e.checkWorkloadWaypoint(w, m, name)
}

func (e *enrolmentPass) checkWorkloadWaypoint(w *mesh.Workload, m nsMode, name string) {
	if w.Labels[mesh.LabelDataplaneMode] == dataplaneNone {
		return
	}
	ambient := inAmbient(w, m)
	if _, set := w.Labels[labelUseWaypoint]; set {
		if _, _, ok := waypointRef(w.Labels, nil, w.Namespace); ok && !ambient {
			e.p.Reportf(codes.AmbientWaypointWithoutAmbient, w.Object,
				"%s sets %s=%s but is not in ambient mode: only ambient traffic is sent through waypoints",
				name, labelUseWaypoint, w.Labels[labelUseWaypoint])
		}
		e.checkWaypointLabel(w.Object, w.Labels, w.Namespace)
	}
	if !ambient || enrolled(w.Labels, m.labels) {
		return
	}
	for _, o := range e.l7[w.Namespace] {
		ap := o.Obj.(*security.AuthorizationPolicy)
		if e.policyApplies(ap, w) {
			e.p.Reportf(codes.AmbientL7PolicyWithoutWaypoint, w.Object,
				"%s runs in ambient mode without a waypoint, but AuthorizationPolicy %s/%s applies L7 rules to it, which ztunnel cannot enforce",
				name, o.Namespace(), o.Name())
			return
		}
	}
}

// policyApplies: namespace-wide, selector match, or a Service targetRef
// selecting the workload. Gateway targetRefs attach to a waypoint only.
func (e *enrolmentPass) policyApplies(ap *security.AuthorizationPolicy, w *mesh.Workload) bool {
	refs := targetRefs(ap.GetTargetRef(), ap.GetTargetRefs())
	if len(refs) > 0 {
		for _, r := range refs {
			if !isServiceRef(r) {
				continue
			}
			if svc := e.snap.Get(mesh.Service, w.Namespace, r.GetName()); svc != nil {
				if s, ok := svc.Obj.(*corev1.Service); ok && len(s.Spec.Selector) > 0 && mesh.MatchLabels(s.Spec.Selector, w.Labels) {
					return true
				}
			}
		}
		return false
	}
	return mesh.MatchLabels(ap.GetSelector().GetMatchLabels(), w.Labels)
}

func ambientSource(w *mesh.Workload, m nsMode) string {
	if w.Labels[mesh.LabelDataplaneMode] == dataplaneAmbient {
		return "its label " + mesh.LabelDataplaneMode + "=ambient"
	}
	return "namespace label " + mesh.LabelDataplaneMode + "=ambient"
}

func sidecarSource(w *mesh.Workload, m nsMode) string {
	if w.Labels[mesh.LabelSidecarInject] == sidecarInjectTrue {
		return "its label " + mesh.LabelSidecarInject + "=true"
	}
	if w.Labels[mesh.LabelRevision] != "" && !m.injection {
		return "its label " + mesh.LabelRevision + "=" + w.Labels[mesh.LabelRevision]
	}
	if m.injection {
		return "namespace " + injectionLabels(m.labels)
	}
	return "annotation " + mesh.LabelSidecarInject + "=true"
}

// isL7Policy reports whether an AuthorizationPolicy uses attributes only a
// waypoint (an HTTP proxy) can evaluate.
func isL7Policy(ap *security.AuthorizationPolicy) bool {
	for _, r := range ap.GetRules() {
		for _, c := range r.GetWhen() {
			if isL7Key(c.GetKey()) {
				return true
			}
		}
		for _, t := range r.GetTo() {
			op := t.GetOperation()
			if len(op.GetMethods())+len(op.GetNotMethods())+len(op.GetPaths())+len(op.GetNotPaths())+
				len(op.GetHosts())+len(op.GetNotHosts()) > 0 {
				return true
			}
		}
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			if len(s.GetRequestPrincipals())+len(s.GetNotRequestPrincipals()) > 0 {
				return true
			}
		}
	}
	return false
}

func isL7Key(key string) bool {
	return len(key) >= len("request.") && key[:len("request.")] == "request." ||
		len(key) >= len("experimental.") && key[:len("experimental.")] == "experimental."
}
