package render

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Options are what the renderers need beyond the graph.
type Options struct {
	// ProjectOf names the Rancher project of a namespace ("" when none /
	// not Rancher); nil = no projects.
	ProjectOf func(cluster, namespace string) string
	// Title for the DOT/SVG picture.
	Title string
}

func (o Options) project(cluster, namespace string) string {
	if o.ProjectOf == nil || namespace == "" {
		return ""
	}
	return o.ProjectOf(cluster, namespace)
}

func (o Options) title() string {
	if o.Title == "" {
		return "meshpilot traffic"
	}
	return o.Title
}

// orEmpty reads a nil graph as one without traffic.
func orEmpty(g *telemetry.Graph) *telemetry.Graph {
	if g == nil {
		return &telemetry.Graph{}
	}
	return g
}

// noTraffic is the note for a graph without edges.
const noTraffic = "no traffic observed in the window"

// Success-rate thresholds of the colors: green at or above good, orange at
// or above fair, red below.
const (
	good = 0.99
	fair = 0.95
)

// traffic is the sum of some edges' figures.
// traffic is the figures of one or more edges added up.
type traffic struct{ telemetry.Totals }

func (t *traffic) add(e *telemetry.Edge) { t.Add(e) }

// share is the share of requests with a response code of class (4, 5).
func (t *traffic) share(class int) (float64, bool) {
	if t.Requests <= 0 {
		return 0, false
	}
	return t.Count(class) / t.Requests, true
}

// success is the share of requests answered with neither a 5xx nor no
// response, as Kiali counts it.
func (t *traffic) success() (float64, bool) {
	if t.Requests <= 0 {
		return 0, false
	}
	return math.Max(0, t.SuccessRate()), true
}

// mtls is the share of mTLS among requests and connections whose security
// policy is known.
func (t *traffic) mtls() (float64, bool) {
	var known float64
	for k, v := range t.Security {
		if k != telemetry.Unknown {
			known += v
		}
	}
	if known <= 0 {
		return 0, false
	}
	return t.Security[telemetry.MutualTLS] / known, true
}

func (t *traffic) hasTCP() bool { return t.TCP != telemetry.TCP{} }

// tcpOnly reports traffic seen only at the TCP level.
func (t *traffic) tcpOnly() bool { return t.Requests <= 0 && t.hasTCP() }

// quantile is a latency quantile in milliseconds; saturated says it is
// only a lower bound.
func (t *traffic) quantile(q float64) (ms float64, saturated, ok bool) {
	v, ok := t.Latency.Quantile(q)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, false
	}
	return v, t.Latency.Saturated(q), true
}

// protocol is the protocol of most requests or connections.
func (t *traffic) protocol() string {
	best, n := "", 0.0
	for _, p := range sortedKeys(t.Protocols) {
		if t.Protocols[p] > n {
			best, n = p, t.Protocols[p]
		}
	}
	return best
}

// color is the color of traffic in pictures: by success rate, blue for
// TCP, grey for nothing known.
func (t *traffic) color() string {
	if s, ok := t.success(); ok {
		switch {
		case s >= good:
			return colorGood
		case s >= fair:
			return colorFair
		}
		return colorBad
	}
	if t.hasTCP() {
		return colorTCP
	}
	return colorNone
}

// plaintext reports traffic of which some went without mTLS.
func (t *traffic) plaintext() bool { return t.Security[telemetry.None] > 0 }

// PatternFly's colors, as Kiali uses them.
const (
	colorGood = "#3e8635"
	colorFair = "#ec7a08"
	colorBad  = "#c9190b"
	colorTCP  = "#0066cc"
	colorNone = "#8a8d90"
)

