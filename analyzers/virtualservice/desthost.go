package virtualservice

import (
	"fmt"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// DestinationHost reports VirtualService destinations that name no known
// host or port, and gateway routes that bypass subset routing.
var DestinationHost = &analysis.Analyzer{
	Name: "virtualservice.DestinationHost",
	Doc: "report destination hosts and ports of VirtualServices that no Service or ServiceEntry provides\n\n" +
		"Every route and mirror destination must be the host of a Service or ServiceEntry visible from " +
		"the VirtualService (short names are qualified with its namespace; wildcard ServiceEntry hosts " +
		"count), and a destination port must be one the host exposes; a host with several ports needs " +
		"one chosen. A VirtualService bound to gateways that routes a host without a subset, while " +
		"another VirtualService routes that host by subset, is also reported: the subset routing does " +
		"not apply to the gateway's traffic.",
	Codes: []*analysis.Code{codes.ReferencedResourceNotFound, codes.VirtualServiceDestinationPortSelectorRequired,
		codes.IngressRouteRulesNotAffected},
	Run: runDestinationHost,
}

func runDestinationHost(p *analysis.Pass) (any, error) {
	reg := buildRegistry(p.Snapshot)
	vss := virtualServices(p.Snapshot)
	subsetRoutes := indexSubsetRoutes(vss)
	for _, vs := range vss {
		checkDestinations(p, reg, vs)
		checkIngressSubsets(p, subsetRoutes, vs)
	}
	return nil, nil
}

// target is what a registry host resolves to: its ports, and a name for
// messages.
type target struct {
	name  string // "Service default/reviews", "ServiceEntry default/eu"
	ports []uint32
}

// registry holds the hosts of Services and ServiceEntries per exportTo
// scope ("*" or a namespace), as istioctl's destination checks see them.
type registry struct {
	domain string
	exact  map[scopedHost]*target
	// wild holds wildcard hosts by what follows their "*".
	wild map[scopedHost]*target
}

func buildRegistry(s *mesh.Snapshot) *registry {
	r := &registry{domain: s.DomainSuffix, exact: map[scopedHost]*target{}, wild: map[scopedHost]*target{}}
	if in, ok := s.DefaultIngress(); ok {
		t := &target{name: "Service " + in.Namespace + "/" + in.Service + " (istioctl's default ingress gateway)", ports: in.Ports}
		r.add("", allNamespaces, toFQDN(in.Service, in.Namespace, r.domain), t)
	}
	// ServiceEntries first: a Service of the same host and scope wins.
	for _, o := range s.List(mesh.ServiceEntry) {
		se, ok := o.Obj.(*networking.ServiceEntry)
		if !ok || se == nil || o.Meta == nil {
			continue
		}
		t := &target{name: "ServiceEntry " + o.Namespace() + "/" + o.Name()}
		for _, port := range se.GetPorts() {
			t.ports = append(t.ports, port.GetNumber())
		}
		for _, scope := range exportScopes(se.GetExportTo(), o.Namespace()) {
			for _, h := range se.GetHosts() {
				r.add(o.Source.Cluster, scope, toFQDN(h, o.Namespace(), r.domain), t)
			}
		}
	}
	for _, o := range s.List(mesh.Service) {
		svc, ok := o.Obj.(*corev1.Service)
		if !ok || svc == nil || o.Meta == nil {
			continue
		}
		t := &target{name: "Service " + o.Namespace() + "/" + o.Name()}
		for _, port := range svc.Spec.Ports {
			t.ports = append(t.ports, uint32(port.Port))
		}
		for _, scope := range exportScopes(serviceExportTo(o), o.Namespace()) {
			r.add(o.Source.Cluster, scope, toFQDN(o.Name(), o.Namespace(), r.domain), t)
		}
	}
	return r
}

func serviceExportTo(o *mesh.Object) []string {
	v := o.Annotations()["networking.istio.io/exportTo"]
	if v == "" {
		return nil
	}
	var out []string
	for _, e := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(e))
	}
	return out
}

func (r *registry) add(cluster, scope, host string, t *target) {
	r.exact[scopedHost{cluster, scope, host}] = t
	if strings.HasPrefix(host, "*") {
		r.wild[scopedHost{cluster, scope, host[1:]}] = t
	}
}

