package incremental

import (
	"slices"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/mesh"
)

// item is one object of the store. seq is its place in load order: an
// update keeps it, an addition comes last.
type item struct {
	obj    *mesh.Object
	seq    uint64
	part   string
	root   string // the mesh's root namespace
	global bool
}

// readerKey is whose findings the item's reads serve: its partition's, or
// those of the global partitions, which only full runs recompute. A global
// object elsewhere (a Gateway of an application namespace) reads and is
// reported as part of its own partition: analyzers report namespace-wide
// findings on whatever workload comes first, istiod included.
func (it *item) readerKey() string {
	if globalPartName(it.part, it.root) {
		return globalKey
	}
	return it.part
}

// partition is the objects of one namespace (across clusters: the
// snapshot's lookups identify namespaces by name), its Namespace object
// included.
type partition struct {
	name      string
	items     map[*item]bool
	nsObjects int // Namespace objects
	clustered int // objects read from a live cluster
	workloads []map[string]string
}

// matches reports whether some workload of the partition carries every
// pair of l (any workload, for an empty l).
func (p *partition) matches(l map[string]string) bool {
	if p == nil {
		return false
	}
	if len(l) == 0 {
		return len(p.workloads) > 0
	}
	for _, w := range p.workloads {
		if mesh.MatchLabels(l, w) {
			return true
		}
	}
	return false
}

// clusterScope is the partition of cluster-scoped objects other than
// Namespaces, and of kinds the snapshot does not model.
const clusterScope = ""

// partitionOf places an object: a Namespace object in the partition of
// the namespace it names, other cluster-scoped objects in clusterScope.
func partitionOf(o *mesh.Object) string {
	if o.GroupKind == mesh.Namespace {
		return o.Name()
	}
	k, ok := mesh.LookupKind(o.GroupKind)
	if !ok || !k.Namespaced {
		return clusterScope
	}
	return o.Namespace()
}

// globalPart reports whether a partition is global: cluster-scoped
// objects, the root namespace and istio-system, which analyzers treat as
// the mesh's own.
func (e *Engine) globalPart(p string) bool { return globalPartName(p, e.root) }

func globalPartName(p, root string) bool {
	return p == clusterScope || p == root || p == "istio-system"
}

func (e *Engine) globalParts() []string {
	return []string{clusterScope, e.root, "istio-system"}
}

// isGlobal reports whether an object is global: in a global partition, or
// of a kind whose findings, or whose effect on others, spans the mesh
// wherever it lives. Changes to global objects run a full analysis.
func (e *Engine) isGlobal(o *mesh.Object, part string) bool {
	if e.globalPart(part) {
		return true
	}
	switch o.GroupKind {
	case mesh.Gateway:
		// Selects workloads of any namespace; Gateways conflict and share
		// certificates across namespaces.
		return true
	case mesh.ConfigMap:
		// The sidecar injector's settings, read for every namespace.
		return strings.HasPrefix(o.Name(), "istio-sidecar-injector")
	case mesh.Deployment:
		return istiod(o)
	case mesh.Secret:
		// Multi-cluster secrets name the registries of mesh networks.
		return o.Labels()["istio/multiCluster"] == "true"
	case mesh.ServiceEntry:
		// A workload selector is merged into the subsets of
		// DestinationRules anywhere.
		se, _ := o.Obj.(*networking.ServiceEntry)
		return len(se.GetWorkloadSelector().GetLabels()) > 0
	case mesh.VirtualService:
		vs, _ := o.Obj.(*networking.VirtualService)
		return len(narrowWildcards(vs)) > 0
	}
	return false
}

// narrowWildcards returns the wildcard hosts of a VirtualService exported
// to some namespaces only: ConflictingMeshGatewayHosts groups such a host
// with every host exported everywhere that it covers, and each member's
// finding names the others, so the wildcard ties them all together.
func narrowWildcards(vs *networking.VirtualService) []string {
	if len(vs.GetExportTo()) == 0 || slices.Contains(vs.GetExportTo(), "*") {
		return nil
	}
	var out []string
	for _, h := range vs.GetHosts() {
		if strings.HasPrefix(h, "*") {
			out = append(out, h)
		}
	}
	return out
}

// workloadKinds are the kinds mesh.Workload derives from.
var workloadKinds = map[mesh.GroupKind]bool{
	mesh.Pod: true, mesh.Deployment: true, mesh.StatefulSet: true, mesh.DaemonSet: true,
	mesh.ReplicaSet: true, mesh.Job: true, mesh.CronJob: true,
}

// contextKinds are what readers of a token look up beyond its provider, in
// the provider's partition: the workloads a Service selects, whether they
// are in the mesh (Namespace labels), their mTLS mode (PeerAuthentication),
// request authentication, the Services and Secrets of gateway workloads.
var contextKinds = map[mesh.GroupKind]bool{
	mesh.Pod: true, mesh.Deployment: true, mesh.StatefulSet: true, mesh.DaemonSet: true,
	mesh.ReplicaSet: true, mesh.Job: true, mesh.CronJob: true,
	mesh.Namespace: true, mesh.PeerAuthentication: true, mesh.RequestAuthentication: true,
	mesh.Service: true, mesh.Secret: true,
}

