package ambient

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	telemetry "istio.io/api/telemetry/v1alpha1"
	typev1beta1 "istio.io/api/type/v1beta1"

	extensions "istio.io/api/extensions/v1alpha1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// L7Config checks L7 configuration in ambient namespaces.
var L7Config = &analysis.Analyzer{
	Name: "ambient.L7Config",
	Doc: "report L7 configuration in ambient namespaces that no waypoint applies\n\n" +
		"In ambient mode ztunnel handles L4 only; VirtualServices, L7 DestinationRule settings, AuthorizationPolicies " +
		"with HTTP attributes, RequestAuthentications, WasmPlugins and L7 Telemetry take effect only in a waypoint, " +
		"for traffic enrolled with istio.io/use-waypoint, and only when attached with targetRefs (routes and " +
		"DestinationRules: from the Service's own namespace). Waypoint policies also need a ztunnel policy that " +
		"admits only the waypoint, or clients can bypass it.",
	Codes: []*analysis.Code{codes.AuthorizationPolicyL7NoWaypoint, codes.AuthorizationPolicyL7Selector,
		codes.DestinationRuleL7NoWaypoint, codes.DestinationRuleServiceNotCaptured, codes.DestinationRuleNotInServiceNamespace,
		codes.VirtualServiceL7NoWaypoint, codes.RequestAuthenticationNoWaypoint, codes.WasmPluginNoWaypoint,
		codes.TelemetryNoWaypoint, codes.VirtualServiceServiceNotCaptured, codes.VirtualServiceNotInServiceNamespace,
		codes.RequestAuthenticationSelector, codes.WasmPluginSelector, codes.TelemetrySelector, codes.WaypointBypass},
	Run: runL7,
}

// attachable is what the policy kinds have in common.
type attachable interface {
	GetSelector() *typev1beta1.WorkloadSelector
	GetTargetRef() *typev1beta1.PolicyTargetReference
	GetTargetRefs() []*typev1beta1.PolicyTargetReference
}

// policyCodes are the two findings of a policy kind: attached by selector,
// and applying to traffic that uses no waypoint.
type policyCodes struct{ selector, noWaypoint *analysis.Code }

type l7Pass struct {
	p    *analysis.Pass
	snap *mesh.Snapshot
	ns   map[string]nsMode
}

func (l *l7Pass) mode(name string) nsMode {
	m, ok := l.ns[name]
	if !ok {
		m = namespaceMode(l.snap, name)
		l.ns[name] = m
	}
	return m
}

func runL7(p *analysis.Pass) (any, error) {
	l := &l7Pass{p: p, snap: p.Snapshot, ns: map[string]nsMode{}}
	for _, o := range l.snap.List(mesh.AuthorizationPolicy) {
		if ap, ok := o.Obj.(*security.AuthorizationPolicy); ok && isL7Policy(ap) {
			l.checkPolicy(o, ap, policyCodes{codes.AuthorizationPolicyL7Selector, codes.AuthorizationPolicyL7NoWaypoint})
		}
	}
	for _, o := range l.snap.List(mesh.RequestAuthentication) {
		if ra, ok := o.Obj.(*security.RequestAuthentication); ok {
			l.checkPolicy(o, ra, policyCodes{codes.RequestAuthenticationSelector, codes.RequestAuthenticationNoWaypoint})
		}
	}
	for _, o := range l.snap.List(mesh.WasmPlugin) {
		if wp, ok := o.Obj.(*extensions.WasmPlugin); ok {
			l.checkPolicy(o, wp, policyCodes{codes.WasmPluginSelector, codes.WasmPluginNoWaypoint})
		}
	}
	for _, o := range l.snap.List(mesh.Telemetry) {
		if t, ok := o.Obj.(*telemetry.Telemetry); ok && isL7Telemetry(t) {
			l.checkPolicy(o, t, policyCodes{codes.TelemetrySelector, codes.TelemetryNoWaypoint})
		}
	}
	for _, o := range l.snap.List(mesh.VirtualService) {
		if vs, ok := o.Obj.(*networking.VirtualService); ok && vsNeedsWaypoint(vs) {
			l.checkHosts(o, vs.GetHosts(), hostCodes{codes.VirtualServiceNotInServiceNamespace,
				codes.VirtualServiceServiceNotCaptured, codes.VirtualServiceL7NoWaypoint})
		}
	}
	for _, o := range l.snap.List(mesh.DestinationRule) {
		if dr, ok := o.Obj.(*networking.DestinationRule); ok && isL7DestinationRule(dr) {
			l.checkHosts(o, []string{dr.GetHost()}, hostCodes{codes.DestinationRuleNotInServiceNamespace,
				codes.DestinationRuleServiceNotCaptured, codes.DestinationRuleL7NoWaypoint})
		}
	}
	l.checkBypass()
	return nil, nil
}

