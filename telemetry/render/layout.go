package render

import (
	"math"
	"sort"
	"unicode/utf8"
)

// Sizes of the picture, in SVG user units.
const (
	fontNode  = 12.0
	fontLabel = 10.0
	fontBand  = 11.0
	lineLabel = 12.0 // line height of edge labels
	maxName   = 30   // runes of a node's label before it is cut
	nodeGap   = 22.0 // between two nodes of a layer
	dummyGap  = 10.0 // between an arc passing through a layer and its neighbours
	dummyH    = 6.0
	bandHead  = 20.0 // the title of a namespace box
	bandPad   = 10.0
	bandGap   = 16.0
	margin    = 20.0
	minColGap = 56.0 // between layers without labels
	labelRoom = 40.0 // beside a label, in the gap between layers
)

// item is a node on its layer, or a point of a layer an arc passes through
// on its way to a later one (a dummy).
type item struct {
	node     *node // nil for a dummy
	arc      *arc  // the arc of a dummy
	layer    int
	band     int // rank of the band of the node, or of the arc's target
	order    int // position in the layer
	up, down []*item
	x, y     float64 // center
	w, h     float64
}

// bandBox is the stripe of a namespace over the layers it spans. Nodes of
// a namespace stay in its stripe and stripes do not overlap, so neither do
// namespace boxes.
type bandBox struct {
	group       *group
	top, bottom float64 // the stripe, box included
	inner       float64 // height for the items
	left, right float64 // the box around the nodes
	// contentTop and contentBottom bound the centers of the items.
	contentTop, contentBottom float64
}

// layout places a picture's nodes: a layered drawing from left to right.
type layout struct {
	items   []*item // the items of nodes, by node index
	layers  [][]*item
	chains  map[*arc][]*item // from the left end through dummies to the right
	back    map[*arc]bool    // arcs that close a cycle, laid out reversed
	bands   []*bandBox       // by rank
	colLeft []float64
	colW    []float64
	width   float64
	height  float64
}

// newLayout lays p out below top, leaving room between layers for the
// labels of the arcs, of the widths labelW, that leave the layer.
//
// The layers: callers outside the mesh and ingress gateways come first,
// then every node by the longest path from them; a depth-first search from
// those roots (then from nodes nobody calls, then from the rest, each in
// node order) finds the arcs that close a cycle, which are laid out
// reversed and drawn from right to left. Callers nobody calls, other than
// the roots, move right next to what they call. Arcs longer than one layer pass through dummies on the layers
// between. Each namespace gets a band, a stripe over the layers it spans,
// stacked below the bands before it over the same layers; within its band
// a layer is ordered by the barycenter heuristic, keeping the order with
// the fewest crossings, then nodes move toward the mean height of their
// neighbours as far as spacing allows.
func newLayout(p *picture, top float64, labelW map[*arc]float64) *layout {
	l := &layout{chains: map[*arc][]*item{}}
	layer, back := rank(p)
	l.back = back
	bandOf := l.makeBands(p, layer)
	l.makeItems(p, layer, bandOf)
	l.order()
	l.placeX(labelW)
	l.placeY(top)
	l.boxBands()
	return l
}

func isRoot(n *node) bool { return n.kind == kindUnknown || n.gateway }

// rank assigns the layers and picks the arcs that break cycles.
func rank(p *picture) ([]int, map[*arc]bool) {
	n := len(p.nodes)
	out := make([][]*arc, n)
	indeg := make([]int, n)
	for _, a := range p.arcs {
		out[a.from.index] = append(out[a.from.index], a)
		indeg[a.to.index]++
	}
	var starts []*node
	for _, pass := range []func(*node) bool{
		isRoot,
		func(v *node) bool { return !isRoot(v) && indeg[v.index] == 0 },
		func(v *node) bool { return !isRoot(v) && indeg[v.index] > 0 },
	} {
		for _, v := range p.nodes {
			if pass(v) {
				starts = append(starts, v)
			}
		}
	}
	state := make([]int8, n) // 0 unseen, 1 on the path, 2 done
	back := map[*arc]bool{}
	var post []*node
	var visit func(v *node)
	visit = func(v *node) {
		state[v.index] = 1
		for _, a := range out[v.index] {
			switch state[a.to.index] {
			case 0:
				visit(a.to)
			case 1:
				back[a] = true
			}
		}
		state[v.index] = 2
		post = append(post, v)
	}
	for _, v := range starts {
		if state[v.index] == 0 {
			visit(v)
		}
	}
	layer := make([]int, n)
	for i := len(post) - 1; i >= 0; i-- { // a topological order
		v := post[i]
		for _, a := range out[v.index] {
			if !back[a] {
				layer[a.to.index] = max(layer[a.to.index], layer[v.index]+1)
			}
		}
	}
	for _, v := range p.nodes {
		if isRoot(v) || indeg[v.index] > 0 || len(out[v.index]) == 0 {
			continue
		}
		nearest := math.MaxInt
		for _, a := range out[v.index] {
			nearest = min(nearest, layer[a.to.index])
		}
		layer[v.index] = nearest - 1
	}
	return layer, back
}

