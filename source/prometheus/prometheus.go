// Package prometheus reads Istio's standard metrics from a Prometheus
// server into a telemetry.Graph, with a constant number of aggregate
// queries whatever the mesh size (see queries.go).
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Options say what to read.
type Options struct {
	// End of the window; zero means now.
	End time.Time
	// Window is how far back to look (default 24h).
	Window time.Duration
	// Step is the resolution of the per-service profiles (default: the
	// window divided by 96, at least one minute).
	Step time.Duration
	// Match adds label matchers to every selector (`cluster="east"`), for
	// a Prometheus that holds several meshes.
	Match string
	// Cluster names the cluster of every node (a Rancher cluster's name).
	Cluster string
	// Source describes the server in the graph ("prometheus <url>").
	Source string
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.Step <= 0 {
		o.Step = (o.Window / 96).Truncate(time.Minute)
		if o.Step < time.Minute {
			o.Step = time.Minute
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// ErrUnavailable wraps errors that mean Prometheus could not be asked at
// all (refused, unreachable, timed out, forbidden): analysis goes on
// without telemetry.
var ErrUnavailable = errors.New("prometheus unavailable")

// Read builds the traffic graph of the window from a Prometheus API.
//
// Its queries (see plan) run at once: Prometheus evaluates each on a core
// of its own. A sixth, for the latency histogram's tail above 30 s, follows
// when some destination services have requests that long (see tailQuery).
// The requests query must succeed; the others may fail on
// their own (a timeout on a large histogram), which leaves that part of
// the graph empty and says so in its notices. Prometheus warnings
// (partial responses from a federated or remote-read setup) become
// notices too.
func Read(ctx context.Context, client api.Client, opts Options) (*telemetry.Graph, error) {
	opts.defaults()
	start := opts.End.Add(-opts.Window)
	b := telemetry.NewBuilder(start, opts.End, opts.Step)
	r := reader{client: client, b: b, opts: opts, start: start, tails: map[telemetry.Key]*tail{}}
	p := newParams(opts.Window, opts.Step, opts.Match)
	qs, err := plan(p)
	if err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	if err := r.run(ctx, qs, failed); err != nil {
		return nil, err
	}
	// The histogram's tail, once the shards say who has one. A failed
	// shard leaves the histograms partial, as its notice says.
	if !failed["latency"] {
		if names, namespaces := r.tailServices(); len(names) > 0 {
			q, err := tailQuery(p, names, namespaces)
			if err != nil {
				return nil, err
			}
			if err := r.run(ctx, []query{q}, failed); err != nil {
				return nil, err
			}
		}
	}
	g := b.Graph(opts.Source)
	if len(g.Edges) == 0 {
		g.Notices = append(g.Notices, fmt.Sprintf("no Istio request or TCP metrics in the window %s to %s: is Prometheus scraping the proxies?", start.UTC().Format(time.RFC3339), opts.End.UTC().Format(time.RFC3339)))
	}
	return g, nil
}

type reader struct {
	client api.Client
	b      *telemetry.Builder
	opts   Options
	start  time.Time
	// tails follow each edge's histogram at the edges of its tail.
	tails map[telemetry.Key]*tail
}

// run sends queries at once (Prometheus evaluates each on a core of its
// own) and files their answers into the builder in the order given, so
// that the graph does not depend on which finished first. A failed
// requests query fails the graph; another failure is a notice (once per
// query name, which failed records).
func (r *reader) run(ctx context.Context, qs []query, failed map[string]bool) error {
	answers := make([]answer, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = r.ask(ctx, q)
		}()
	}
	wg.Wait()
	for i, q := range qs {
		a := answers[i]
		r.b.CountQuery()
		r.warn(q.name, a.warnings)
		if a.err != nil {
			if q.name == "requests" {
				return a.err
			}
			if !failed[q.name] {
				failed[q.name] = true
				lost := q.name + " figures"
				if q.name == "latency-tail" {
					lost = "latency above 30s (quantiles there stop at 30s)"
				}
				r.b.Noticef("%s query failed, the graph has no %s: %v", q.name, lost, a.err)
			}
			continue
		}
		r.add(q.name, a.result)
	}
	return nil
}

// tail is what the shards said of an edge's histogram around its tail.
type tail struct {
	// name and namespace are the destination service's label values.
	name, namespace string
	// at30s and total are the cumulative counts at tailFrom and +Inf.
	at30s, total float64
	has30s       bool
}

// known says the tail holds nothing: every request is at or below
// tailFrom. An edge without that bound (custom bounds) is not known.
func (t *tail) known() bool {
	return t.has30s && t.total-t.at30s <= 1e-9*t.total
}

// tailServices are the destination services with an edge whose tail is
// not known, sorted: names and namespaces, each once.
func (r *reader) tailServices() (names, namespaces []string) {
	n, ns := map[string]bool{}, map[string]bool{}
	for _, t := range r.tails {
		if !t.known() {
			n[t.name], ns[t.namespace] = true, true
		}
	}
	return slices.Sorted(maps.Keys(n)), slices.Sorted(maps.Keys(ns))
}

// answer is what Prometheus said to one query.
type answer struct {
	result
	err error
}

func (r *reader) ask(ctx context.Context, q query) answer {
	t0 := time.Now()
	var a answer
	if q.rangeQuery {
		a.result, a.err = do(ctx, r.client, "/api/v1/query_range", rangeArgs(q.text, r.start, r.opts.End, r.opts.Step))
	} else {
		a.result, a.err = do(ctx, r.client, "/api/v1/query", queryArgs(q.text, r.opts.End))
	}
	if a.err != nil {
		a.err = queryError(q.name, a.err)
	}
	r.opts.Logger.Debug("prometheus query", "name", q.name, "took", time.Since(t0), "series", len(a.series), "err", a.err)
	return a
}

// add files one answer into the builder.
func (r *reader) add(name string, res result) {
	want := "vector"
	if name == "profile" {
		want = "matrix"
	}
	if res.kind != want {
		r.b.Noticef("%s query: Prometheus answered with a %s, not a %s", name, res.kind, want)
		return
	}
	add := map[string]func(*series){"requests": r.addRequests, "latency": r.addLatency, "latency-tail": r.addLatency, "tcp": r.addTCP, "profile": r.addProfile}[name]
	for i := range res.series {
		add(&res.series[i])
	}
}

func (r *reader) addProfile(s *series) {
	svc := r.service(s.labels)
	if !svc.Known() {
		return
	}
	p := r.b.Profile(svc)
	dst := p.Totals
	if s.labels.get("series") == "errors" {
		dst = p.Errors
	}
	for _, pt := range s.values {
		if i := r.b.ProfileIndex(pt.time()); i >= 0 && i < len(dst) && !math.IsNaN(pt.v) {
			dst[i] = pt.v
		}
	}
}

func (r *reader) warn(name string, warnings v1.Warnings) {
	for _, w := range warnings {
		r.b.Noticef("prometheus warned on the %s query (the data may be partial): %s", name, w)
	}
}

// queryError marks errors that mean Prometheus could not be asked (down,
// unreachable, refused us, or failing) with ErrUnavailable, as opposed to a
// query it ran and rejected.
func queryError(name string, err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) && (apiErr.Type == v1.ErrBadData || apiErr.Type == v1.ErrExec || apiErr.Type == v1.ErrBadResponse) {
		return fmt.Errorf("%s query: %w", name, err)
	}
	return fmt.Errorf("%s query: %w: %w", name, ErrUnavailable, err)
}

func (r *reader) key(m labels) telemetry.Key {
	return telemetry.Key{
		Source:      r.workload(m.get("source_workload"), m.get("source_workload_namespace")),
		Service:     r.service(m),
		Destination: r.workload(m.get("destination_workload"), destNamespace(m)),
	}
}

// destNamespace is the destination workload's namespace; queries that
// leave the label out (to keep answers small) mean the service's, where a
// Service's pods run.
func destNamespace(m labels) string {
	if ns, ok := m.lookup("destination_workload_namespace"); ok {
		return ns
	}
	return m.get("destination_service_namespace")
}

func (r *reader) workload(name, ns string) telemetry.Workload {
	if name == "" || name == telemetry.Unknown {
		return telemetry.Workload{Name: telemetry.Unknown}
	}
	return telemetry.Workload{Cluster: r.opts.Cluster, Namespace: ns, Name: name}
}

func (r *reader) service(m labels) telemetry.Service {
	name, ns, host := m.get("destination_service_name"), m.get("destination_service_namespace"), m.get("destination_service")
	if ns == telemetry.Unknown {
		ns = ""
	}
	if name == "" || name == telemetry.Unknown {
		// A destination Istio could not name (passthrough traffic): the
		// host is all there is.
		name = host
	}
	if name == "" {
		name = telemetry.Unknown
	}
	return telemetry.Service{Cluster: r.opts.Cluster, Namespace: ns, Name: name, Host: host}
}

func (r *reader) addRequests(s *series) {
	m := s.labels
	code, _ := strconv.Atoi(m.get("response_code"))
	r.b.AddRequests(r.key(m), m.get("reporter"), m.get("request_protocol"), code, m.get("response_flags"), m.get("connection_security_policy"), count(s.value.v))
}

func (r *reader) addLatency(s *series) {
	le, err := strconv.ParseFloat(s.labels.get("le"), 64)
	if err != nil {
		return
	}
	// Reporters are reconciled by the query; the figures are filed under
	// a reporter of their own, which Builder uses for latency only.
	k := r.key(s.labels)
	e := r.b.Edge(k, "")
	e.Latency.Set(le, s.value.v)
	t := r.tails[k]
	if t == nil {
		t = &tail{name: s.labels.get("destination_service_name"), namespace: s.labels.get("destination_service_namespace")}
		r.tails[k] = t
	}
	switch {
	case le == tailFrom:
		t.at30s += s.value.v
		t.has30s = true
	case math.IsInf(le, 1):
		t.total += s.value.v
	}
}

func (r *reader) addTCP(s *series) {
	m := s.labels
	e := r.b.Edge(r.key(m), m.get("reporter"))
	v := count(s.value.v)
	switch m.get("metric") {
	case "sent":
		e.TCP.BytesSent += v
	case "received":
		e.TCP.BytesReceived += v
	case "opened":
		e.TCP.ConnectionsOpened += v
		r.b.AddSecurity(e.Key, e.Reporter, m.get("connection_security_policy"), v)
	case "closed":
		e.TCP.ConnectionsClosed += v
	}
}

// count reads a sample as a count: increase() extrapolates to the window's
// edges, so counts need not be whole; NaN or negative (a counter reset
// Prometheus could not correct) count as nothing.
func count(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return f
}
