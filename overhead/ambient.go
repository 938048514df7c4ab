package overhead

import (
	"fmt"
	"sort"
	"strings"

	extensions "istio.io/api/extensions/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	telemetry "istio.io/api/telemetry/v1alpha1"

	"github.com/meshpilot/meshpilot/mesh"
)

// ambientBlockers returns, by namespace, the L7 features in use that
// ambient mode could only serve through a waypoint proxy. Resources of the
// root namespace apply to every namespace and block them all.
func (c *computer) ambientBlockers() map[string][]string {
	out := map[string][]string{}
	seen := map[string]map[string]bool{}
	add := func(ns, reason string) {
		if seen[ns] == nil {
			seen[ns] = map[string]bool{}
		}
		if !seen[ns][reason] {
			seen[ns][reason] = true
			out[ns] = append(out[ns], reason)
		}
	}
	root := c.snap.RootNamespace()
	var meshWide []string
	scoped := func(o *mesh.Object, reason string) {
		if o.Namespace() == root {
			meshWide = append(meshWide, reason+" (root namespace: applies mesh-wide)")
			return
		}
		add(o.Namespace(), reason)
	}

	for _, o := range c.snap.List(mesh.VirtualService) {
		vs, ok := o.Obj.(*networking.VirtualService)
		if !ok || len(vs.GetHttp()) == 0 || !meshBound(vs.GetGateways()) {
			continue
		}
		feats := vsFeatures(vs)
		for _, host := range vs.GetHosts() {
			for _, ns := range c.hostNamespaces(host, o.Namespace()) {
				add(ns, fmt.Sprintf("VirtualService %s/%s: %s for host %s", o.Namespace(), o.Name(), feats, host))
			}
		}
	}
	for _, o := range c.snap.List(mesh.AuthorizationPolicy) {
		if ap, ok := o.Obj.(*security.AuthorizationPolicy); ok {
			if attrs := l7Attributes(ap); len(attrs) > 0 {
				scoped(o, fmt.Sprintf("AuthorizationPolicy %s/%s uses L7 attributes (%s)", o.Namespace(), o.Name(), strings.Join(attrs, ", ")))
			}
		}
	}
	for _, o := range c.snap.List(mesh.RequestAuthentication) {
		scoped(o, fmt.Sprintf("RequestAuthentication %s/%s validates JWTs", o.Namespace(), o.Name()))
	}
	for _, o := range c.snap.List(mesh.EnvoyFilter) {
		if _, ok := o.Obj.(*networking.EnvoyFilter); ok {
			scoped(o, fmt.Sprintf("EnvoyFilter %s/%s patches the proxy", o.Namespace(), o.Name()))
		}
	}
	for _, o := range c.snap.List(mesh.WasmPlugin) {
		if _, ok := o.Obj.(*extensions.WasmPlugin); ok {
			scoped(o, fmt.Sprintf("WasmPlugin %s/%s extends the proxy", o.Namespace(), o.Name()))
		}
	}
	for _, o := range c.snap.List(mesh.Telemetry) {
		if t, ok := o.Obj.(*telemetry.Telemetry); ok {
			if feats := l7Telemetry(t); len(feats) > 0 {
				scoped(o, fmt.Sprintf("Telemetry %s/%s configures %s", o.Namespace(), o.Name(), strings.Join(feats, ", ")))
			}
		}
	}
	if len(meshWide) > 0 {
		for _, ns := range c.snap.Namespaces() {
			for _, r := range meshWide {
				add(ns, r)
			}
		}
	}
	for ns := range out {
		sort.Strings(out[ns])
	}
	return out
}

// meshBound reports whether a VirtualService applies to sidecar (east-west)
// traffic rather than only to gateways.
func meshBound(gateways []string) bool {
	if len(gateways) == 0 {
		return true
	}
	for _, g := range gateways {
		if g == "mesh" {
			return true
		}
	}
	return false
}

// vsFeatures describes the L7 features of a VirtualService's HTTP routes.
func vsFeatures(vs *networking.VirtualService) string {
	var retries, fault, mirror bool
	for _, r := range vs.GetHttp() {
		retries = retries || r.GetRetries() != nil
		fault = fault || r.GetFault() != nil
		mirror = mirror || r.GetMirror() != nil || len(r.GetMirrors()) > 0
	}
	var with []string
	if retries {
		with = append(with, "retries")
	}
	if fault {
		with = append(with, "fault injection")
	}
	if mirror {
		with = append(with, "mirroring")
	}
	if len(with) == 0 {
		return "HTTP routes"
	}
	return "HTTP routes with " + strings.Join(with, ", ")
}

// hostNamespaces returns the namespaces of the Services a host names,
// as seen from namespace from.
func (c *computer) hostNamespaces(host, from string) []string {
	fqdn := c.snap.FQDN(host, from)
	set := map[string]bool{}
	for _, h := range c.snap.LookupHost(fqdn, "") {
		if h.Object != nil && h.Object.GroupKind == mesh.Service {
			set[h.Namespace] = true
		}
	}
	if len(set) == 0 && !strings.HasPrefix(fqdn, "*") {
		// A Service not among the inputs: read the namespace off the name.
		parts := strings.Split(fqdn, ".")
		if len(parts) >= 3 && parts[2] == "svc" {
			set[parts[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// l7Attributes lists the attributes of an AuthorizationPolicy that only an
// HTTP proxy can evaluate.
func l7Attributes(ap *security.AuthorizationPolicy) []string {
	set := map[string]bool{}
	for _, r := range ap.GetRules() {
		for _, t := range r.GetTo() {
			op := t.GetOperation()
			if len(op.GetMethods())+len(op.GetNotMethods()) > 0 {
				set["methods"] = true
			}
			if len(op.GetPaths())+len(op.GetNotPaths()) > 0 {
				set["paths"] = true
			}
			if len(op.GetHosts())+len(op.GetNotHosts()) > 0 {
				set["hosts"] = true
			}
		}
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			if len(s.GetRequestPrincipals())+len(s.GetNotRequestPrincipals()) > 0 {
				set["requestPrincipals"] = true
			}
		}
		for _, w := range r.GetWhen() {
			if k := w.GetKey(); strings.HasPrefix(k, "request.") || strings.HasPrefix(k, "experimental.") {
				set["when "+k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// l7Telemetry lists the L7 settings of a Telemetry resource.
func l7Telemetry(t *telemetry.Telemetry) []string {
	var out []string
	if len(t.GetTracing()) > 0 {
		out = append(out, "tracing")
	}
	if len(t.GetAccessLogging()) > 0 {
		out = append(out, "access logging")
	}
	for _, m := range t.GetMetrics() {
		if len(m.GetOverrides()) > 0 {
			out = append(out, "metric overrides")
			break
		}
	}
	return out
}