// makeBands ranks the namespaces by the first layer they appear on. A
// group outside any namespace (the unknown callers, external services)
// goes next to the namespaces it is linked to: just before them when it
// only calls, just after otherwise.
func (l *layout) makeBands(p *picture, layer []int) []int {
	first := make([]int, len(p.groups))
	for i := range first {
		first[i] = math.MaxInt
	}
	for _, n := range p.nodes {
		first[n.group.index] = min(first[n.group.index], layer[n.index])
	}
	var named []*group
	for _, gr := range p.groups {
		if gr.ns != "" {
			named = append(named, gr)
		}
	}
	sort.SliceStable(named, func(i, j int) bool { return first[named[i].index] < first[named[j].index] })
	key := make([]float64, len(p.groups))
	for r, gr := range named {
		key[gr.index] = float64(r)
	}
	for _, gr := range p.groups {
		if gr.ns == "" {
			key[gr.index] = outsideKey(p, gr, key)
		}
	}
	ranked := append([]*group(nil), p.groups...)
	sort.SliceStable(ranked, func(i, j int) bool { return key[ranked[i].index] < key[ranked[j].index] })
	bandOf := make([]int, len(p.groups))
	for r, gr := range ranked {
		bandOf[gr.index] = r
		l.bands = append(l.bands, &bandBox{group: gr})
	}
	return bandOf
}

// outsideKey places a group outside any namespace by the mean rank of the
// namespaces it is linked to, named[i] having key i.
func outsideKey(p *picture, gr *group, key []float64) float64 {
	sum, n, callsOnly := 0.0, 0, true
	for _, a := range p.arcs {
		switch {
		case a.from.group == gr && a.to.group.ns != "":
			sum += key[a.to.group.index]
			n++
		case a.to.group == gr && a.from.group.ns != "":
			sum += key[a.from.group.index]
			n++
			callsOnly = false
		}
	}
	if n == 0 {
		return -1
	}
	if callsOnly {
		return sum/float64(n) - 0.5
	}
	return sum/float64(n) + 0.5
}

func (l *layout) makeItems(p *picture, layer, bandOf []int) {
	depth := 0
	for _, v := range layer {
		depth = max(depth, v+1)
	}
	l.layers = make([][]*item, depth)
	for _, n := range p.nodes {
		w, h := nodeSize(n)
		it := &item{node: n, layer: layer[n.index], band: bandOf[n.group.index], w: w, h: h}
		l.items = append(l.items, it)
		l.layers[it.layer] = append(l.layers[it.layer], it)
	}
	for _, a := range p.arcs {
		from, to := l.items[a.from.index], l.items[a.to.index]
		if l.back[a] {
			from, to = to, from
		}
		chain := []*item{from}
		for k := from.layer + 1; k < to.layer; k++ {
			d := &item{arc: a, layer: k, band: to.band, h: dummyH}
			l.layers[k] = append(l.layers[k], d)
			chain = append(chain, d)
		}
		chain = append(chain, to)
		for i := 1; i < len(chain); i++ {
			chain[i-1].down = append(chain[i-1].down, chain[i])
			chain[i].up = append(chain[i].up, chain[i-1])
		}
		l.chains[a] = chain
	}
	for _, items := range l.layers {
		sort.SliceStable(items, func(i, j int) bool {
			a, b := items[i], items[j]
			if a.band != b.band {
				return a.band < b.band
			}
			return (a.node != nil) && (b.node == nil)
		})
		renumber(items)
	}
}

func renumber(items []*item) {
	for i, it := range items {
		it.order = i
	}
}

// nodeSize is the size of a node's shape, fitted to its label.
func nodeSize(n *node) (w, h float64) {
	tw := textWidth(cut(n.name, maxName), fontNode)
	if n.kind == kindService {
		return math.Max(72, tw+40), 34
	}
	return math.Max(64, tw+24), 30
}

// textWidth estimates the width of s in a sans-serif font of size px.
func textWidth(s string, px float64) float64 {
	return float64(utf8.RuneCountInString(s)) * px * 0.6
}

