package render

import (
	"sort"

	"github.com/meshpilot/meshpilot/telemetry"
)

// picture is the graph as DOT and SVG draw it: workloads and services as
// nodes; an arc from each caller to each service it called, and from each
// service to each workload known to have served it.
type picture struct {
	nodes  []*node // in group order, then by kind and name
	arcs   []*arc  // by source node, then target node
	groups []*group
}

type nodeKind int

const (
	kindUnknown nodeKind = iota // the callers outside the mesh
	kindWorkload
	kindService
)

type node struct {
	index    int
	kind     nodeKind
	cluster  string
	ns       string
	name     string
	gateway  bool // an ingress gateway
	external bool // a service outside the mesh's Kubernetes services
	group    *group
}

// title names the node in full, for tooltips and comments.
func (n *node) title() string {
	switch n.kind {
	case kindUnknown:
		return "unknown (callers outside the mesh)"
	case kindService:
		return "service " + qualified(n.cluster, n.ns, n.name)
	}
	return "workload " + qualified(n.cluster, n.ns, n.name)
}

func qualified(cluster, ns, name string) string {
	s := name
	if ns != "" {
		s = ns + "/" + s
	}
	if cluster != "" {
		s = cluster + ": " + s
	}
	return s
}

type arc struct {
	from, to *node
	traffic  traffic
	// labelled arcs carry the figures; the arcs from a service to the
	// workloads that served it only show the way.
	labelled bool
}

// group is a namespace of a cluster and the nodes in it. The group of the
// unknown node and of services outside any namespace has no namespace.
type group struct {
	index   int
	cluster string
	project string
	ns      string
	nodes   []*node
}

func (gr *group) title() string {
	s := "namespace " + gr.ns
	if gr.project != "" {
		s = "project " + gr.project + " · " + s
	}
	if gr.cluster != "" {
		s = "cluster " + gr.cluster + " · " + s
	}
	return s
}

type nodeID struct {
	kind              nodeKind
	cluster, ns, name string
}

type arcID struct{ from, to *node }

func newPicture(g *telemetry.Graph, opts Options) *picture {
	nodes := map[nodeID]*node{}
	arcs := map[arcID]*arc{}
	get := func(id nodeID) *node {
		n := nodes[id]
		if n == nil {
			n = &node{kind: id.kind, cluster: id.cluster, ns: id.ns, name: id.name}
			n.gateway = id.kind == kindWorkload && isGateway(telemetry.Workload{Name: id.name})
			nodes[id] = n
		}
		return n
	}
	link := func(from, to *node, e *telemetry.Edge, labelled bool) {
		a := arcs[arcID{from, to}]
		if a == nil {
			a = &arc{from: from, to: to, labelled: labelled}
			arcs[arcID{from, to}] = a
		}
		a.traffic.add(e)
	}
	for _, e := range g.Edges {
		src := get(workloadID(e.Source))
		svc := get(nodeID{kindService, e.Service.Cluster, e.Service.Namespace, e.Service.Name})
		svc.external = svc.external || isExternal(e.Service)
		link(src, svc, e, true)
		if e.Destination.Known() {
			link(svc, get(workloadID(e.Destination)), e, false)
		}
	}
	p := &picture{}
	p.group(nodes, opts)
	for _, a := range arcs {
		p.arcs = append(p.arcs, a)
	}
	sort.Slice(p.arcs, func(i, j int) bool {
		a, b := p.arcs[i], p.arcs[j]
		if a.from != b.from {
			return a.from.index < b.from.index
		}
		return a.to.index < b.to.index
	})
	return p
}

func workloadID(w telemetry.Workload) nodeID {
	if !w.Known() {
		return nodeID{kind: kindUnknown, name: telemetry.Unknown}
	}
	return nodeID{kindWorkload, w.Cluster, w.Namespace, w.Name}
}

// group sorts the nodes into their namespaces and numbers both.
func (p *picture) group(nodes map[nodeID]*node, opts Options) {
	for _, n := range nodes {
		p.nodes = append(p.nodes, n)
	}
	sort.Slice(p.nodes, func(i, j int) bool {
		a, b := p.nodes[i], p.nodes[j]
		if a.cluster != b.cluster {
			return a.cluster < b.cluster
		}
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.name < b.name
	})
	var last *group
	for i, n := range p.nodes {
		n.index = i
		if last == nil || last.cluster != n.cluster || last.ns != n.ns {
			last = &group{index: len(p.groups), cluster: n.cluster, ns: n.ns, project: opts.project(n.cluster, n.ns)}
			p.groups = append(p.groups, last)
		}
		n.group = last
		last.nodes = append(last.nodes, n)
	}
}
