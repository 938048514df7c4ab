package resilience

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
)

// RouteWeights checks traffic splits.
var RouteWeights = &analysis.Analyzer{
	Name: "resilience.RouteWeights",
	Doc: "traffic split weights\n\n" +
		"Reports routes whose destination weights do not add up to 100, and destinations with weight 0 " +
		"beside others that do (unless a controller owns the VirtualService).",
	Codes: []*analysis.Code{codes.RouteWeightsNotHundred, codes.ZeroWeightDestination},
	Run:   runRouteWeights,
}

// weighted is one destination of a route.
type weighted struct {
	host   string
	weight int64
}

func runRouteWeights(p *analysis.Pass) (any, error) {
	for _, vs := range virtualServices(p.Snapshot) {
		owned := len(vs.Obj.Meta.OwnerReferences) > 0
		check := func(kind string, i int, name string, ds []weighted) {
			checkWeights(p, vs, kind, i, name, ds, owned)
		}
		for i, r := range vs.Spec.GetHttp() {
			var ds []weighted
			for _, rd := range r.GetRoute() {
				ds = append(ds, weighted{rd.GetDestination().GetHost(), int64(rd.GetWeight())})
			}
			check("http", i, r.GetName(), ds)
		}
		for i, r := range vs.Spec.GetTcp() {
			var ds []weighted
			for _, rd := range r.GetRoute() {
				ds = append(ds, weighted{rd.GetDestination().GetHost(), int64(rd.GetWeight())})
			}
			check("tcp", i, "", ds)
		}
		for i, r := range vs.Spec.GetTls() {
			var ds []weighted
			for _, rd := range r.GetRoute() {
				ds = append(ds, weighted{rd.GetDestination().GetHost(), int64(rd.GetWeight())})
			}
			check("tls", i, "", ds)
		}
	}
	return nil, nil
}

func checkWeights(p *analysis.Pass, vs virtualService, kind string, i int, name string, ds []weighted, owned bool) {
	if len(ds) < 2 {
		return
	}
	var sum int64
	for _, d := range ds {
		if d.weight < 0 {
			return // schema error, reported elsewhere
		}
		sum += d.weight
	}
	where := routeName(kind, i, name)
	label := routeLabel(i, name)
	if kind != "http" {
		label = kind + " " + label
	}
	label += " of " + vs.Obj.Ref().String()
	switch {
	case sum == 0:
		return
	case sum != 100:
		scaled := scaleTo100(ds, sum)
		var edits []analysis.Edit
		var was, now []string
		for j, d := range ds {
			edits = append(edits, set(vs.Obj, ptr("spec", kind, i, "route", j, "weight"), int(scaled[j])))
			was = append(was, fmt.Sprint(d.weight))
			now = append(now, fmt.Sprint(scaled[j]))
		}
		report(p, codes.RouteWeightsNotHundred, vs.Obj,
			fixFor("scale the weights to 100", fmt.Sprintf("Scales the weights of %s from %s (sum %d) to %s: the split Istio applies stays the same, rounded to whole percent, and now reads as written.",
				label, strings.Join(was, "/"), sum, strings.Join(now, "/")), edits...),
			"%s: destination weights add up to %d, not 100; Istio treats them as relative shares (%s)",
			where, sum, shares(ds, sum))
	case !owned:
		var zero []int
		for j, d := range ds {
			if d.weight == 0 {
				zero = append(zero, j)
			}
		}
		if len(zero) == 0 {
			return
		}
		var edits []analysis.Edit
		var hosts []string
		for k := len(zero) - 1; k >= 0; k-- { // last first, so indexes stay valid
			edits = append(edits, del(vs.Obj, ptr("spec", kind, i, "route", zero[k])))
		}
		for _, j := range zero {
			hosts = append(hosts, fmt.Sprintf("route[%d] (%s)", j, ds[j].host))
		}
		list := strings.Join(hosts, ", ")
		report(p, codes.ZeroWeightDestination, vs.Obj,
			fixFor("remove the zero-weight destinations", fmt.Sprintf("Removes %s from %s: they receive no traffic, so the split is unchanged.", list, label), edits...),
			"%s: %s has weight 0 and receives no traffic", where, list)
	}
}

// scaleTo100 scales weights to add up to 100 by largest remainder, ties to
// the earlier destination; a positive weight keeps at least 1.
func scaleTo100(ds []weighted, sum int64) []int64 {
	out := make([]int64, len(ds))
	type rem struct {
		j int
		r int64
	}
	var rems []rem
	var total int64
	for j, d := range ds {
		out[j] = d.weight * 100 / sum
		total += out[j]
		rems = append(rems, rem{j, d.weight * 100 % sum})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; total < 100 && k < len(rems); k++ {
		out[rems[k].j]++
		total++
	}
	for j, d := range ds {
		if d.weight > 0 && out[j] == 0 {
			out[j] = 1
			out[largest(out)]--
		}
	}
	return out
}

func shares(ds []weighted, sum int64) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s %.4g%%", d.host, float64(d.weight)*100/float64(sum)))
	}
	return strings.Join(parts, ", ")
}

func largest(ws []int64) int {
	best := 0
	for j, w := range ws {
		if w > ws[best] {
			best = j
		}
	}
	return best
}
