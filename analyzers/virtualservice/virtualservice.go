// Package virtualservice checks VirtualServices the way istioctl analyze
// does: that the hosts, subsets and gateways they reference exist, that
// mesh-gateway hosts do not collide, and that routes matching on JWT claims
// run behind a RequestAuthentication.
package virtualservice

import (
	"sort"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{
	ConflictingMeshGatewayHosts,
	DestinationHost,
	DestinationRule,
	Gateway,
	JWTClaimRoute,
}

const (
	meshGateway = "mesh"
	// istioNamespace is where istioctl assumes the control plane and its
	// default ingress gateway run.
	istioNamespace = "istio-system"
)

// virtualService is one VirtualService with its typed spec; objects whose
// spec is missing or of another type are skipped.
type virtualService = mesh.Typed[*networking.VirtualService]

func virtualServices(s *mesh.Snapshot) []virtualService {
	return mesh.ListOf[*networking.VirtualService](s, mesh.VirtualService)
}

// destination is one destination a VirtualService sends traffic to, with
// where it was written, for messages.
type destination struct {
	where  string // "http[0].route[1]", "http[2].mirror"
	mirror bool
	dest   *networking.Destination // may be nil (an empty route entry)
}

// routeDestinations lists the route destinations of tcp, tls and http
// rules, in that order.
func routeDestinations(vs *networking.VirtualService) []destination {
	var out []destination
	for i, r := range vs.GetTcp() {
		for j, rd := range r.GetRoute() {
			out = append(out, destination{where: index2("tcp", i, "route", j), dest: rd.GetDestination()})
		}
	}
	for i, r := range vs.GetTls() {
		for j, rd := range r.GetRoute() {
			out = append(out, destination{where: index2("tls", i, "route", j), dest: rd.GetDestination()})
		}
	}
	for i, r := range vs.GetHttp() {
		for j, rd := range r.GetRoute() {
			out = append(out, destination{where: index2("http", i, "route", j), dest: rd.GetDestination()})
		}
	}
	return out
}

// mirrorDestinations lists the mirror and mirrors destinations of http
// rules.
func mirrorDestinations(vs *networking.VirtualService) []destination {
	var out []destination
	for i, r := range vs.GetHttp() {
		if m := r.GetMirror(); m != nil {
			out = append(out, destination{where: index1("http", i) + ".mirror", mirror: true, dest: m})
		}
		for j, m := range r.GetMirrors() {
			out = append(out, destination{where: index2("http", i, "mirrors", j), mirror: true, dest: m.GetDestination()})
		}
	}
	return out
}

func index1(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

func index2(field string, i int, sub string, j int) string {
	return index1(field, i) + "." + index1(sub, j)
}

// toFQDN qualifies a short host with a namespace as istioctl's analyzers
// do: a host without a dot that is not a wildcard, even an empty one, gets
// ".<namespace>.svc.<domain>".
func toFQDN(host, namespace, domain string) string {
	if strings.HasPrefix(host, "*") || strings.Contains(host, ".") {
		return host
	}
	return host + "." + namespace + ".svc." + domain
}

// hostMatches reports whether two hosts, either possibly a "*" wildcard,
// overlap: a wildcard covers every host ending with what follows its "*",
// and two wildcards overlap when one's suffix ends with the other's.
func hostMatches(a, b string) bool {
	aw, bw := strings.HasPrefix(a, "*"), strings.HasPrefix(b, "*")
	switch {
	case aw && bw:
		if len(a) < len(b) {
			return strings.HasSuffix(b[1:], a[1:])
		}
		return strings.HasSuffix(a[1:], b[1:])
	case aw:
		return strings.HasSuffix(b, a[1:])
	case bw:
		return strings.HasSuffix(a, b[1:])
	}
	return a == b
}

// splitRef reads a "namespace/name" reference; a bare name is in
// defaultNS.
func splitRef(ref, defaultNS string) (namespace, name string) {
	if ns, n, ok := strings.Cut(ref, "/"); ok {
		return ns, n
	}
	return defaultNS, ref
}

// objectIndex finds objects of some kinds by cluster, namespace and name;
// the first definition wins, as in the snapshot.
type objectIndex map[mesh.Key]*mesh.Object

func indexObjects(s *mesh.Snapshot, kinds ...mesh.GroupKind) objectIndex {
	idx := objectIndex{}
	for _, gk := range kinds {
		for _, o := range s.List(gk) {
			if o.Meta == nil {
				continue
			}
			if _, dup := idx[o.Key()]; !dup {
				idx[o.Key()] = o
			}
		}
	}
	return idx
}

func (idx objectIndex) get(gk mesh.GroupKind, cluster, namespace, name string) *mesh.Object {
	return idx[mesh.Key{GroupKind: gk, Cluster: cluster, Namespace: namespace, Name: name}]
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = `"` + s + `"`
	}
	return strings.Join(q, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