// cut shortens s to n runes with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// order sweeps the layers down and up with the barycenter heuristic and
// keeps the order with the fewest crossings.
func (l *layout) order() {
	best, bestCross := l.snapshot(), l.crossings()
	for sweep := 0; sweep < 24 && bestCross > 0; sweep++ {
		if sweep%2 == 0 {
			for k := 1; k < len(l.layers); k++ {
				reorder(l.layers[k], func(it *item) []*item { return it.up }, len(l.layers[k-1]))
			}
		} else {
			for k := len(l.layers) - 2; k >= 0; k-- {
				reorder(l.layers[k], func(it *item) []*item { return it.down }, len(l.layers[k+1]))
			}
		}
		if c := l.crossings(); c < bestCross {
			best, bestCross = l.snapshot(), c
		}
	}
	l.layers = best
	for _, items := range l.layers {
		renumber(items)
	}
}

func (l *layout) snapshot() [][]*item {
	out := make([][]*item, len(l.layers))
	for k, items := range l.layers {
		out[k] = append([]*item(nil), items...)
	}
	return out
}

// reorder sorts a layer by band, then by the mean position of each item's
// neighbours in the adjacent layer of size n (both scaled to 0..1).
func reorder(items []*item, neighbours func(*item) []*item, n int) {
	bary := make(map[*item]float64, len(items))
	for _, it := range items {
		nb := neighbours(it)
		if len(nb) == 0 {
			bary[it] = scaled(it.order, len(items))
			continue
		}
		var sum float64
		for _, o := range nb {
			sum += scaled(o.order, n)
		}
		bary[it] = sum / float64(len(nb))
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.band != b.band {
			return a.band < b.band
		}
		return bary[a] < bary[b]
	})
	renumber(items)
}

func scaled(i, n int) float64 {
	if n <= 1 {
		return 0.5
	}
	return float64(i) / float64(n-1)
}

// crossings counts the crossing arcs between adjacent layers, by counting
// inversions with a Fenwick tree.
func (l *layout) crossings() int {
	total := 0
	for k := 0; k+1 < len(l.layers); k++ {
		var pairs [][2]int
		for _, it := range l.layers[k] {
			for _, d := range it.down {
				pairs = append(pairs, [2]int{it.order, d.order})
			}
		}
		sort.Slice(pairs, func(i, j int) bool {
			if pairs[i][0] != pairs[j][0] {
				return pairs[i][0] < pairs[j][0]
			}
			return pairs[i][1] < pairs[j][1]
		})
		tree := make([]int, len(l.layers[k+1])+1)
		for i, p := range pairs {
			// arcs seen so far that end after this one cross it
			seen := 0
			for j := p[1] + 1; j > 0; j -= j & -j {
				seen += tree[j]
			}
			total += i - seen
			for j := p[1] + 1; j < len(tree); j += j & -j {
				tree[j]++
			}
		}
	}
	return total
}

// placeX puts the layers side by side, with room for the labels of the
// arcs from each layer to the next, and for the title of a namespace box
// wider than its nodes.
func (l *layout) placeX(labelW map[*arc]float64) {
	gaps := make([]float64, len(l.layers))
	for i := range gaps {
		gaps[i] = minColGap
	}
	for a, chain := range l.chains {
		k := chain[0].layer
		gaps[k] = math.Max(gaps[k], labelW[a]+labelRoom)
	}
	endsAt := map[int][]int{} // layer: the bands whose nodes end there
	for r := range l.bands {
		last := -1
		for _, it := range l.items {
			if it.band == r {
				last = max(last, it.layer)
			}
		}
		endsAt[last] = append(endsAt[last], r)
	}
	x := margin + bandPad
	colGap := 0.0
	for k, items := range l.layers {
		w := 40.0
		for _, it := range items {
			w = math.Max(w, it.w)
		}
		l.colLeft = append(l.colLeft, x)
		l.colW = append(l.colW, w)
		for _, it := range items {
			it.x = x + w/2
		}
		overflow := 0.0
		for _, r := range endsAt[k] {
			overflow = math.Max(overflow, l.titleRight(r)-(x+w+bandPad))
		}
		colGap = gaps[k] + overflow
		x += w + colGap
	}
	l.width = x - colGap + bandPad + margin
}

// titleRight is where the title of band r ends, its nodes placed up to
// its last layer.
func (l *layout) titleRight(r int) float64 {
	b := l.bands[r]
	if b.group.ns == "" {
		return math.Inf(-1)
	}
	left := math.Inf(1)
	for _, n := range b.group.nodes {
		it := l.items[n.index]
		left = math.Min(left, it.x-it.w/2-bandPad)
	}
	return left + textWidth(b.group.title(), fontBand) + 16
}