func (e *Engine) partition(name string) *partition {
	p := e.parts[name]
	if p == nil {
		p = &partition{name: name, items: map[*item]bool{}}
		e.parts[name] = p
	}
	return p
}

func (e *Engine) newItem(o *mesh.Object, olds []*item) *item {
	it := &item{obj: o, part: partitionOf(o), root: e.root}
	if len(olds) > 0 {
		it.seq = olds[0].seq
	} else {
		it.seq = e.nextSeq
		e.nextSeq++
	}
	it.global = e.isGlobal(o, it.part)
	return it
}

// swap replaces the items of a key (several when the inputs define it
// more than once) by nu, or removes them when nu is nil.
func (e *Engine) swap(key mesh.Key, olds []*item, nu *item) {
	for _, it := range olds {
		e.remove(it)
	}
	delete(e.byKey, key)
	if nu != nil {
		e.byKey[key] = []*item{nu}
		e.insert(nu)
	}
}

func (e *Engine) insert(it *item) {
	p := e.partition(it.part)
	if len(p.items) == 0 {
		e.nonEmpty(p.name, true)
	}
	p.items[it] = true
	e.items[it] = true
	if it.global && !e.globalPart(it.part) {
		e.globals[it] = true
	}
	if it.obj.GroupKind == mesh.Namespace {
		p.nsObjects++
		e.nsObjects++
	}
	if it.obj.Source.Cluster != "" {
		p.clustered++
		e.clustered++
	}
}

func (e *Engine) remove(it *item) {
	p := e.parts[it.part]
	delete(p.items, it)
	delete(e.items, it)
	delete(e.globals, it)
	if it.obj.GroupKind == mesh.Namespace {
		p.nsObjects--
		e.nsObjects--
	}
	if it.obj.Source.Cluster != "" {
		p.clustered--
		e.clustered--
	}
	if len(p.items) == 0 {
		e.nonEmpty(p.name, false)
	}
}

// nonEmpty keeps the lower-cased index of namespaces that hold objects.
func (e *Engine) nonEmpty(name string, yes bool) {
	if name == clusterScope {
		return
	}
	l := strings.ToLower(name)
	m := e.byLower[l]
	if yes {
		if m == nil {
			m = map[string]bool{}
			e.byLower[l] = m
		}
		m[name] = true
		return
	}
	delete(m, name)
	if len(m) == 0 {
		delete(e.byLower, l)
	}
}

// ordered returns items in load order.
func ordered(set map[*item]bool) []*item {
	out := make([]*item, 0, len(set))
	for it := range set {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func objectsOf(items []*item) []*mesh.Object {
	out := make([]*mesh.Object, len(items))
	for i, it := range items {
		out[i] = it.obj
	}
	return out
}

// workloadsOf derives a partition's workloads as the snapshot does, from
// its own Pods and controllers: mesh.Workload never looks across
// namespaces.
func (e *Engine) workloadsOf(p *partition) []map[string]string {
	var list []*item
	for it := range p.items {
		if workloadKinds[it.obj.GroupKind] {
			list = append(list, it)
		}
	}
	if len(list) == 0 {
		return nil
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	snap := mesh.New(objectsOf(list), mesh.Options{DomainSuffix: e.snapOpts.DomainSuffix})
	ws := snap.Workloads()
	out := make([]map[string]string, len(ws))
	for i, w := range ws {
		out[i] = w.Labels
	}
	return out
}

// buildEnv reads what dependency extraction needs from global objects.
func (e *Engine) buildEnv() *env {
	v := &env{root: e.root, domain: e.snapOpts.DomainSuffix, gateways: map[string]map[string]string{}}
	if v.domain == "" {
		v.domain = "cluster.local"
	}
	for _, it := range ordered(e.items) {
		o := it.obj
		switch o.GroupKind {
		case mesh.Gateway:
			gw, ok := o.Obj.(*networking.Gateway)
			k := o.Source.Cluster + "/" + o.Namespace() + "/" + o.Name()
			if _, seen := v.gateways[k]; ok && gw != nil && !seen {
				v.gateways[k] = gw.GetSelector()
			}
		case mesh.ServiceEntry:
			se, _ := o.Obj.(*networking.ServiceEntry)
			if len(se.GetWorkloadSelector().GetLabels()) > 0 {
				v.seSelectors = true
			}
		case mesh.Node:
			v.nodes = true
		case mesh.VirtualService:
			vs, _ := o.Obj.(*networking.VirtualService)
			for _, h := range narrowWildcards(vs) {
				v.groupSuffixes = append(v.groupSuffixes, dotTrim(h[1:]))
			}
		}
	}
	return v
}