// label is an edge's label in pictures: throughput and success on one
// line, p99 on the next.
func label(g *telemetry.Graph, t *traffic) []string {
	if t.Requests <= 0 {
		if t.hasTCP() {
			return []string{formatBytesRate(g.Rate(t.TCP.BytesSent + t.TCP.BytesReceived))}
		}
		return nil
	}
	first := formatRPS(g.Rate(t.Requests)) + " rps"
	if s, ok := t.success(); ok {
		first += ", " + formatShare(s)
	}
	lines := []string{first}
	if p99, sat, ok := t.quantile(0.99); ok {
		lines = append(lines, "p99 "+formatMS(p99, sat))
	}
	return lines
}

// formatRPS writes a rate with two decimals, as Kiali does, without
// rounding some traffic to none.
func formatRPS(v float64) string {
	if v > 0 && v < 0.005 {
		return "<0.01"
	}
	return fmt.Sprintf("%.2f", v)
}

// formatShare writes a fraction as a percentage: one decimal, two near 0
// and 100 %, and never rounded to exactly 0 or 100 % when it is not.
func formatShare(f float64) string {
	v := f * 100
	switch {
	case v <= 0:
		return "0%"
	case v >= 100:
		return "100%"
	case v < 0.01:
		return "<0.01%"
	case v < 1:
		return fmt.Sprintf("%.2f%%", v)
	case v < 99:
		return fmt.Sprintf("%.1f%%", v)
	case v > 99.99:
		return ">99.99%"
	}
	return fmt.Sprintf("%.2f%%", math.Floor(v*100)/100)
}

// formatMS writes a duration given in milliseconds: "0.8ms", "35ms",
// "1.25s", "3600s"; ">" marks a lower bound.
func formatMS(ms float64, saturated bool) string {
	var s string
	switch {
	case ms < 10:
		s = fmt.Sprintf("%.1fms", ms)
	case ms < 1000:
		s = fmt.Sprintf("%.0fms", ms)
	case ms < 60000:
		s = fmt.Sprintf("%.2fs", ms/1000)
	default:
		s = fmt.Sprintf("%.0fs", ms/1000)
	}
	if saturated {
		s = ">" + s
	}
	return s
}

// formatBytesRate writes a throughput in bytes per second, decimal units.
func formatBytesRate(v float64) string {
	units := []string{"B/s", "kB/s", "MB/s", "GB/s"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

// formatCount writes a count over the window; Prometheus' increase() gives
// fractions.
func formatCount(v float64) string {
	switch {
	case v <= 0:
		return "0"
	case v < 1:
		return "<1"
	}
	return fmt.Sprintf("%.0f", v)
}

// formatFlags writes response flags with their counts, most frequent
// first: "UO 12, URX 3".
func formatFlags(flags map[string]float64) string {
	keys := sortedKeys(flags)
	sort.SliceStable(keys, func(i, j int) bool { return flags[keys[i]] > flags[keys[j]] })
	var parts []string
	for _, k := range keys {
		if flags[k] > 0 {
			parts = append(parts, k+" "+formatCount(flags[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// workloadName names a workload for people: "shop/cart-v1", "unknown",
// with its cluster when there is one.
func workloadName(w telemetry.Workload) string {
	if w.Known() && w.Cluster != "" {
		return w.String() + " [" + w.Cluster + "]"
	}
	return w.String()
}

// serviceID is a service's identity in the renderings: its host may be
// spelled differently by different reporters, its cluster may not.
type serviceID struct{ cluster, namespace, name string }

func idOf(s telemetry.Service) serviceID { return serviceID{s.Cluster, s.Namespace, s.Name} }

// isGateway reports whether w looks like an ingress gateway: Istio's
// istio-ingressgateway and its usual variants.
func isGateway(w telemetry.Workload) bool {
	n := strings.ToLower(w.Name)
	return strings.Contains(n, "ingressgateway") || strings.Contains(n, "ingress-gateway")
}

// isExternal reports whether s is outside the mesh's Kubernetes services:
// a ServiceEntry host or a destination Istio could not name.
func isExternal(s telemetry.Service) bool {
	return s.Namespace == "" || !s.Known() || (s.Host != "" && !strings.Contains(s.Host, ".svc."))
}
