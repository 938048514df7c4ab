package ambient

import (
	"strings"

	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// checkBypass reports policies enforced at a waypoint whose workloads have
// no ztunnel ALLOW policy admitting the waypoint's identity: without one,
// a client connecting straight to the pods skips the waypoint.
func (l *l7Pass) checkBypass() {
	// principals admitted by ztunnel-enforced ALLOW policies, by namespace.
	admitted := map[string][]string{}
	var waypointPolicies []*mesh.Object
	for _, o := range l.snap.List(mesh.AuthorizationPolicy) {
		ap, ok := o.Obj.(*security.AuthorizationPolicy)
		if !ok {
			continue
		}
		if len(targetRefs(ap.GetTargetRef(), ap.GetTargetRefs())) > 0 {
			if ap.GetAction() != security.AuthorizationPolicy_AUDIT {
				waypointPolicies = append(waypointPolicies, o)
			}
			continue
		}
		if ap.GetAction() != security.AuthorizationPolicy_ALLOW {
			continue
		}
		for _, r := range ap.GetRules() {
			for _, f := range r.GetFrom() {
				admitted[o.Namespace()] = append(admitted[o.Namespace()], f.GetSource().GetPrincipals()...)
			}
		}
	}
	root := l.snap.RootNamespace()
	for _, o := range waypointPolicies {
		ns := o.Namespace()
		if !l.mode(ns).ambient {
			continue
		}
		ap := o.Obj.(*security.AuthorizationPolicy)
		for _, wp := range l.waypointsOf(ns, ap) {
			if admits(admitted[ns], wp) || admits(admitted[root], wp) {
				continue
			}
			l.p.Reportf(codes.WaypointBypass, o,
				"AuthorizationPolicy %s/%s is enforced by waypoint %s, but no ztunnel ALLOW policy in namespace %s admits only the waypoint's identity (principal .../ns/%s/sa/%s): clients that connect to the pods directly bypass it",
				ns, o.Name(), wp[0]+"/"+wp[1], ns, wp[0], wp[1])
			break
		}
	}
}

// waypointsOf returns the waypoints (namespace, name) a policy's targetRefs
// reach: a waypoint Gateway itself, or the waypoint a Service uses.
func (l *l7Pass) waypointsOf(ns string, ap *security.AuthorizationPolicy) [][2]string {
	var out [][2]string
	for _, r := range targetRefs(ap.GetTargetRef(), ap.GetTargetRefs()) {
		refNS := ns
		if r.GetNamespace() != "" {
			refNS = r.GetNamespace()
		}
		switch {
		case isGatewayRef(r):
			if isWaypoint(l.snap.Get(mesh.KubeGateway, refNS, r.GetName())) {
				out = append(out, [2]string{refNS, r.GetName()})
			}
		case isServiceRef(r):
			svc := l.snap.Get(mesh.Service, refNS, r.GetName())
			if svc == nil {
				continue
			}
			if wns, wname, ok := waypointRef(svc.Labels(), l.mode(refNS).labels, refNS); ok {
				out = append(out, [2]string{wns, wname})
			}
		}
	}
	return out
}

// admits reports whether one of principals is the waypoint's service
// account, in any trust domain. Istio names a waypoint's service account
// after its Gateway.
func admits(principals []string, wp [2]string) bool {
	suffix := "/ns/" + wp[0] + "/sa/" + wp[1]
	for _, p := range principals {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}