// gap is the space between two adjacent items of a layer.
func gap(a, b *item) float64 {
	if a.node != nil && b.node != nil {
		return nodeGap
	}
	return dummyGap
}

// placeY stacks the bands from top, then moves the items of each layer
// toward their neighbours.
func (l *layout) placeY(top float64) {
	for _, items := range l.layers {
		for _, seg := range segments(items) {
			b := l.bands[seg[0].band]
			b.inner = math.Max(b.inner, stackHeight(seg))
		}
	}
	l.stackBands(top)
	for _, items := range l.layers {
		for _, seg := range segments(items) {
			b := l.bands[seg[0].band]
			pos := b.contentTop + (b.inner-stackHeight(seg))/2
			for i, it := range seg {
				if i > 0 {
					pos += gap(seg[i-1], it)
				}
				it.y = pos + it.h/2
				pos += it.h
			}
		}
	}
	for pass := 0; pass < 8; pass++ {
		for i := range l.layers {
			k := i
			if pass%2 == 1 {
				k = len(l.layers) - 1 - i
			}
			l.align(l.layers[k])
		}
	}
}

// stackBands puts each band, in rank order, below the bands before it
// that share some of its columns: bands side by side share the height.
// Items of two bands on one layer stay in the order of the bands' ranks.
func (l *layout) stackBands(top float64) {
	first := make([]int, len(l.bands))
	last := make([]int, len(l.bands))
	for i := range first {
		first[i], last[i] = math.MaxInt, -1
	}
	for k, items := range l.layers {
		for _, it := range items {
			first[it.band], last[it.band] = min(first[it.band], k), max(last[it.band], k)
		}
	}
	type span struct{ left, right, bottom float64 }
	var placed []span
	l.height = top
	for r, b := range l.bands {
		left := l.colLeft[first[r]] - bandPad
		right := l.colLeft[last[r]] + l.colW[last[r]] + bandPad
		if b.group.ns != "" {
			right = math.Max(right, left+textWidth(b.group.title(), fontBand)+16)
		}
		b.top = top
		for _, o := range placed {
			if o.left < right+bandGap && left < o.right+bandGap {
				b.top = math.Max(b.top, o.bottom+bandGap)
			}
		}
		b.contentTop = b.top + bandPad
		if b.group.ns != "" {
			b.contentTop += bandHead
		}
		b.contentBottom = b.contentTop + b.inner
		b.bottom = b.contentBottom + bandPad
		placed = append(placed, span{left, right, b.bottom})
		l.height = math.Max(l.height, b.bottom+margin)
	}
}

// segments splits a layer into the runs of items of one band.
func segments(items []*item) [][]*item {
	var out [][]*item
	for i, it := range items {
		if i == 0 || it.band != items[i-1].band {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], it)
	}
	return out
}

func stackHeight(seg []*item) float64 {
	h := 0.0
	for i, it := range seg {
		h += it.h
		if i > 0 {
			h += gap(seg[i-1], it)
		}
	}
	return h
}

// align moves each item toward the mean height of its neighbours, keeping
// the layer's order and spacing inside each band.
func (l *layout) align(items []*item) {
	for _, seg := range segments(items) {
		b := l.bands[seg[0].band]
		want := make([]float64, len(seg))
		for i, it := range seg {
			want[i] = it.y
			nb := append(append([]*item(nil), it.up...), it.down...)
			if len(nb) > 0 {
				sum := 0.0
				for _, o := range nb {
					sum += o.y
				}
				want[i] = sum / float64(len(nb))
			}
		}
		for i, it := range seg {
			lo := b.contentTop + it.h/2
			if i > 0 {
				prev := seg[i-1]
				lo = prev.y + prev.h/2 + gap(prev, it) + it.h/2
			}
			it.y = math.Max(want[i], lo)
		}
		for i := len(seg) - 1; i >= 0; i-- {
			it := seg[i]
			hi := b.contentBottom - it.h/2
			if i < len(seg)-1 {
				next := seg[i+1]
				hi = next.y - next.h/2 - gap(it, next) - it.h/2
			}
			it.y = math.Min(it.y, hi)
		}
	}
}

// boxBands sizes each namespace's box around its nodes and title.
func (l *layout) boxBands() {
	for _, b := range l.bands {
		b.left, b.right = math.Inf(1), math.Inf(-1)
		for _, n := range b.group.nodes {
			it := l.items[n.index]
			b.left = math.Min(b.left, it.x-it.w/2-bandPad)
			b.right = math.Max(b.right, it.x+it.w/2+bandPad)
		}
		b.right = math.Max(b.right, b.left+textWidth(b.group.title(), fontBand)+16)
		l.width = math.Max(l.width, b.right+margin)
	}
}
