package render

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/meshpilot/meshpilot/telemetry"
)

const (
	headerHeight = 64.0 // the title and the subtitle
	legendRow    = 22.0
	maxNotices   = 10
)

// SVG draws the traffic itself, with the layout of newLayout: namespace
// boxes, workloads as rounded rectangles, services as ellipses, arcs with
// the labels and colors of DOT, a legend and the graph's notices.
func SVG(w io.Writer, g *telemetry.Graph, opts Options) error {
	g = orEmpty(g)
	p := newPicture(g, opts)
	s := &svgWriter{}
	if len(p.nodes) == 0 {
		s.empty(g, opts)
	} else {
		s.picture(g, opts, p)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(s.String())
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

type svgWriter struct {
	strings.Builder
}

func (s *svgWriter) printf(format string, args ...any) { fmt.Fprintf(s, format, args...) }

func (s *svgWriter) open(width, height float64, title string) {
	s.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="Helvetica, Arial, sans-serif">`+"\n",
		num1(width), num1(height), num1(width), num1(height))
	s.printf("<title>%s</title>\n", esc(title))
	s.printf(`<rect width="%s" height="%s" fill="#ffffff"/>`+"\n", num1(width), num1(height))
}

func (s *svgWriter) heading(g *telemetry.Graph, opts Options) {
	s.printf(`<text x="%s" y="30" font-size="16" font-weight="bold" fill="#151515">%s</text>`+"\n", num1(margin), esc(opts.title()))
	if sub := subtitle(g); sub != "" {
		s.printf(`<text x="%s" y="48" font-size="11" fill="#6a6e73">%s</text>`+"\n", num1(margin), esc(sub))
	}
}

func headingWidth(g *telemetry.Graph, opts Options) float64 {
	return 2*margin + math.Max(textWidth(opts.title(), 16)*1.1, textWidth(subtitle(g), 11))
}

func (s *svgWriter) empty(g *telemetry.Graph, opts Options) {
	width := max(480, headingWidth(g, opts), noticesWidth(g))
	height := headerHeight + 40 + noticesHeight(g)
	s.open(width, height, opts.title())
	s.heading(g, opts)
	s.printf(`<text x="%s" y="%s" font-size="13" fill="#6a6e73">%s</text>`+"\n", num1(margin), num1(headerHeight+16), esc(noTraffic))
	s.notices(g, headerHeight+40)
	s.WriteString("</svg>\n")
}

func (s *svgWriter) picture(g *telemetry.Graph, opts Options, p *picture) {
	sc := newScene(g, p)
	l := sc.layout
	legendTop := l.height + 4
	width := max(l.width, legendWidth(), headingWidth(g, opts), noticesWidth(g))
	height := legendTop + 2*legendRow + 8 + noticesHeight(g)
	s.open(width, height, opts.title())
	s.markers()
	s.heading(g, opts)
	s.bands(l)
	s.arcs(g, sc.routes)
	s.nodes(l)
	s.labels(sc.routes, sc.labels, sc.spots)
	s.legend(legendTop)
	s.notices(g, legendTop+2*legendRow+8)
	s.WriteString("</svg>\n")
}

// scene is a picture laid out: its nodes placed, its arcs routed and
// their labels placed.
type scene struct {
	layout *layout
	routes []*route
	labels map[*arc][]string
	spots  map[*arc]rect
}

func newScene(g *telemetry.Graph, p *picture) *scene {
	sc := &scene{labels: map[*arc][]string{}}
	sizes := map[*arc]point{}
	widths := map[*arc]float64{}
	for _, a := range p.arcs {
		if !a.labelled {
			continue
		}
		if lines := label(g, &a.traffic); len(lines) > 0 {
			sc.labels[a] = lines
			sizes[a] = labelSize(lines)
			widths[a] = sizes[a].x
		}
	}
	sc.layout = newLayout(p, headerHeight, widths)
	sc.routes = sc.layout.routes(p)
	sc.spots = placeLabels(sc.layout, sc.routes, sizes)
	return sc
}

func labelSize(lines []string) point {
	w := 0.0
	for _, ln := range lines {
		w = math.Max(w, textWidth(ln, fontLabel))
	}
	return point{w + 8, float64(len(lines))*lineLabel + 4}
}

var markerColors = []struct{ id, color string }{
	{"good", colorGood}, {"fair", colorFair}, {"bad", colorBad}, {"tcp", colorTCP}, {"none", colorNone},
}

func markerID(color string) string {
	for _, m := range markerColors {
		if m.color == color {
			return "arrow-" + m.id
		}
	}
	return "arrow-none"
}

func (s *svgWriter) markers() {
	s.WriteString("<defs>\n")
	for _, m := range markerColors {
		s.printf(`<marker id="arrow-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`+"\n", m.id, m.color)
	}
	s.WriteString("</defs>\n")
}

func (s *svgWriter) bands(l *layout) {
	s.WriteString(`<g class="namespaces">` + "\n")
	for _, b := range l.bands {
		if b.group.ns == "" {
			continue
		}
		s.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="#f5f7fa" stroke="#c7c7c7"><title>%s</title></rect>`+"\n",
			num1(b.left), num1(b.top), num1(b.right-b.left), num1(b.bottom-b.top), esc(b.group.title()))
		s.printf(`<text x="%s" y="%s" font-size="%s" fill="#4f5255">%s</text>`+"\n",
			num1(b.left+8), num1(b.top+15), num1(fontBand), esc(b.group.title()))
	}
	s.WriteString("</g>\n")
}

func (s *svgWriter) arcs(g *telemetry.Graph, rs []*route) {
	s.WriteString(`<g class="edges">` + "\n")
	for _, r := range rs {
		a := r.arc
		color := a.traffic.color()
		width := "1.6"
		if !a.labelled {
			width = "1.2"
		}
		dash := ""
		if a.traffic.plaintext() {
			dash = ` stroke-dasharray="6 4"`
		}
		title := a.from.title() + " → " + a.to.title()
		if lines := label(g, &a.traffic); a.labelled && len(lines) > 0 {
			title += ": " + strings.Join(lines, ", ")
		}
		s.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="%s"%s marker-end="url(#%s)"><title>%s</title></path>`+"\n",
			r.path(), color, width, dash, markerID(color), esc(title))
	}
	s.WriteString("</g>\n")
}

