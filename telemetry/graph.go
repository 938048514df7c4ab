// Package telemetry is meshpilot's model of observed mesh traffic: a graph
// whose nodes are workloads and services and whose edges carry what the
// proxies saw over a window — request counts by response code and Envoy
// response flag, latency histograms, mTLS versus plaintext, TCP bytes and
// connections — plus, per destination service, a time profile of its
// requests and 5xx responses.
//
// The model knows nothing of where the evidence came from: the Prometheus
// source (source/prometheus) and the access-log source (source/accesslog)
// both fill a Builder, which reconciles the reports of the two ends of a
// call (see Builder) and yields a Graph.
package telemetry

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Unknown is the name Istio gives a workload or service it cannot identify:
// a caller outside the mesh, or a destination without a sidecar.
const Unknown = "unknown"

// Workload identifies a workload (Deployment, StatefulSet, ... as Istio's
// workload label names it). An empty or "unknown" Name is a peer outside the
// mesh.
type Workload struct {
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// Known reports whether w is a workload of the mesh.
func (w Workload) Known() bool { return w.Name != "" && w.Name != Unknown }

func (w Workload) String() string {
	if !w.Known() {
		return Unknown
	}
	return w.Namespace + "/" + w.Name
}

// Service identifies a destination service by its namespace and short
// name; Host is the name clients used (reviews.shop.svc.cluster.local, or
// an external host of a ServiceEntry).
type Service struct {
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Host      string `json:"host,omitempty"`
}

// Known reports whether s names a service.
func (s Service) Known() bool { return s.Name != "" && s.Name != Unknown }

// ID identifies s within a graph: its namespace and name, qualified by
// its cluster when it has one, so that the same service in two clusters
// stays two services (as Kiali shows them). Graph.Profiles is keyed by it.
func (s Service) ID() string {
	if s.Cluster == "" {
		return s.String()
	}
	return s.Cluster + "/" + s.String()
}

func (s Service) String() string {
	if s.Namespace == "" {
		return s.Name
	}
	return s.Namespace + "/" + s.Name
}

// Key is the identity of an edge: who called which service, and which
// workload served it (zero when the reporter could not tell).
type Key struct {
	Source      Workload `json:"source"`
	Service     Service  `json:"service"`
	Destination Workload `json:"destination"`
}

func (k Key) String() string {
	d := ""
	if k.Destination.Known() {
		d = " (" + k.Destination.String() + ")"
	}
	return k.Source.String() + " -> " + k.Service.String() + d
}

// Reporters, in the order a Builder prefers them for one edge: the calling
// side sees client-side failures (pool overflow, connect failures,
// timeouts) that never reach the server; a waypoint stands in for it in
// ambient mode; the server side is the only witness of callers outside the
// mesh; ztunnel reports only TCP.
const (
	ReporterSource      = "source"
	ReporterWaypoint    = "waypoint"
	ReporterDestination = "destination"
)

func reporterRank(r string) int {
	switch r {
	case ReporterSource:
		return 0
	case ReporterWaypoint:
		return 1
	case ReporterDestination:
		return 2
	}
	return 3
}

// Security values of Istio's connection_security_policy label.
const (
	MutualTLS = "mutual_tls"
	None      = "none"
)

// Edge is the traffic of one Key over the window, as one reporter saw it.
type Edge struct {
	Key
	// Reporter is the reporter whose figures these are ("source",
	// "waypoint", "destination").
	Reporter string `json:"reporter"`
	// Protocols counts requests (or, for TCP, connections) per protocol
	// ("http", "grpc", "tcp").
	Protocols map[string]float64 `json:"protocols,omitempty"`
	// Requests is the number of HTTP/gRPC requests in the window.
	Requests float64 `json:"requests"`
	// Codes counts requests per response code; 0 is "no response".
	Codes map[int]float64 `json:"codes,omitempty"`
	// Flags counts requests per Envoy response flag ("UO", "URX", ...);
	// a request with several flags ("UH,UF") counts once per flag.
	Flags map[string]float64 `json:"flags,omitempty"`
	// Security counts requests and connections per
	// connection_security_policy (MutualTLS, None, or "unknown").
	Security map[string]float64 `json:"security,omitempty"`
	// Latency is the request duration histogram in milliseconds of the
	// responses that were not server errors (5xx) or no response at all
	// (code 0). A failure's duration is not the service's: a 503 from an
	// overflowing pool is a local reply in microseconds, a 504 lasts
	// exactly the route timeout. Failures are in Codes and Flags.
	Latency Histogram `json:"latency"`
	// TCP holds TCP-level figures (bytes, connections), the only ones for
	// plain TCP and for ambient workloads without a waypoint.
	TCP TCP `json:"tcp"`
}

// TCP is an edge's TCP traffic over the window.
type TCP struct {
	BytesSent         float64 `json:"bytesSent"`
	BytesReceived     float64 `json:"bytesReceived"`
	ConnectionsOpened float64 `json:"connectionsOpened"`
	ConnectionsClosed float64 `json:"connectionsClosed"`
}

func (t TCP) zero() bool { return t == TCP{} }

// Count sums codes matching class: 4 for 4xx, 5 for 5xx.
func (e *Edge) Count(class int) float64 { return classCount(e.Codes, class) }

func classCount(codes map[int]float64, class int) float64 {
	var n float64
	for c, v := range codes {
		if c/100 == class {
			n += v
		}
	}
	return n
}

// Failed says a response code is a failure: a 5xx, or no response at all
// (0), as Kiali and Rancher count success. Latency is of the other
// responses (see Edge.Latency).
func Failed(code int) bool { return code == 0 || code/100 == 5 }

// failures sums the requests answered with a failure (see Failed).
func failures(codes map[int]float64) float64 {
	var n float64
	for c, v := range codes {
		if Failed(c) {
			n += v
		}
	}
	return n
}

// SuccessRate is the share of requests not answered with a failure (see
// Failed); NaN without requests.
func (e *Edge) SuccessRate() float64 {
	if e.Requests == 0 {
		return math.NaN()
	}
	return 1 - failures(e.Codes)/e.Requests
}

// Plaintext reports the requests or connections without mTLS.
func (e *Edge) Plaintext() float64 { return e.Security[None] }

// Profile is a destination's traffic over time, one point per Step from
// Start: request rate and 5xx rate (per second, averaged over the step).
type Profile struct {
	Start  time.Time `json:"start"`
	Step   Duration  `json:"step"`
	Totals []float64 `json:"totals"`
	Errors []float64 `json:"errors"`
}

// Ratios gives the 5xx ratio of each step with traffic; steps without
// requests are left out.
func (p *Profile) Ratios() []float64 {
	var out []float64
	for i, t := range p.Totals {
		if t > 0 && i < len(p.Errors) {
			out = append(out, p.Errors[i]/t)
		}
	}
	return out
}

// Graph is the observed traffic of a mesh over a window.
type Graph struct {
	// Source says where the evidence came from ("prometheus
	// http://127.0.0.1:9090", "access logs: 3 files").
	Source string    `json:"source"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Step is the resolution of the profiles.
	Step  Duration `json:"step"`
	Edges []*Edge  `json:"edges"`
	// Profiles of destination services, by Service.ID().
	Profiles map[string]*Profile `json:"profiles,omitempty"`
	// Queries is the number of queries the source made.
	Queries int `json:"queries"`
	// Notices are things a user should know about the evidence: partial
	// data, Prometheus warnings, lines that could not be read.
	Notices []string `json:"notices,omitempty"`

	// services caches Services, computed once: a graph is read-only once
	// built, and analyzers read it concurrently.
	servicesOnce sync.Once
	services     []*ServiceTraffic
	byService    map[string]*ServiceTraffic
}

// Window is the length of the observed window.
func (g *Graph) Window() time.Duration { return g.End.Sub(g.Start) }

// Part is one cluster's graph, for Join.
type Part struct {
	Cluster string
	Graph   *Graph
}

// Join puts the graphs of several clusters side by side in one, for a view
// across them. Their edges and profiles are kept apart by the cluster in
// their keys, which every source sets from its Options.Cluster. The
// window spans them all (read at once, they differ by the time between
// the reads) with the first one's step. Queries add up, and each notice
// names its cluster.
func Join(source string, parts ...Part) *Graph {
	g := &Graph{Source: source, Profiles: map[string]*Profile{}}
	for i, p := range parts {
		if i == 0 || p.Graph.Start.Before(g.Start) {
			g.Start = p.Graph.Start
		}
		if i == 0 || p.Graph.End.After(g.End) {
			g.End = p.Graph.End
		}
		if i == 0 {
			g.Step = p.Graph.Step
		}
		g.Edges = append(g.Edges, p.Graph.Edges...)
		maps.Copy(g.Profiles, p.Graph.Profiles)
		g.Queries += p.Graph.Queries
		for _, n := range p.Graph.Notices {
			g.Notices = append(g.Notices, "cluster "+p.Cluster+": "+n)
		}
	}
	return g
}

// Rate turns a count over the window into a per-second rate.
func (g *Graph) Rate(count float64) float64 {
	s := g.Window().Seconds()
	if s <= 0 {
		return 0
	}
	return count / s
}

// Totals are the figures of several edges added up: buckets, codes and
// counts all add.
type Totals struct {
	Requests  float64
	Codes     map[int]float64
	Flags     map[string]float64
	Security  map[string]float64
	Protocols map[string]float64
	Latency   Histogram
	TCP       TCP
}

// Add adds an edge's figures.
func (t *Totals) Add(e *Edge) {
	t.Requests += e.Requests
	t.Codes = addAll(t.Codes, e.Codes)
	t.Flags = addAll(t.Flags, e.Flags)
	t.Security = addAll(t.Security, e.Security)
	t.Protocols = addAll(t.Protocols, e.Protocols)
	t.Latency = t.Latency.Merge(e.Latency)
	t.TCP.BytesSent += e.TCP.BytesSent
	t.TCP.BytesReceived += e.TCP.BytesReceived
	t.TCP.ConnectionsOpened += e.TCP.ConnectionsOpened
	t.TCP.ConnectionsClosed += e.TCP.ConnectionsClosed
}

// ServiceTraffic is everything observed into one destination service: its
// incoming edges added up.
type ServiceTraffic struct {
	Service Service
	Edges   []*Edge // incoming, sorted by Key
	Totals
	Profile *Profile // nil when the source gave none
}

// SuccessRate is as for Edge.
func (t *Totals) SuccessRate() float64 {
	if t.Requests == 0 {
		return math.NaN()
	}
	return 1 - failures(t.Codes)/t.Requests
}

// Count sums codes of a class (4, 5).
func (t *Totals) Count(class int) float64 { return classCount(t.Codes, class) }

// Services merges the edges into each destination service (of each
// cluster: see Service.ID), sorted by cluster, namespace and name. The result is computed once and shared: callers
// must not change it (nor the graph's edges after the first call).
func (g *Graph) Services() []*ServiceTraffic {
	g.servicesOnce.Do(g.mergeServices)
	return g.services
}

func (g *Graph) mergeServices() {
	by := map[string]*ServiceTraffic{}
	for _, e := range g.Edges {
		k := e.Service.ID()
		st := by[k]
		if st == nil {
			st = &ServiceTraffic{Service: e.Service, Profile: g.Profiles[k]}
			by[k] = st
		}
		if st.Service.Host == "" {
			st.Service.Host = e.Service.Host
		}
		st.Edges = append(st.Edges, e)
		st.Add(e)
	}
	out := make([]*ServiceTraffic, 0, len(by))
	for _, st := range by {
		sort.Slice(st.Edges, func(i, j int) bool { return lessKey(st.Edges[i].Key, st.Edges[j].Key) })
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return lessService(out[i].Service, out[j].Service) })
	g.services, g.byService = out, map[string]*ServiceTraffic{}
	for _, st := range out {
		if k := st.Service.Namespace + "/" + st.Service.Name; g.byService[k] == nil {
			g.byService[k] = st
		}
	}
}

// Service returns the traffic into the service namespace/name (of the
// first cluster that has one), or nil.
func (g *Graph) Service(namespace, name string) *ServiceTraffic {
	g.Services()
	return g.byService[namespace+"/"+name]
}

// addAll adds src into dst, allocating dst only when there is something
// to add.
func addAll[K comparable](dst, src map[K]float64) map[K]float64 {
	if len(src) > 0 && dst == nil {
		dst = map[K]float64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

func lessService(a, b Service) bool {
	if a.Cluster != b.Cluster {
		return a.Cluster < b.Cluster
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

func lessWorkload(a, b Workload) bool {
	if a.Cluster != b.Cluster {
		return a.Cluster < b.Cluster
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

func lessKey(a, b Key) bool {
	if a.Service != b.Service {
		return lessService(a.Service, b.Service)
	}
	if a.Source != b.Source {
		return lessWorkload(a.Source, b.Source)
	}
	return lessWorkload(a.Destination, b.Destination)
}

// Duration is a time.Duration that reads and writes as "1m30s" in JSON.
type Duration time.Duration

// MarshalText writes d as Go's duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string or a Prometheus one ("7d").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads Go durations ("90s", "1h30m") and Prometheus ones
// with days and weeks ("7d", "2w", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var mult time.Duration
		switch unit {
		case "w":
			mult = 7 * 24 * time.Hour
		case "d":
			mult = 24 * time.Hour
		default:
			v, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q: %w", s, err)
			}
			total += v
			continue
		}
		var f float64
		if _, err := fmt.Sscanf(num, "%g", &f); err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		total += time.Duration(f * float64(mult))
	}
	return total, nil
}
