package virtualservice

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// DestinationRule reports VirtualService destinations naming a subset that
// no DestinationRule defines.
var DestinationRule = &analysis.Analyzer{
	Name: "virtualservice.DestinationRule",
	Doc: "report subsets VirtualServices route to that no DestinationRule defines\n\n" +
		"A route or mirror destination naming a subset needs a DestinationRule for that host with a " +
		"subset of that name; otherwise the proxy has no cluster for it and the request fails with 503. " +
		"Hosts are compared as Kubernetes service names: a short host is taken in the namespace of the " +
		"resource that writes it, a <name>.<namespace>.svc.<domain> host in its own namespace.",
	Codes: []*analysis.Code{codes.ReferencedResourceNotFound},
	Run:   runDestinationRule,
}

// serviceSubset is a subset of a host, the host read as a namespaced name.
type serviceSubset struct {
	cluster, namespace, name, subset string
}

func runDestinationRule(p *analysis.Pass) (any, error) {
	domain := p.Snapshot.DomainSuffix
	defined := map[serviceSubset]bool{}
	for _, o := range p.Snapshot.List(mesh.DestinationRule) {
		dr, ok := o.Obj.(*networking.DestinationRule)
		if !ok || dr == nil || o.Meta == nil {
			continue
		}
		ns, name := serviceName(toFQDN(dr.GetHost(), o.Namespace(), domain), o.Namespace(), domain)
		for _, ss := range dr.GetSubsets() {
			defined[serviceSubset{o.Source.Cluster, ns, name, ss.GetName()}] = true
		}
	}
	for _, vs := range virtualServices(p.Snapshot) {
		dests := append(routeDestinations(vs.Spec), mirrorDestinations(vs.Spec)...)
		for _, d := range dests {
			subset := d.dest.GetSubset()
			if subset == "" {
				continue
			}
			ns, name := serviceName(d.dest.GetHost(), vs.Obj.Namespace(), domain)
			if defined[serviceSubset{vs.Obj.Source.Cluster, ns, name, subset}] {
				continue
			}
			finding := analysis.NewFinding(codes.ReferencedResourceNotFound, vs.Obj, fmt.Sprintf("subset %q of host %q (%s) is not defined by any DestinationRule for %s/%s",
				subset, d.dest.GetHost(), d.where, ns, name))
			finding.Equivalents = []string{"KIA1107"}
			p.Report(finding)
		}
	}
	return nil, nil
}

// serviceName reads a host as a namespaced service name: from
// <name>.<namespace>.svc.<domain>, or the host itself in defaultNS.
func serviceName(host, defaultNS, domain string) (namespace, name string) {
	if rest, ok := strings.CutSuffix(host, ".svc."+domain); ok {
		if i := strings.LastIndexByte(rest, '.'); i > 0 && i < len(rest)-1 {
			return rest[i+1:], rest[:i]
		}
	}
	return defaultNS, host
}