// lookup resolves a destination host written in a VirtualService of
// namespace ns with exportTo as istioctl does: the host qualified with ns,
// exported to all namespaces or to the VirtualService's own export scopes
// (its namespace when it has none), then the most specific wildcard host
// exported to all namespaces or to ns.
func (r *registry) lookup(cluster, ns string, exportTo []string, host string) *target {
	fqdn := toFQDN(host, ns, r.domain)
	if t := r.exact[scopedHost{cluster, allNamespaces, fqdn}]; t != nil {
		return t
	}
	scopes := exportTo
	if len(scopes) == 0 {
		scopes = []string{ns}
	}
	for _, e := range scopes {
		if e == "." {
			e = ns
		}
		if t := r.exact[scopedHost{cluster, e, fqdn}]; t != nil {
			return t
		}
	}
	bare := strings.TrimPrefix(host, "*")
	for i := 0; i <= len(bare); i++ {
		for _, scope := range [2]string{allNamespaces, ns} {
			if t := r.wild[scopedHost{cluster, scope, bare[i:]}]; t != nil {
				return t
			}
		}
	}
	return nil
}

func checkDestinations(p *analysis.Pass, reg *registry, vs virtualService) {
	ns, cluster := vs.Obj.Namespace(), vs.Obj.Source.Cluster
	dests := append(routeDestinations(vs.Spec), mirrorDestinations(vs.Spec)...)
	for _, d := range dests {
		host := d.dest.GetHost()
		kind := "destination"
		if d.mirror {
			kind = "mirror"
		}
		t := reg.lookup(cluster, ns, vs.Spec.GetExportTo(), host)
		if t == nil {
			finding := analysis.NewFinding(codes.ReferencedResourceNotFound, vs.Obj, fmt.Sprintf("%s host %q of %s is not the host of any Service or ServiceEntry visible from namespace %s",
				kind, host, d.where, ns))
			finding.Equivalents = []string{"KIA1101"}
			p.Report(finding)
			continue
		}
		port := d.dest.GetPort()
		if port == nil {
			if len(t.ports) > 1 {
				p.Reportf(codes.VirtualServiceDestinationPortSelectorRequired, vs.Obj,
					"%s host %q of %s exposes ports %s (%s); set port.number to choose one",
					kind, host, d.where, portList(t.ports), t.name)
			}
			continue
		}
		if !hasPort(t.ports, port.GetNumber()) {
			p.Reportf(codes.ReferencedResourceNotFound, vs.Obj,
				"%s %s:%d of %s names a port that %s does not expose (ports: %s)",
				kind, host, port.GetNumber(), d.where, t.name, portList(t.ports))
		}
	}
}

func hasPort(ports []uint32, n uint32) bool {
	for _, p := range ports {
		if p == n {
			return true
		}
	}
	return false
}

func portList(ports []uint32) string {
	if len(ports) == 0 {
		return "none"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.FormatUint(uint64(p), 10)
	}
	return strings.Join(s, ", ")
}

// subsetRoute is an http route of a VirtualService to a subset of one of
// its own hosts.
type subsetRoute struct {
	vs     *mesh.Object
	subset string
}

// indexSubsetRoutes maps each host, as written, to the http routes that
// send it to a subset from a VirtualService serving that host.
func indexSubsetRoutes(vss []virtualService) map[string][]subsetRoute {
	out := map[string][]subsetRoute{}
	for _, vs := range vss {
		for _, rule := range vs.Spec.GetHttp() {
			for _, rd := range rule.GetRoute() {
				d := rd.GetDestination()
				if d.GetSubset() == "" {
					continue
				}
				for _, h := range vs.Spec.GetHosts() {
					if h == d.GetHost() {
						out[h] = append(out[h], subsetRoute{vs: vs.Obj, subset: d.GetSubset()})
					}
				}
			}
		}
	}
	return out
}

// checkIngressSubsets: a gateway VirtualService routing a host with no
// subset skips the subset routing another VirtualService defines for it,
// since gateway traffic only follows the gateway's own routes.
func checkIngressSubsets(p *analysis.Pass, subsetRoutes map[string][]subsetRoute, vs virtualService) {
	if len(vs.Spec.GetGateways()) == 0 {
		return
	}
	for i, rule := range vs.Spec.GetHttp() {
		for j, rd := range rule.GetRoute() {
			d := rd.GetDestination()
			if d.GetSubset() != "" {
				continue
			}
			for _, sr := range subsetRoutes[d.GetHost()] {
				p.Reportf(codes.IngressRouteRulesNotAffected, vs.Obj,
					"%s routes %q without a subset, so gateway traffic skips the routing of VirtualService %s "+
						"to subset %q of that host",
					index2("http", i, "route", j), d.GetHost(), sr.vs.Namespace()+"/"+sr.vs.Name(), sr.subset)
			}
		}
	}
}
