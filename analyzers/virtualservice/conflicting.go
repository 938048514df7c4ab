package virtualservice

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// ConflictingMeshGatewayHosts reports VirtualServices bound to the mesh
// gateway that claim the same host.
var ConflictingMeshGatewayHosts = &analysis.Analyzer{
	Name: "virtualservice.ConflictingMeshGatewayHosts",
	Doc: "report VirtualServices of the mesh gateway that claim the same host\n\n" +
		"Sidecars merge the VirtualServices bound to the mesh gateway (no gateways listed, or \"mesh\") " +
		"by host; when two of them claim the same host for the same namespaces, which routes apply is " +
		"undefined. Hosts are compared fully qualified, per exportTo scope; a host exported to all " +
		"namespaces also collides with a host of narrower scope that it covers, wildcards included.",
	Codes: []*analysis.Code{codes.ConflictingMeshGatewayVirtualServiceHosts},
	Run:   runConflictingMeshGatewayHosts,
}

const allNamespaces = "*"

// scopedHost is a fully qualified host as seen from one exportTo scope: a
// namespace, or "*" for all.
type scopedHost struct {
	cluster, scope, host string
}

// meshHosts indexes the mesh-gateway VirtualServices by scoped host.
type meshHosts struct {
	byKey map[scopedHost][]*mesh.Object
	keys  []scopedHost // in first-seen order
	// bySuffix indexes the hosts of scope "*" per cluster by every suffix
	// of theirs that starts with a dot (after any leading "*").
	bySuffix map[scopedHost][]string
	// global lists the hosts of scope "*" per cluster, for the rare
	// lookups the suffix index cannot answer.
	global map[string][]string
}

func runConflictingMeshGatewayHosts(p *analysis.Pass) (any, error) {
	idx := indexMeshHosts(p.Snapshot)
	// A group is the VirtualServices that claim one scoped host.
	type group struct {
		host    string
		members []*mesh.Object
	}
	var groups []group
	groupsOf := map[*mesh.Object][]int{}
	for _, k := range idx.keys {
		members := idx.byKey[k]
		if k.scope != allNamespaces {
			members = append([]*mesh.Object(nil), members...)
			for _, g := range idx.globalMatches(k.cluster, k.host) {
				members = appendDistinct(members, idx.byKey[scopedHost{k.cluster, allNamespaces, g}]...)
			}
		}
		if len(members) < 2 {
			continue
		}
		for _, o := range members {
			groupsOf[o] = append(groupsOf[o], len(groups))
		}
		groups = append(groups, group{host: k.host, members: members})
	}
	for _, vs := range virtualServices(p.Snapshot) {
		gs := groupsOf[vs.Obj]
		if len(gs) == 0 {
			continue
		}
		hosts := map[string]bool{}
		others := map[*mesh.Object]bool{}
		var named []string
		for _, gi := range gs {
			hosts[groups[gi].host] = true
			for _, o := range groups[gi].members {
				if o == vs.Obj || others[o] {
					continue
				}
				others[o] = true
				if len(named) < maxNamed {
					named = append(named, o.Namespace()+"/"+o.Name())
				}
			}
		}
		list := strings.Join(named, ", ")
		if n := len(others) - len(named); n > 0 {
			list += " and " + strconv.Itoa(n) + " more"
		}
		noun := "host"
		if len(hosts) > 1 {
			noun = "hosts"
		}
		finding := analysis.NewFinding(codes.ConflictingMeshGatewayVirtualServiceHosts, vs.Obj, fmt.Sprintf("mesh gateway %s %s also claimed by VirtualService %s; which routes sidecars apply is undefined",
			noun, quoteList(sortedKeys(hosts)), list))
		finding.Equivalents = []string{"KIA1106"}
		p.Report(finding)
	}
	return nil, nil
}

// maxNamed bounds how many conflicting VirtualServices a message names.
const maxNamed = 5

func indexMeshHosts(s *mesh.Snapshot) *meshHosts {
	idx := &meshHosts{
		byKey:    map[scopedHost][]*mesh.Object{},
		bySuffix: map[scopedHost][]string{},
		global:   map[string][]string{},
	}
	for _, vs := range virtualServices(s) {
		if !boundToMesh(vs.Spec.GetGateways()) {
			continue
		}
		ns, cluster := vs.Obj.Namespace(), vs.Obj.Source.Cluster
		for _, scope := range exportScopes(vs.Spec.GetExportTo(), ns) {
			for _, h := range vs.Spec.GetHosts() {
				k := scopedHost{cluster, scope, toFQDN(h, ns, s.DomainSuffix)}
				list, seen := idx.byKey[k]
				if !seen {
					idx.keys = append(idx.keys, k)
					if scope == allNamespaces {
						idx.addGlobal(cluster, k.host)
					}
				}
				idx.byKey[k] = appendDistinct(list, vs.Obj)
			}
		}
	}
	return idx
}

// boundToMesh: no gateways means the mesh gateway.
func boundToMesh(gateways []string) bool {
	if len(gateways) == 0 {
		return true
	}
	for _, g := range gateways {
		if g == meshGateway {
			return true
		}
	}
	return false
}

// exportScopes returns the namespaces a VirtualService's hosts are visible
// from: "*" for all (no exportTo, or "*" among it), else each entry with
// "." read as the VirtualService's own namespace.
func exportScopes(exportTo []string, namespace string) []string {
	if len(exportTo) == 0 {
		return []string{allNamespaces}
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range exportTo {
		if e == allNamespaces {
			return []string{allNamespaces}
		}
		if e == "." {
			e = namespace
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

func (idx *meshHosts) addGlobal(cluster, host string) {
	idx.global[cluster] = append(idx.global[cluster], host)
	bare := strings.TrimPrefix(host, "*")
	for i := 0; i < len(bare); i++ {
		if bare[i] == '.' {
			k := scopedHost{cluster: cluster, host: bare[i:]}
			idx.bySuffix[k] = append(idx.bySuffix[k], host)
		}
	}
}

// globalMatches returns the hosts of scope "*" that overlap host.
func (idx *meshHosts) globalMatches(cluster, host string) []string {
	has := func(h string) bool {
		_, ok := idx.byKey[scopedHost{cluster, allNamespaces, h}]
		return ok
	}
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	bare := strings.TrimPrefix(host, "*")
	if bare == host && has(host) {
		add(host)
	}
	// Wildcards whose suffix ends host (or host's own suffix).
	for i := 0; i <= len(bare); i++ {
		if w := "*" + bare[i:]; has(w) {
			add(w)
		}
	}
	if bare == host {
		return out
	}
	// host is a wildcard: also every host ending with its suffix.
	if strings.HasPrefix(bare, ".") {
		for _, h := range idx.bySuffix[scopedHost{cluster: cluster, host: bare}] {
			add(h)
		}
		return out
	}
	for _, h := range idx.global[cluster] {
		if hostMatches(host, h) {
			add(h)
		}
	}
	return out
}

func appendDistinct(list []*mesh.Object, objs ...*mesh.Object) []*mesh.Object {
	for _, o := range objs {
		dup := false
		for _, have := range list {
			if have == o {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, o)
		}
	}
	return list
}
