package render

import (
	"sort"

	"github.com/meshpilot/meshpilot/telemetry"
)

// serviceRow is the traffic into one destination service of one cluster.
type serviceRow struct {
	service telemetry.Service
	project string
	traffic traffic
}

// services merges the edges into their destination services, sorted by
// cluster, namespace and name. Unlike Graph.Services it keeps a service's
// clusters apart, as Kiali does.
func services(g *telemetry.Graph, opts Options) []*serviceRow {
	by := map[serviceID]*serviceRow{}
	var out []*serviceRow
	for _, e := range g.Edges {
		id := idOf(e.Service)
		r := by[id]
		if r == nil {
			r = &serviceRow{service: e.Service, project: opts.project(e.Service.Cluster, e.Service.Namespace)}
			by[id] = r
			out = append(out, r)
		}
		if r.service.Host == "" {
			r.service.Host = e.Service.Host
		}
		r.traffic.add(e)
	}
	sort.Slice(out, func(i, j int) bool { return lessID(idOf(out[i].service), idOf(out[j].service)) })
	return out
}

func lessID(a, b serviceID) bool {
	if a.cluster != b.cluster {
		return a.cluster < b.cluster
	}
	if a.namespace != b.namespace {
		return a.namespace < b.namespace
	}
	return a.name < b.name
}
