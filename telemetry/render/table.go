package render

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Table writes the traffic for people: the services grouped by cluster,
// project and namespace, then the edges, then the graph's notices.
func Table(w io.Writer, g *telemetry.Graph, opts Options) error {
	g = orEmpty(g)
	bw := bufio.NewWriter(w)
	writeWindow(bw, g)
	if len(g.Edges) == 0 {
		fmt.Fprintln(bw, noTraffic)
	} else {
		serviceGrid(g, opts).write(bw)
		bw.WriteString("\n")
		edgeGrid(g).write(bw)
	}
	if len(g.Notices) > 0 {
		bw.WriteString("\nnotices:\n")
		for _, n := range g.Notices {
			fmt.Fprintf(bw, "  - %s\n", oneLine(n))
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func writeWindow(bw *bufio.Writer, g *telemetry.Graph) {
	if !g.Start.IsZero() || !g.End.IsZero() {
		fmt.Fprintf(bw, "window: %s to %s (%s)\n", stamp(g.Start), stamp(g.End), g.Window())
	}
	switch {
	case g.Source != "" && g.Queries > 0:
		fmt.Fprintf(bw, "source: %s (%s)\n", oneLine(g.Source), plural(g.Queries, "query", "queries"))
	case g.Source != "":
		fmt.Fprintf(bw, "source: %s\n", oneLine(g.Source))
	}
	bw.WriteString("\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// serviceGrid lays out one row per service under group lines for its
// cluster, project and namespace.
func serviceGrid(g *telemetry.Graph, opts Options) *grid {
	rows := services(g, opts)
	sort.SliceStable(rows, func(i, j int) bool { return lessGroup(rows[i], rows[j]) })
	projects, clusters := false, false
	for _, r := range rows {
		projects = projects || r.project != ""
		clusters = clusters || r.service.Cluster != ""
	}
	t := &grid{
		header: []string{"SERVICE", "REQ/S", "SUCCESS", "4XX", "5XX", "P50", "P90", "P99", "MTLS", "TCP"},
		right:  []bool{false, true, true, true, true, true, true, true, true, false},
	}
	var last *serviceRow
	for _, r := range rows {
		indent := ""
		if clusters {
			if last == nil || r.service.Cluster != last.service.Cluster {
				t.group(indent, "cluster "+orNone(r.service.Cluster))
				last = nil
			}
			indent += "  "
		}
		if projects {
			if last == nil || r.project != last.project {
				t.group(indent, projectTitle(r.project))
				last = nil
			}
			indent += "  "
		}
		if last == nil || r.service.Namespace != last.service.Namespace {
			t.group(indent, namespaceTitle(r.service.Namespace))
		}
		t.rows = append(t.rows, serviceCells(g, indent+"  ", r))
		last = r
	}
	return t
}

// lessGroup orders services by cluster, project (those in none last),
// namespace and name.
func lessGroup(a, b *serviceRow) bool {
	if a.service.Cluster != b.service.Cluster {
		return a.service.Cluster < b.service.Cluster
	}
	if a.project != b.project {
		return b.project == "" || (a.project != "" && a.project < b.project)
	}
	return lessID(idOf(a.service), idOf(b.service))
}

func projectTitle(p string) string {
	if p == "" {
		return "not in a project"
	}
	return "project " + p
}

func namespaceTitle(ns string) string {
	if ns == "" {
		return "outside any namespace"
	}
	return "namespace " + ns
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func serviceCells(g *telemetry.Graph, indent string, r *serviceRow) []string {
	t := &r.traffic
	cells := []string{indent + r.service.Name, "-", "-", "-", "-", "-", "-", "-", "-", ""}
	if t.Requests > 0 {
		cells[1] = formatRPS(g.Rate(t.Requests))
		cells[2] = shareCell(t.success())
		cells[3] = shareCell(t.share(4))
		cells[4] = shareCell(t.share(5))
		for i, q := range []float64{0.5, 0.9, 0.99} {
			cells[5+i] = quantileCell(t, q)
		}
	}
	cells[8] = shareCell(t.mtls())
	if t.tcpOnly() {
		cells[9] = formatBytesRate(g.Rate(t.TCP.BytesSent + t.TCP.BytesReceived))
	}
	return cells
}

func shareCell(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return formatShare(v)
}

func quantileCell(t *traffic, q float64) string {
	ms, sat, ok := t.quantile(q)
	if !ok {
		return "-"
	}
	return formatMS(ms, sat)
}

// edgeGrid lays out one row per edge of the graph.
func edgeGrid(g *telemetry.Graph) *grid {
	t := &grid{
		header: []string{"SOURCE", "", "SERVICE", "REQ/S", "SUCCESS", "P99", "TCP", "SECURITY", "FLAGS"},
		right:  []bool{false, false, false, true, true, true, false, false, false},
	}
	for _, e := range g.Edges {
		var tr traffic
		tr.add(e)
		cells := []string{workloadName(e.Source), "->", edgeService(e.Key), "-", "-", "-", "", security(&tr), formatFlags(tr.Flags)}
		if tr.Requests > 0 {
			cells[3] = formatRPS(g.Rate(tr.Requests))
			cells[4] = shareCell(tr.success())
			cells[5] = quantileCell(&tr, 0.99)
		}
		if tr.hasTCP() {
			cells[6] = formatBytesRate(g.Rate(tr.TCP.BytesSent + tr.TCP.BytesReceived))
		}
		t.rows = append(t.rows, cells)
	}
	return t
}

// edgeService names an edge's service, and the workload that served it
// when known: "shop/reviews (reviews-v2)".
func edgeService(k telemetry.Key) string {
	s := k.Service.String()
	if k.Service.Cluster != "" {
		s += " [" + k.Service.Cluster + "]"
	}
	d := k.Destination
	switch {
	case !d.Known():
	case d.Namespace == k.Service.Namespace && d.Cluster == k.Service.Cluster:
		s += " (" + d.Name + ")"
	default:
		s += " (" + workloadName(d) + ")"
	}
	return s
}

// security says how the traffic went: "mTLS", "plaintext", "mixed (80%
// mTLS)", or "-" when no reporter could tell.
func security(t *traffic) string {
	share, ok := t.mtls()
	switch {
	case !ok:
		return "-"
	case share >= 1:
		return "mTLS"
	case share <= 0:
		return "plaintext"
	}
	return "mixed (" + formatShare(share) + " mTLS)"
}

// grid is a text table with aligned columns. A row of one cell is a group
// line, printed as it is and not aligned.
type grid struct {
	header []string
	right  []bool
	rows   [][]string
}

func (t *grid) group(indent, title string) {
	t.rows = append(t.rows, []string{indent + title})
}

func (t *grid) write(bw *bufio.Writer) {
	width := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		if len(r) == 1 {
			continue
		}
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range append([][]string{t.header}, t.rows...) {
		if len(r) == 1 {
			bw.WriteString(r[0] + "\n")
			continue
		}
		var line strings.Builder
		for i, c := range r {
			if width[i] == 0 {
				continue
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if t.right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		bw.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