// checkPolicy reports a policy of an ambient namespace attached by selector,
// or applying to workloads (or a namespace) that use no waypoint.
func (l *l7Pass) checkPolicy(o *mesh.Object, pol attachable, c policyCodes) {
	ns := o.Namespace()
	m := l.mode(ns)
	if !m.ambient {
		return
	}
	refs := targetRefs(pol.GetTargetRef(), pol.GetTargetRefs())
	if len(refs) == 0 {
		how := "has no targetRefs (it applies namespace-wide)"
		if len(pol.GetSelector().GetMatchLabels()) > 0 {
			how = "is attached by selector " + mesh.FormatLabels(pol.GetSelector().GetMatchLabels())
		}
		l.p.Reportf(c.selector, o, "%s %s/%s in ambient namespace %s %s: waypoints ignore it and ztunnel cannot apply L7 rules; attach it with targetRefs",
			o.Kind, ns, o.Name(), ns, how)
		if reason := l.selectorWithoutWaypoint(ns, m, pol.GetSelector().GetMatchLabels()); reason != "" {
			l.p.Reportf(c.noWaypoint, o, "%s %s/%s needs a waypoint, but %s", o.Kind, ns, o.Name(), reason)
		}
		return
	}
	for _, r := range refs {
		if !isServiceRef(r) {
			continue
		}
		svc := l.snap.Get(mesh.Service, ns, r.GetName())
		if svc != nil && !enrolled(svc.Labels(), m.labels) {
			l.p.Reportf(c.noWaypoint, o, "%s %s/%s targets Service %s, which is not enrolled to a waypoint (no %s on it or its namespace), so nothing enforces it",
				o.Kind, ns, o.Name(), r.GetName(), labelUseWaypoint)
			return
		}
	}
}

// selectorWithoutWaypoint says why workloads a selector reaches use no
// waypoint, or "" when they all do.
func (l *l7Pass) selectorWithoutWaypoint(ns string, m nsMode, selector map[string]string) string {
	nsReason := "namespace " + ns + " is not enrolled to a waypoint (no " + labelUseWaypoint + " label)"
	if len(selector) == 0 {
		if enrolled(nil, m.labels) {
			return ""
		}
		return nsReason
	}
	matched := false
	for _, w := range l.snap.SelectWorkloads(ns, selector) {
		if isGateway(w) {
			continue
		}
		matched = true
		if !enrolled(w.Labels, m.labels) {
			return "the selected " + workloadName(w) + " is not enrolled to a waypoint (no " + labelUseWaypoint + " on it or its namespace)"
		}
	}
	if !matched && !enrolled(nil, m.labels) {
		return nsReason
	}
	return ""
}

type hostCodes struct{ otherNamespace, notCaptured, noWaypoint *analysis.Code }

