package gatewayapi

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Routes checks the parentRefs and backendRefs of routes.
var Routes = &analysis.Analyzer{
	Name: "gatewayapi.Routes",
	Doc: "report Gateway API routes whose parents or backends do not resolve\n\n" +
		"HTTPRoute, GRPCRoute, TLSRoute and TCPRoute parentRefs must name an existing Gateway (and listener) or " +
		"Service, and backendRefs an existing Service; a backend in another namespace needs a ReferenceGrant " +
		"there. InferencePool backends are checked by the inference analyzers.",
	Codes: []*analysis.Code{codes.RouteParentNotFound, codes.RouteBackendNotFound, codes.RouteCrossNamespaceNotGranted},
	Run:   runRoutes,
}

// route is what the route kinds have in common.
type route struct {
	obj      *mesh.Object
	parents  []gwv1.ParentReference
	backends []backend
}

type backend struct {
	ref   gwv1.BackendObjectReference
	where string // "rules[0].backendRefs[1]"
}

func routesOf(snap *mesh.Snapshot) []route {
	var out []route
	for _, o := range snap.List(mesh.HTTPRoute) {
		if r, ok := o.Obj.(*gwv1.HTTPRoute); ok {
			rt := route{obj: o, parents: r.Spec.ParentRefs}
			for i, rule := range r.Spec.Rules {
				for j, b := range rule.BackendRefs {
					rt.backends = append(rt.backends, backend{b.BackendObjectReference, fmt.Sprintf("rules[%d].backendRefs[%d]", i, j)})
				}
			}
			out = append(out, rt)
		}
	}
	for _, o := range snap.List(mesh.GRPCRoute) {
		if r, ok := o.Obj.(*gwv1.GRPCRoute); ok {
			rt := route{obj: o, parents: r.Spec.ParentRefs}
			for i, rule := range r.Spec.Rules {
				for j, b := range rule.BackendRefs {
					rt.backends = append(rt.backends, backend{b.BackendObjectReference, fmt.Sprintf("rules[%d].backendRefs[%d]", i, j)})
				}
			}
			out = append(out, rt)
		}
	}
	for _, o := range snap.List(mesh.TLSRoute) {
		if r, ok := o.Obj.(*gwv1.TLSRoute); ok {
			rt := route{obj: o, parents: r.Spec.ParentRefs}
			for i, rule := range r.Spec.Rules {
				rt.backends = append(rt.backends, simpleBackends(i, rule.BackendRefs)...)
			}
			out = append(out, rt)
		}
	}
	for _, o := range snap.List(mesh.TCPRoute) {
		if r, ok := o.Obj.(*gwv1a2.TCPRoute); ok {
			rt := route{obj: o, parents: r.Spec.ParentRefs}
			for i, rule := range r.Spec.Rules {
				rt.backends = append(rt.backends, simpleBackends(i, rule.BackendRefs)...)
			}
			out = append(out, rt)
		}
	}
	return out
}

func simpleBackends(i int, refs []gwv1.BackendRef) []backend {
	out := make([]backend, 0, len(refs))
	for j, b := range refs {
		out = append(out, backend{b.BackendObjectReference, fmt.Sprintf("rules[%d].backendRefs[%d]", i, j)})
	}
	return out
}

func runRoutes(p *analysis.Pass) (any, error) {
	grants := indexGrants(p.Snapshot)
	for _, r := range routesOf(p.Snapshot) {
		for i, ref := range r.parents {
			if msg := checkParent(p.Snapshot, r.obj.Namespace(), ref); msg != "" {
				p.Reportf(codes.RouteParentNotFound, r.obj, "parentRefs[%d]: %s", i, msg)
			}
		}
		for _, b := range r.backends {
			checkBackend(p, grants, r.obj, b)
		}
	}
	return nil, nil
}

func checkParent(snap *mesh.Snapshot, routeNS string, ref gwv1.ParentReference) string {
	group := orDefault(ref.Group, mesh.GroupGatewayAPI)
	kind := orDefault(ref.Kind, "Gateway")
	ns := orDefault(ref.Namespace, routeNS)
	name := string(ref.Name)
	switch {
	case group == mesh.GroupGatewayAPI && kind == "Gateway":
		o := snap.Get(mesh.KubeGateway, ns, name)
		if o == nil {
			return fmt.Sprintf("Gateway %s/%s does not exist", ns, name)
		}
		gw, ok := o.Obj.(*gwv1.Gateway)
		if !ok {
			return ""
		}
		return checkListener(gw, ns, name, ref)
	case group == mesh.GroupGatewayAPI && kind == "ListenerSet":
		if snap.Get(mesh.ListenerSet, ns, name) == nil {
			return fmt.Sprintf("ListenerSet %s/%s does not exist", ns, name)
		}
	case (group == "" || group == "core") && kind == "Service":
		if snap.Get(mesh.Service, ns, name) == nil {
			return fmt.Sprintf("Service %s/%s does not exist", ns, name)
		}
	}
	return ""
}

func checkListener(gw *gwv1.Gateway, ns, name string, ref gwv1.ParentReference) string {
	if ref.SectionName == nil && ref.Port == nil {
		return ""
	}
	for _, l := range gw.Spec.Listeners {
		if ref.SectionName != nil && l.Name != *ref.SectionName {
			continue
		}
		if ref.Port != nil && l.Port != *ref.Port {
			continue
		}
		return ""
	}
	if ref.SectionName != nil {
		return fmt.Sprintf("Gateway %s/%s has no listener named %q%s", ns, name, *ref.SectionName, portSuffix(ref.Port))
	}
	return fmt.Sprintf("Gateway %s/%s has no listener on port %d", ns, name, *ref.Port)
}

func portSuffix(p *gwv1.PortNumber) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf(" on port %d", *p)
}

func checkBackend(p *analysis.Pass, grants grantIndex, o *mesh.Object, b backend) {
	group := orDefault(b.ref.Group, "")
	kind := orDefault(b.ref.Kind, "Service")
	ns := orDefault(b.ref.Namespace, o.Namespace())
	name := string(b.ref.Name)
	if (group == "" || group == "core") && kind == "Service" && p.Snapshot.Get(mesh.Service, ns, name) == nil {
		p.Reportf(codes.RouteBackendNotFound, o, "%s: Service %s/%s does not exist", b.where, ns, name)
		return
	}
	if ns != o.Namespace() && !grants.allows(mesh.GroupGatewayAPI, o.Kind, o.Namespace(), group, kind, ns, name) {
		p.Reportf(codes.RouteCrossNamespaceNotGranted, o,
			"%s: %s %s/%s is in another namespace and no ReferenceGrant in namespace %s allows references from %s in namespace %s",
			b.where, kind, ns, name, ns, o.Kind, o.Namespace())
	}
}
