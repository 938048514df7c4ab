package telemetry

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Builder collects reports of traffic and yields a Graph.
//
// Istio reports a call twice when both ends run a proxy: once from the
// caller's side (reporter="source") and once from the server's
// (reporter="destination"); in ambient mode a waypoint reports L7 and
// ztunnel only TCP. Adding both would count every request twice, so a
// Builder keeps each reporter's figures apart and Graph picks, per edge:
//   - requests, codes, flags and protocol from the first reporter, in the
//     order source, waypoint, destination, that saw any requests — the
//     caller's side witnesses failures (UO, UF, URX, UT) the server never
//     sees, and the server's side is the only witness of callers outside
//     the mesh;
//   - latency from that same reporter, or the next one that has any;
//   - TCP figures from the first reporter with any;
//   - connection security from the destination reporter when it has one:
//     Istio's source reporter always says "unknown".
type Builder struct {
	start, end time.Time
	step       time.Duration
	edges      map[reported]*Edge
	profiles   map[string]*Profile
	notices    []string
	queries    int
}

type reported struct {
	Key
	reporter string
}

// NewBuilder starts a graph of the window [start, end] with profiles at
// resolution step.
func NewBuilder(start, end time.Time, step time.Duration) *Builder {
	return &Builder{start: start, end: end, step: step, edges: map[reported]*Edge{}, profiles: map[string]*Profile{}}
}

// Edge returns the figures of k as reporter saw them, created empty on
// first use.
func (b *Builder) Edge(k Key, reporter string) *Edge {
	r := reported{k, reporter}
	e := b.edges[r]
	if e == nil {
		e = &Edge{Key: k, Reporter: reporter}
		b.edges[r] = e
	}
	return e
}

// AddRequests adds n requests of k with one response code, a
// response_flags value ("-", "UO", "UH,UF"), a connection security policy
// and a protocol.
func (b *Builder) AddRequests(k Key, reporter, protocol string, code int, flags, security string, n float64) {
	if n == 0 {
		return
	}
	e := b.Edge(k, reporter)
	e.Requests += n
	inc(&e.Codes, code, n)
	for _, f := range SplitFlags(flags) {
		inc(&e.Flags, f, n)
	}
	if security != "" {
		inc(&e.Security, security, n)
	}
	if protocol != "" {
		inc(&e.Protocols, strings.ToLower(protocol), n)
	}
}

// AddSecurity counts n requests or connections of k under a connection
// security policy, without counting them as requests (TCP connections).
func (b *Builder) AddSecurity(k Key, reporter, security string, n float64) {
	if n == 0 || security == "" {
		return
	}
	inc(&b.Edge(k, reporter).Security, security, n)
}

// SplitFlags splits Envoy's response_flags value into flags; "-" and ""
// give none.
func SplitFlags(s string) []string {
	if s == "" || s == "-" {
		return nil
	}
	return strings.Split(s, ",")
}

func inc[K comparable](m *map[K]float64, k K, n float64) {
	if *m == nil {
		*m = map[K]float64{}
	}
	(*m)[k] += n
}

// Profile returns the profile of destination service s, created with the
// builder's window and step on first use.
func (b *Builder) Profile(s Service) *Profile {
	k := s.ID()
	p := b.profiles[k]
	if p == nil {
		n := 0
		if b.step > 0 {
			n = int(b.end.Sub(b.start)/b.step) + 1
		}
		p = &Profile{Start: b.start, Step: Duration(b.step), Totals: make([]float64, n), Errors: make([]float64, n)}
		b.profiles[k] = p
	}
	return p
}

// ProfileIndex gives the step of t in the profiles, or -1 outside.
func (b *Builder) ProfileIndex(t time.Time) int {
	if b.step <= 0 || t.Before(b.start) || t.After(b.end) {
		return -1
	}
	return int(t.Sub(b.start) / b.step)
}

// Noticef records something the user should know about the evidence.
func (b *Builder) Noticef(format string, args ...any) {
	b.notices = append(b.notices, fmt.Sprintf(format, args...))
}

// CountQuery records a query made to build the graph.
func (b *Builder) CountQuery() { b.queries++ }

// Graph reconciles the reporters (see Builder) and returns the graph, its
// edges sorted by destination service, source and destination workload.
func (b *Builder) Graph(source string) *Graph {
	byKey := map[Key][]*Edge{}
	for r, e := range b.edges {
		byKey[r.Key] = append(byKey[r.Key], e)
	}
	g := &Graph{Source: source, Start: b.start, End: b.end, Step: Duration(b.step), Queries: b.queries, Notices: b.notices}
	for k, reps := range byKey {
		sort.Slice(reps, func(i, j int) bool { return reporterRank(reps[i].Reporter) < reporterRank(reps[j].Reporter) })
		out := &Edge{Key: k}
		var chosen *Edge
		for _, e := range reps {
			if e.Requests > 0 {
				chosen = e
				break
			}
		}
		if chosen != nil {
			out.Reporter = chosen.Reporter
			out.Requests = chosen.Requests
			out.Codes, out.Flags, out.Protocols = chosen.Codes, chosen.Flags, chosen.Protocols
			out.Latency = chosen.Latency
		}
		if out.Latency.Count() == 0 {
			for _, e := range reps {
				if e.Latency.Count() > 0 {
					out.Latency = e.Latency
					break
				}
			}
		}
		for _, e := range reps {
			if !e.TCP.zero() {
				out.TCP = e.TCP
				if out.Reporter == "" {
					out.Reporter = e.Reporter
				}
				break
			}
		}
		out.Security = securityOf(reps, chosen)
		if out.Reporter == "" {
			out.Reporter = reps[0].Reporter
		}
		if out.Protocols == nil && !out.TCP.zero() {
			out.Protocols = map[string]float64{"tcp": out.TCP.ConnectionsOpened}
		}
		g.Edges = append(g.Edges, out)
	}
	sort.Slice(g.Edges, func(i, j int) bool { return lessKey(g.Edges[i].Key, g.Edges[j].Key) })
	if len(b.profiles) > 0 {
		g.Profiles = b.profiles
	}
	return g
}

func securityOf(reps []*Edge, chosen *Edge) map[string]float64 {
	known := func(m map[string]float64) bool {
		for k, v := range m {
			if k != Unknown && v > 0 {
				return true
			}
		}
		return false
	}
	for _, e := range reps {
		if e.Reporter == ReporterDestination && known(e.Security) {
			return e.Security
		}
	}
	for _, e := range reps {
		if known(e.Security) {
			return e.Security
		}
	}
	if chosen != nil {
		return chosen.Security
	}
	return nil
}

// ParseCode reads a response_code label ("200", "0", "" for none).
func ParseCode(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}