func (s *svgWriter) nodes(l *layout) {
	s.WriteString(`<g class="nodes">` + "\n")
	for _, it := range l.items {
		n := it.node
		s.printf(`<g class="node" id="node-%d" data-kind="%s"><title>%s</title>`, n.index, kindName(n), esc(n.title()))
		s.shape(it)
		s.printf(`<text x="%s" y="%s" dy="0.35em" font-size="%s" text-anchor="middle" fill="#151515">%s</text></g>`+"\n",
			num1(it.x), num1(it.y), num1(fontNode), esc(cut(n.name, maxName)))
	}
	s.WriteString("</g>\n")
}

func kindName(n *node) string {
	switch {
	case n.kind == kindUnknown:
		return "unknown"
	case n.kind == kindService:
		return "service"
	case n.gateway:
		return "gateway"
	}
	return "workload"
}

// shape draws a node's outline; style says how it looks in the legend too.
func (s *svgWriter) shape(it *item) {
	fill, stroke, dash := nodeStyle(it.node)
	if it.node.kind == kindService {
		s.printf(`<ellipse cx="%s" cy="%s" rx="%s" ry="%s" fill="%s" stroke="%s" stroke-width="1.3"%s/>`,
			num1(it.x), num1(it.y), num1(it.w/2), num1(it.h/2), fill, stroke, dash)
		return
	}
	s.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="8" fill="%s" stroke="%s" stroke-width="1.3"%s/>`,
		num1(it.x-it.w/2), num1(it.y-it.h/2), num1(it.w), num1(it.h), fill, stroke, dash)
}

func nodeStyle(n *node) (fill, stroke, dash string) {
	const dashed = ` stroke-dasharray="4 3"`
	switch {
	case n.kind == kindUnknown:
		return "#f0f0f0", colorNone, dashed
	case n.kind == kindService && n.external:
		return "#ffffff", "#2b3a42", dashed
	case n.gateway:
		return "#f2f0fc", "#6753ac", ""
	}
	return "#ffffff", "#2b3a42", ""
}

func (s *svgWriter) labels(rs []*route, labels map[*arc][]string, spots map[*arc]rect) {
	s.WriteString(`<g class="labels">` + "\n")
	for _, r := range rs {
		lines, ok := labels[r.arc]
		if !ok {
			continue
		}
		box, color := spots[r.arc], r.arc.traffic.color()
		s.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#ffffff" fill-opacity="0.9"/>`,
			num1(box.x), num1(box.y), num1(box.w), num1(box.h))
		s.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="middle" fill="%s">`, num1(box.x+box.w/2), num1(box.y+2), num1(fontLabel), color)
		for i, ln := range lines {
			dy := lineLabel
			if i == 0 {
				dy = fontLabel
			}
			s.printf(`<tspan x="%s" dy="%s">%s</tspan>`, num1(box.x+box.w/2), num1(dy), esc(ln))
		}
		s.WriteString("</text>\n")
	}
	s.WriteString("</g>\n")
}

// legend entries: arcs on the first row, nodes on the second.
var (
	legendArcs = []struct {
		color, text string
		dashed      bool
	}{
		{colorGood, "success ≥ 99%", false},
		{colorFair, "success ≥ 95%", false},
		{colorBad, "success < 95%", false},
		{colorTCP, "TCP only", false},
		{colorNone, "plaintext (not all mTLS)", true},
	}
	legendNodes = []struct {
		node *node
		text string
	}{
		{&node{kind: kindWorkload}, "workload"},
		{&node{kind: kindWorkload, gateway: true}, "ingress gateway"},
		{&node{kind: kindService}, "service"},
		{&node{kind: kindService, external: true}, "service outside the mesh"},
		{&node{kind: kindUnknown}, "unknown: callers outside the mesh"},
	}
)

const legendSample = 34.0

func legendWidth() float64 {
	w := func(texts []string) float64 {
		sum := 2 * margin
		for _, t := range texts {
			sum += legendSample + 6 + textWidth(t, fontBand) + 18
		}
		return sum
	}
	var a, n []string
	for _, e := range legendArcs {
		a = append(a, e.text)
	}
	for _, e := range legendNodes {
		n = append(n, e.text)
	}
	return math.Max(w(a), w(n))
}

func (s *svgWriter) legend(top float64) {
	s.WriteString(`<g class="legend" font-size="11" fill="#4f5255">` + "\n")
	x, y := margin, top+legendRow/2
	for _, e := range legendArcs {
		dash := ""
		if e.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		s.printf(`<path d="M%s L%s" stroke="%s" stroke-width="1.6"%s marker-end="url(#%s)"/>`,
			pt(point{x, y}), pt(point{x + legendSample, y}), e.color, dash, markerID(e.color))
		s.printf(`<text x="%s" y="%s" dy="0.35em">%s</text>`+"\n", num1(x+legendSample+6), num1(y), esc(e.text))
		x += legendSample + 6 + textWidth(e.text, fontBand) + 18
	}
	x, y = margin, top+legendRow*1.5
	for _, e := range legendNodes {
		s.shape(&item{node: e.node, x: x + legendSample/2, y: y, w: legendSample, h: 14})
		s.printf(`<text x="%s" y="%s" dy="0.35em">%s</text>`+"\n", num1(x+legendSample+6), num1(y), esc(e.text))
		x += legendSample + 6 + textWidth(e.text, fontBand) + 18
	}
	s.WriteString("</g>\n")
}

func noticesHeight(g *telemetry.Graph) float64 {
	if n := len(noticeLines(g)); n > 0 {
		return float64(n)*15 + 8
	}
	return 0
}

func noticesWidth(g *telemetry.Graph) float64 {
	w := 0.0
	for _, ln := range noticeLines(g) {
		w = math.Max(w, textWidth(ln, 11))
	}
	return w + 2*margin
}

func noticeLines(g *telemetry.Graph) []string {
	if len(g.Notices) == 0 {
		return nil
	}
	lines := []string{"Notices:"}
	for i, n := range g.Notices {
		if i == maxNotices {
			lines = append(lines, fmt.Sprintf("… and %d more", len(g.Notices)-maxNotices))
			break
		}
		lines = append(lines, "• "+cut(oneLine(n), 160))
	}
	return lines
}

func (s *svgWriter) notices(g *telemetry.Graph, top float64) {
	if len(g.Notices) == 0 {
		return
	}
	s.WriteString(`<g class="notices" font-size="11" fill="#795600">` + "\n")
	for i, ln := range noticeLines(g) {
		s.printf(`<text x="%s" y="%s">%s</text>`+"\n", num1(margin), num1(top+12+float64(i)*15), esc(ln))
	}
	s.WriteString("</g>\n")
}

// esc escapes text for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// num1 writes a coordinate with at most one decimal.
func num1(v float64) string {
	r := math.Round(v*10) / 10
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func pt(p point) string { return num1(p.x) + "," + num1(p.y) }
