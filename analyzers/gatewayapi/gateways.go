package gatewayapi

import (
	"fmt"
	"sort"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Gateways checks Gateway API Gateways: listeners, addresses and class.
var Gateways = &analysis.Analyzer{
	Name: "gatewayapi.Gateways",
	Doc: "report Gateway API Gateways with conflicting listeners or addresses or a missing GatewayClass\n\n" +
		"Listeners of one Gateway must differ in port, protocol or hostname; two Gateways should not claim the " +
		"same port, protocol and hostname, or the same address; and gatewayClassName must name an installed " +
		"GatewayClass (Istio's own classes count as installed).",
	Codes: []*analysis.Code{codes.GatewayListenerConflict, codes.GatewayAddressConflict,
		codes.GatewayDuplicateListener, codes.GatewayClassNotFound},
	Run: runGateways,
}

type listenerKey struct {
	port     gwv1.PortNumber
	protocol gwv1.ProtocolType
	hostname string
}

func (k listenerKey) String() string {
	h := k.hostname
	if h == "" {
		h = "any hostname"
	}
	return fmt.Sprintf("port %d %s %s", k.port, k.protocol, h)
}

func runGateways(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	classes := map[string]bool{}
	for _, o := range snap.List(mesh.GatewayClass) {
		classes[o.Name()] = true
	}
	byListener := map[listenerKey][]*mesh.Object{}
	byAddress := map[string][]*mesh.Object{}
	var gateways []*mesh.Object
	for _, o := range snap.List(mesh.KubeGateway) {
		gw, ok := o.Obj.(*gwv1.Gateway)
		if !ok {
			continue
		}
		gateways = append(gateways, o)
		class := string(gw.Spec.GatewayClassName)
		if class != "" && !classes[class] && !builtinClasses[class] {
			p.Reportf(codes.GatewayClassNotFound, o, "gatewayClassName %q names no GatewayClass among the inputs and none Istio installs", class)
		}
		checkOwnListeners(p, o, gw)
		seen := map[listenerKey]bool{}
		for _, l := range gw.Spec.Listeners {
			k := keyOf(l)
			// Kiali compares only listeners with a hostname; without one the
			// listener is a catch-all that implementations merge per port.
			if k.hostname == "" || seen[k] {
				continue
			}
			seen[k] = true
			byListener[k] = append(byListener[k], o)
		}
		for _, a := range gw.Spec.Addresses {
			k := orDefault(a.Type, string(gwv1.IPAddressType)) + "/" + a.Value
			if a.Value != "" {
				byAddress[k] = appendOnce(byAddress[k], o)
			}
		}
	}
	reportShared(p, byListener, byAddress)
	return nil, nil
}

func keyOf(l gwv1.Listener) listenerKey {
	return listenerKey{l.Port, l.Protocol, orDefault(l.Hostname, "")}
}

func checkOwnListeners(p *analysis.Pass, o *mesh.Object, gw *gwv1.Gateway) {
	byKey := map[listenerKey][]string{}
	var order []listenerKey
	for _, l := range gw.Spec.Listeners {
		k := keyOf(l)
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], string(l.Name))
	}
	for _, k := range order {
		if names := byKey[k]; len(names) > 1 {
			p.Reportf(codes.GatewayDuplicateListener, o, "listeners %s share %s: each listener needs a unique port, protocol and hostname",
				strings.Join(names, ", "), k)
		}
	}
}

func reportShared(p *analysis.Pass, byListener map[listenerKey][]*mesh.Object, byAddress map[string][]*mesh.Object) {
	keys := make([]listenerKey, 0, len(byListener))
	for k, gws := range byListener {
		if len(gws) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		gws := byListener[k]
		for _, o := range gws {
			p.Reportf(codes.GatewayListenerConflict, o, "Gateways %s all have a listener on %s", refs(gws), k)
		}
	}
	addrs := make([]string, 0, len(byAddress))
	for a, gws := range byAddress {
		if len(gws) > 1 {
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		gws := byAddress[a]
		for _, o := range gws {
			p.Reportf(codes.GatewayAddressConflict, o, "Gateways %s all request address %s", refs(gws), a)
		}
	}
}

func appendOnce(list []*mesh.Object, o *mesh.Object) []*mesh.Object {
	for _, x := range list {
		if x == o {
			return list
		}
	}
	return append(list, o)
}

func refs(objs []*mesh.Object) string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Namespace() + "/" + o.Name()
	}
	return strings.Join(out, ", ")
}

// ReferenceGrants checks that ReferenceGrants name known namespaces.
var ReferenceGrants = &analysis.Analyzer{
	Name: "gatewayapi.ReferenceGrants",
	Doc: "report ReferenceGrants whose from namespace does not exist\n\n" +
		"A ReferenceGrant allows references from the namespaces its from entries name; a namespace that exists " +
		"nowhere in the inputs is usually a typo, and the grant then allows nothing.",
	Codes: []*analysis.Code{codes.ReferenceGrantNamespaceNotFound},
	Run:   runReferenceGrants,
}

func runReferenceGrants(p *analysis.Pass) (any, error) {
	var known map[string]bool
	for _, o := range p.Snapshot.List(mesh.ReferenceGrant) {
		g, ok := o.Obj.(*gwv1.ReferenceGrant)
		if !ok {
			continue
		}
		if known == nil {
			known = knownNamespaces(p.Snapshot)
		}
		for i, f := range g.Spec.From {
			if ns := string(f.Namespace); ns != "" && !known[ns] {
				p.Reportf(codes.ReferenceGrantNamespaceNotFound, o, "from[%d]: namespace %q does not exist", i, ns)
			}
		}
	}
	return nil, nil
}
