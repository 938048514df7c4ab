package traffic

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/analyzers/resilience"
	"github.com/meshpilot/meshpilot/mesh"
)

// RetryAmplification reports observed call chains whose retries multiply.
var RetryAmplification = newAnalyzer("traffic.RetryAmplification",
	"retry amplification along call chains\n\nMultiplies the tries of each hop (1 + retries.attempts of the route into it) along the call chains observed in the traffic, and reports chains whose product exceeds 10.",
	codes.RetryAmplification, runRetryAmplification)

// chains is the observed call graph with the tries of each hop.
type chains struct {
	calls   map[string][]string // caller workload -> hosts it called
	servers map[string][]string // host -> workloads that served it
	tries   map[string]int      // host -> tries per call (1 + explicit attempts)
	route   map[string]route    // host -> the retrying route that sets them
	memo    map[string]path

	// reverse views, for above
	callers map[string][]string // host -> workloads calling it
	serves  map[string][]string // workload -> hosts it serves
	upMemo  map[string]int
}

// path is a chain of hops below a workload and its product of tries.
type path struct {
	hops    []string // hosts, in order
	product int
}

func (ix *index) chains() *chains {
	c := &chains{calls: map[string][]string{}, servers: map[string][]string{}, tries: map[string]int{}, route: map[string]route{}, memo: map[string]path{}}
	for _, rt := range ix.routes() {
		attempts, _, explicit := resilience.RouteRetries(rt.r)
		if !explicit {
			// Istio's default policy retries only failures before the
			// request reaches the service; it is not counted.
			attempts = 0
		}
		for _, h := range rt.hosts {
			if t := int(attempts) + 1; t > c.tries[h] {
				c.tries[h] = t
				c.route[h] = rt
			}
		}
	}
	seenCall, seenServer := map[[2]string]bool{}, map[[2]string]bool{}
	for _, e := range ix.g.Edges {
		if e.Requests <= 0 {
			continue
		}
		h := ix.fqdn(e.Service)
		if e.Source.Known() && !seenCall[[2]string{e.Source.String(), h}] {
			seenCall[[2]string{e.Source.String(), h}] = true
			c.calls[e.Source.String()] = append(c.calls[e.Source.String()], h)
		}
		if e.Destination.Known() && !seenServer[[2]string{h, e.Destination.String()}] {
			seenServer[[2]string{h, e.Destination.String()}] = true
			c.servers[h] = append(c.servers[h], e.Destination.String())
		}
	}
	for _, m := range []map[string][]string{c.calls, c.servers} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	c.callers, c.serves, c.upMemo = map[string][]string{}, map[string][]string{}, map[string]int{}
	for w, hs := range c.calls {
		for _, x := range hs {
			c.callers[x] = append(c.callers[x], w)
		}
	}
	for x, ws := range c.servers {
		for _, w := range ws {
			c.serves[w] = append(c.serves[w], x)
		}
	}
	return c
}

func (c *chains) triesOf(h string) int {
	if t := c.tries[h]; t > 0 {
		return t
	}
	return 1
}

// worst returns the chain below workload w with the highest product of
// tries. A workload already on the current chain ends it (a cycle); a
// result cut short that way depends on the chain that led here and is not
// remembered.
func (c *chains) worst(w string, onPath map[string]bool) path {
	p, _ := c.worstCut(w, onPath)
	return p
}

func (c *chains) worstCut(w string, onPath map[string]bool) (path, bool) {
	if p, ok := c.memo[w]; ok {
		return p, false
	}
	if onPath[w] {
		return path{product: 1}, true
	}
	onPath[w] = true
	best, cut := path{product: 1}, false
	for _, h := range c.calls[w] {
		below, bcut := c.belowCut(h, onPath)
		cut = cut || bcut
		if prod := c.triesOf(h) * below.product; prod > best.product {
			best = path{hops: append([]string{h}, below.hops...), product: prod}
		}
	}
	delete(onPath, w)
	if !cut {
		c.memo[w] = best
	}
	return best, cut
}

// below returns the worst chain below the workloads serving host h.
func (c *chains) below(h string, onPath map[string]bool) path {
	p, _ := c.belowCut(h, onPath)
	return p
}

func (c *chains) belowCut(h string, onPath map[string]bool) (path, bool) {
	best, cut := path{product: 1}, false
	for _, s := range c.servers[h] {
		p, pcut := c.worstCut(s, onPath)
		cut = cut || pcut
		if p.product > best.product {
			best = p
		}
	}
	return best, cut
}

func runRetryAmplification(p *analysis.Pass, ix *index) {
	c := ix.chains()
	// A workload is "retried into" when a retrying hop reaches it: chains
	// are reported from their first retrying hop, so a chain and its tail
	// are one finding.
	retriedInto := map[string]bool{}
	for _, hs := range c.calls {
		for _, h := range hs {
			if c.triesOf(h) > 1 {
				for _, s := range c.servers[h] {
					retriedInto[s] = true
				}
			}
		}
	}
	type report struct {
		caller string
		p      path
	}
	byVS := map[*mesh.Object]report{}
	callers := make([]string, 0, len(c.calls))
	for w := range c.calls {
		callers = append(callers, w)
	}
	sort.Strings(callers)
	for _, w := range callers {
		if retriedInto[w] {
			continue
		}
		for _, h := range c.calls[w] {
			if c.triesOf(h) <= 1 {
				continue
			}
			below := c.below(h, map[string]bool{w: true})
			pp := path{hops: append([]string{h}, below.hops...), product: c.triesOf(h) * below.product}
			if pp.product <= maxAmplification {
				continue
			}
			vs := c.route[h].vs.Obj
			if r, ok := byVS[vs]; !ok || pp.product > r.p.product {
				byVS[vs] = report{w, pp}
			}
		}
	}
	for vs, r := range byVS {
		steps := []string{r.caller}
		for _, h := range r.p.hops {
			steps = append(steps, fmt.Sprintf("%s (%d tries)", shortHost(h), c.triesOf(h)))
		}
		p.Report(analysis.NewFinding(codes.RetryAmplification, vs, fmt.Sprintf(
			"retries multiply along the observed call chain %s: one request from %s can become %d attempts at %s (more than %d)",
			strings.Join(steps, " -> "), r.caller, r.p.product, shortHost(r.p.hops[len(r.p.hops)-1]), maxAmplification)))
	}
}

// shortHost writes reviews.shop.svc.cluster.local as reviews.shop.
func shortHost(h string) string {
	if i := strings.Index(h, ".svc."); i > 0 {
		return h[:i]
	}
	return h
}
