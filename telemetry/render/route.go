package render

import (
	"math"
	"sort"
	"strings"
)

type point struct{ x, y float64 }

// rect is an axis-aligned box by its top-left corner.
type rect struct{ x, y, w, h float64 }

func (r rect) overlap(o rect) float64 {
	w := math.Min(r.x+r.w, o.x+o.w) - math.Max(r.x, o.x)
	h := math.Min(r.y+r.h, o.y+o.h) - math.Max(r.y, o.y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// cubic is a Bézier segment.
type cubic [4]point

func (c cubic) at(t float64) point {
	u := 1 - t
	a, b, d, e := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return point{a*c[0].x + b*c[1].x + d*c[2].x + e*c[3].x, a*c[0].y + b*c[1].y + d*c[2].y + e*c[3].y}
}

// horizontal is the S-shaped segment from p to q leaving and entering
// horizontally.
func horizontal(p, q point) cubic {
	dx := (q.x - p.x) / 2
	return cubic{p, {p.x + dx, p.y}, {q.x - dx, q.y}, q}
}

// route is the drawn path of an arc: cubic pieces end to end.
type route struct {
	arc    *arc
	pieces []cubic
	// labelAt is the piece where a label may go: the first curve from
	// the left end.
	labelAt int
}

func (r *route) path() string {
	var d strings.Builder
	d.WriteString("M" + pt(r.pieces[0][0]))
	for _, c := range r.pieces {
		if c[1] == c[0] && c[2] == c[3] {
			d.WriteString(" L" + pt(c[3]))
			continue
		}
		d.WriteString(" C" + pt(c[1]) + " " + pt(c[2]) + " " + pt(c[3]))
	}
	return d.String()
}

// routes draws every arc from the right side of its left end through its
// dummies, straight across their layers, to the left side of its right
// end; the ends are spread over the side of a node. An arc laid out
// reversed is then turned around, so that it ends at its target.
func (l *layout) routes(p *picture) []*route {
	left, right := l.ports(p)
	var rs []*route
	for _, a := range p.arcs {
		chain := l.chains[a]
		from, to := chain[0], chain[len(chain)-1]
		r := &route{arc: a}
		cur := point{from.x + halfWidthAt(from, left[a]), from.y + left[a]}
		for _, dm := range chain[1 : len(chain)-1] {
			entry := point{l.colLeft[dm.layer], dm.y}
			exit := point{l.colLeft[dm.layer] + l.colW[dm.layer], dm.y}
			r.pieces = append(r.pieces, horizontal(cur, entry), cubic{entry, entry, exit, exit})
			cur = exit
		}
		end := point{to.x - halfWidthAt(to, right[a]), to.y + right[a]}
		r.pieces = append(r.pieces, horizontal(cur, end))
		if l.back[a] {
			r.reverse()
		}
		rs = append(rs, r)
	}
	return rs
}

func (r *route) reverse() {
	n := len(r.pieces)
	out := make([]cubic, n)
	for i, c := range r.pieces {
		out[n-1-i] = cubic{c[3], c[2], c[1], c[0]}
	}
	r.pieces = out
	r.labelAt = n - 1
}

// ports spreads the ends of the arcs at each side of a node, in the order
// of the arcs' next (or previous) points, so that they leave without
// crossing: vertical offsets from the node's center at the left end of
// each arc and at its right end.
func (l *layout) ports(p *picture) (left, right map[*arc]float64) {
	left, right = map[*arc]float64{}, map[*arc]float64{}
	leaving := make([][]*arc, len(p.nodes))
	entering := make([][]*arc, len(p.nodes))
	for _, a := range p.arcs {
		c := l.chains[a]
		leaving[c[0].node.index] = append(leaving[c[0].node.index], a)
		entering[c[len(c)-1].node.index] = append(entering[c[len(c)-1].node.index], a)
	}
	next := func(a *arc) *item { return l.chains[a][1] }
	prev := func(a *arc) *item { c := l.chains[a]; return c[len(c)-2] }
	for i, it := range l.items {
		spread(it, leaving[i], next, left)
		spread(it, entering[i], prev, right)
	}
	return left, right
}

func spread(it *item, arcs []*arc, other func(*arc) *item, offsets map[*arc]float64) {
	sort.SliceStable(arcs, func(i, j int) bool { return other(arcs[i]).y < other(arcs[j]).y })
	if len(arcs) < 2 {
		for _, a := range arcs {
			offsets[a] = 0
		}
		return
	}
	span := math.Min(it.h*0.5, 7*float64(len(arcs)-1))
	for i, a := range arcs {
		offsets[a] = -span/2 + span*float64(i)/float64(len(arcs)-1)
	}
}

// halfWidthAt is how far the side of a node's shape is from its center at
// vertical offset dy.
func halfWidthAt(it *item, dy float64) float64 {
	if it.node.kind != kindService {
		return it.w / 2
	}
	f := dy / (it.h / 2)
	return it.w / 2 * math.Sqrt(math.Max(0, 1-f*f))
}

// placeLabels finds each labelled route a spot on or beside its curve
// that covers no node, no label placed before, no other arc and no
// namespace border, or the one that covers least, nodes counting most.
func placeLabels(l *layout, rs []*route, sizes map[*arc]point) map[*arc]rect {
	var nodes, labels []rect
	for _, it := range l.items {
		nodes = append(nodes, rect{it.x - it.w/2 - 3, it.y - it.h/2 - 3, it.w + 6, it.h + 6})
	}
	var borders []rect
	for _, b := range l.bands {
		if b.group.ns == "" {
			continue
		}
		labels = append(labels, rect{b.left, b.top, textWidth(b.group.title(), fontBand) + 16, bandHead})
		w, h := b.right-b.left, b.bottom-b.top
		borders = append(borders, rect{b.left - 1, b.top - 1, 2, h + 2}, rect{b.right - 1, b.top - 1, 2, h + 2},
			rect{b.left - 1, b.top - 1, w + 2, 2}, rect{b.left - 1, b.bottom - 1, w + 2, 2})
	}
	lines := newPointGrid(rs)
	placed := map[*arc]rect{}
	for i, r := range rs {
		size, ok := sizes[r.arc]
		if !ok {
			continue
		}
		best, bestCost := rect{}, math.Inf(1)
		for _, c := range candidates(r, size) {
			box := rect{c.x - size.x/2, c.y - size.y/2, size.x, size.y}
			cost := lineCost * float64(lines.count(box, i))
			for _, o := range nodes {
				cost += nodeCost * box.overlap(o)
			}
			for _, o := range labels {
				cost += labelCost * box.overlap(o)
			}
			for _, o := range borders {
				cost += box.overlap(o)
			}
			if cost < bestCost {
				best, bestCost = box, cost
			}
			if cost == 0 {
				break
			}
		}
		placed[r.arc] = best
		labels = append(labels, best)
	}
	return placed
}

// Costs of a label's spot: per point of another arc under it, and per
// unit of area over a node or another label; a unit of area over the
// border of a namespace box costs 1.
const (
	lineCost  = 40.0
	nodeCost  = 20.0
	labelCost = 10.0
)

// candidates are the label spots of a route, best first: along its first
// curve from the left (the gap placeX made wide enough), then just above
// or below it.
func candidates(r *route, size point) []point {
	var out []point
	for _, dy := range []float64{0, -size.y/2 - 3, size.y/2 + 3} {
		for _, t := range []float64{0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8} {
			p := r.pieces[r.labelAt].at(t)
			out = append(out, point{p.x, p.y + dy})
		}
	}
	return out
}

// pointGrid holds points sampled along the routes, bucketed by cell.
type pointGrid struct {
	cells map[[2]int][]gridPoint
}

type gridPoint struct {
	point
	route int
}

const gridCell = 24.0

func newPointGrid(rs []*route) *pointGrid {
	g := &pointGrid{cells: map[[2]int][]gridPoint{}}
	for i, r := range rs {
		for _, c := range r.pieces {
			for k := 0; k <= 24; k++ {
				p := c.at(float64(k) / 24)
				cell := [2]int{int(math.Floor(p.x / gridCell)), int(math.Floor(p.y / gridCell))}
				g.cells[cell] = append(g.cells[cell], gridPoint{p, i})
			}
		}
	}
	return g
}

// count counts the points in box of routes other than route.
func (g *pointGrid) count(box rect, route int) int {
	n := 0
	for cx := int(math.Floor(box.x / gridCell)); float64(cx)*gridCell <= box.x+box.w; cx++ {
		for cy := int(math.Floor(box.y / gridCell)); float64(cy)*gridCell <= box.y+box.h; cy++ {
			for _, p := range g.cells[[2]int{cx, cy}] {
				if p.route != route && p.x >= box.x && p.x <= box.x+box.w && p.y >= box.y && p.y <= box.y+box.h {
					n++
				}
			}
		}
	}
	return n
}