// checkHosts reports VirtualServices and DestinationRules for ambient
// Services that no waypoint applies them for.
func (l *l7Pass) checkHosts(o *mesh.Object, hosts []string, c hostCodes) {
	ns := o.Namespace()
	resolved := false
	seen := map[string]bool{}
	for _, h := range hosts {
		svcNS, svcName, ok := l.serviceOf(h, ns)
		if !ok {
			continue
		}
		sm := l.mode(svcNS)
		svc := l.snap.Get(mesh.Service, svcNS, svcName)
		if !sm.ambient || svc == nil {
			continue
		}
		resolved = true
		key := svcNS + "/" + svcName
		if seen[key] {
			continue
		}
		seen[key] = true
		if svcNS != ns {
			l.p.Reportf(c.otherNamespace, o, "%s %s/%s configures ambient Service %s from namespace %s; waypoints only apply it from the Service's namespace %s",
				o.Kind, ns, o.Name(), key, ns, svcNS)
		}
		if !enrolled(svc.Labels(), sm.labels) {
			l.p.Reportf(c.notCaptured, o, "host %q is ambient Service %s, which is not enrolled to a waypoint (no %s on it or its namespace), so this L7 configuration is not applied",
				h, key, labelUseWaypoint)
		}
	}
	if m := l.mode(ns); !resolved && m.ambient && !enrolled(nil, m.labels) {
		l.p.Reportf(c.noWaypoint, o, "%s %s/%s has L7 settings in ambient namespace %s, which is not enrolled to a waypoint (no %s label)",
			o.Kind, ns, o.Name(), ns, labelUseWaypoint)
	}
}

// serviceOf resolves a host to a Kubernetes Service name and namespace:
// "name", "name.ns", "name.ns.svc" or "name.ns.svc.<domain>".
func (l *l7Pass) serviceOf(host, ns string) (string, string, bool) {
	if host == "" || strings.HasPrefix(host, "*") {
		return "", "", false
	}
	parts := strings.Split(host, ".")
	switch {
	case len(parts) == 1:
		return ns, parts[0], true
	case len(parts) == 2:
		return parts[1], parts[0], l.snap.Namespace(parts[1]) != nil
	case parts[2] == "svc" && (len(parts) == 3 || strings.Join(parts[3:], ".") == l.snap.DomainSuffix):
		return parts[1], parts[0], true
	}
	return "", "", false
}

// vsNeedsWaypoint: HTTP or TLS routes applied to mesh (east-west) traffic.
func vsNeedsWaypoint(vs *networking.VirtualService) bool {
	if len(vs.GetHttp())+len(vs.GetTls()) == 0 {
		return false
	}
	gws := vs.GetGateways()
	if len(gws) == 0 {
		return true
	}
	for _, g := range gws {
		if g == "mesh" {
			return true
		}
	}
	return false
}

func isL7DestinationRule(dr *networking.DestinationRule) bool {
	if l7TrafficPolicy(dr.GetTrafficPolicy()) {
		return true
	}
	for _, s := range dr.GetSubsets() {
		if l7TrafficPolicy(s.GetTrafficPolicy()) {
			return true
		}
	}
	return false
}

func l7TrafficPolicy(tp *networking.TrafficPolicy) bool {
	if tp == nil {
		return false
	}
	if l7Settings(tp.GetLoadBalancer(), tp.GetConnectionPool(), tp.GetOutlierDetection()) {
		return true
	}
	for _, pl := range tp.GetPortLevelSettings() {
		if l7Settings(pl.GetLoadBalancer(), pl.GetConnectionPool(), pl.GetOutlierDetection()) {
			return true
		}
	}
	return false
}

func l7Settings(lb *networking.LoadBalancerSettings, cp *networking.ConnectionPoolSettings, od *networking.OutlierDetection) bool {
	ch := lb.GetConsistentHash()
	return ch.GetHttpHeaderName() != "" || ch.GetHttpCookie() != nil || ch.GetHttpQueryParameterName() != "" ||
		cp.GetHttp() != nil || od != nil
}

func isL7Telemetry(t *telemetry.Telemetry) bool {
	if len(t.GetTracing())+len(t.GetAccessLogging()) > 0 {
		return true
	}
	for _, m := range t.GetMetrics() {
		if len(m.GetOverrides()) > 0 {
			return true
		}
	}
	return false
}
