package render

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/telemetry"
)

// DOT writes the traffic as a Graphviz graph: a subgraph cluster per
// cluster, project and namespace holding its workloads (boxes) and
// services (ellipses), and the arcs between them labelled and colored by
// success rate, dashed where traffic went in plaintext.
func DOT(w io.Writer, g *telemetry.Graph, opts Options) error {
	g = orEmpty(g)
	p := newPicture(g, opts)
	bw := bufio.NewWriter(w)
	heading := []string{opts.title()}
	if sub := subtitle(g); sub != "" {
		heading = append(heading, sub)
	}
	if len(p.nodes) == 0 {
		heading = append(heading, noTraffic)
	}
	fmt.Fprintf(bw, "digraph %s {\n", dotQuote("meshpilot traffic"))
	for _, n := range g.Notices {
		fmt.Fprintf(bw, "  // notice: %s\n", oneLine(n))
	}
	fmt.Fprintf(bw, "  graph [label=%s, labelloc=t, rankdir=LR, fontname=Helvetica, fontsize=14, nodesep=0.3, ranksep=1.2];\n", dotLabel(heading))
	bw.WriteString("  node [fontname=Helvetica, fontsize=11, color=\"#2b3a42\"];\n")
	bw.WriteString("  edge [fontname=Helvetica, fontsize=9];\n")
	writeDOTGroups(bw, p)
	for _, a := range p.arcs {
		writeDOTArc(bw, g, a)
	}
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write dot: %w", err)
	}
	return nil
}

// subtitle tells the window and the source of the evidence.
func subtitle(g *telemetry.Graph) string {
	var parts []string
	if !g.Start.IsZero() || !g.End.IsZero() {
		parts = append(parts, fmt.Sprintf("%s to %s (%s)", stamp(g.Start), stamp(g.End), g.Window()))
	}
	if g.Source != "" {
		parts = append(parts, oneLine(g.Source))
	}
	return strings.Join(parts, ", ")
}

// writeDOTGroups nests the namespaces in their projects and clusters; nodes
// outside any namespace stay at the level of their cluster.
func writeDOTGroups(bw *bufio.Writer, p *picture) {
	byCluster := map[string]map[string][]*group{}
	for _, gr := range p.groups {
		if byCluster[gr.cluster] == nil {
			byCluster[gr.cluster] = map[string][]*group{}
		}
		byCluster[gr.cluster][gr.project] = append(byCluster[gr.cluster][gr.project], gr)
	}
	sub := 0
	open := func(indent, title string) {
		fmt.Fprintf(bw, "%ssubgraph %s {\n", indent, dotQuote(fmt.Sprintf("cluster_%d", sub)))
		fmt.Fprintf(bw, "%s  label=%s; labeljust=l; style=\"rounded\"; color=\"#c7c7c7\"; fontsize=11;\n", indent, dotQuote(title))
		sub++
	}
	for _, cluster := range sortedKeys(byCluster) {
		indent := "  "
		if cluster != "" {
			open(indent, "cluster "+cluster)
			indent += "  "
		}
		for _, project := range sortedKeys(byCluster[cluster]) {
			pindent := indent
			if project != "" {
				open(pindent, "project "+project)
				pindent += "  "
			}
			groups := byCluster[cluster][project]
			sort.Slice(groups, func(i, j int) bool { return groups[i].index < groups[j].index })
			for _, gr := range groups {
				writeDOTGroup(bw, pindent, gr, open)
			}
			if project != "" {
				bw.WriteString(indent + "}\n")
			}
		}
		if cluster != "" {
			bw.WriteString("  }\n")
		}
	}
}

func writeDOTGroup(bw *bufio.Writer, indent string, gr *group, open func(indent, title string)) {
	inner := indent
	if gr.ns != "" {
		open(indent, "namespace "+gr.ns)
		inner += "  "
	}
	for _, n := range gr.nodes {
		fmt.Fprintf(bw, "%s%s [%s];\n", inner, dotQuote(dotNodeID(n)), dotNodeAttrs(n))
	}
	if gr.ns != "" {
		bw.WriteString(indent + "}\n")
	}
}

// dotNodeID is a node's identity: its kind, cluster, namespace and name.
func dotNodeID(n *node) string {
	switch n.kind {
	case kindUnknown:
		return telemetry.Unknown
	case kindService:
		return "service:" + qualified(n.cluster, n.ns, n.name)
	}
	return "workload:" + qualified(n.cluster, n.ns, n.name)
}

func dotNodeAttrs(n *node) string {
	attrs := []string{"label=" + dotQuote(n.name), "tooltip=" + dotQuote(n.title())}
	switch {
	case n.kind == kindUnknown:
		attrs = append(attrs, "shape=box", `style="rounded,filled,dashed"`, `fillcolor="#f0f0f0"`, `color="#8a8d90"`)
	case n.kind == kindService && n.external:
		attrs = append(attrs, "shape=ellipse", "style=dashed")
	case n.kind == kindService:
		attrs = append(attrs, "shape=ellipse")
	case n.gateway:
		attrs = append(attrs, "shape=box", `style="rounded,filled"`, `fillcolor="#f2f0fc"`, `color="#6753ac"`)
	default:
		attrs = append(attrs, "shape=box", "style=rounded")
	}
	return strings.Join(attrs, ", ")
}

func writeDOTArc(bw *bufio.Writer, g *telemetry.Graph, a *arc) {
	color := a.traffic.color()
	attrs := []string{"color=" + dotQuote(color)}
	if a.labelled {
		if lines := label(g, &a.traffic); len(lines) > 0 {
			attrs = append(attrs, "label="+dotLabel(lines), "fontcolor="+dotQuote(color))
		}
	} else {
		attrs = append(attrs, "arrowsize=0.7")
	}
	if a.traffic.plaintext() {
		attrs = append(attrs, "style=dashed")
	}
	fmt.Fprintf(bw, "  %s -> %s [%s];\n", dotQuote(dotNodeID(a.from)), dotQuote(dotNodeID(a.to)), strings.Join(attrs, ", "))
}

// dotQuote writes s as a DOT string: quoted, with quotes and backslashes
// escaped and line breaks as Graphviz's \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return `"` + r.Replace(s) + `"`
}

// dotLabel writes lines as one centered DOT label.
func dotLabel(lines []string) string { return dotQuote(strings.Join(lines, "\n")) }
