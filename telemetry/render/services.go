package render

import (
	"github.com/meshpilot/meshpilot/telemetry"
)

// serviceRow is the traffic into one destination service of one cluster.
type serviceRow struct {
	service telemetry.Service
	project string
	traffic traffic
}

// services lists the graph's destination services (Graph.Services: one
// per cluster, as Kiali shows them), sorted by cluster, namespace and name.
func services(g *telemetry.Graph, opts Options) []*serviceRow {
	var out []*serviceRow
	for _, st := range g.Services() {
		out = append(out, &serviceRow{service: st.Service, project: opts.project(st.Service.Cluster, st.Service.Namespace), traffic: traffic{st.Totals}})
	}
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
