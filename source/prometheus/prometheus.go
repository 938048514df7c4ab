// Package prometheus reads Istio's standard metrics from a Prometheus
// server into a telemetry.Graph, with a constant number of aggregate
// queries whatever the mesh size (see queries.go).
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

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
// of its own. The requests query must succeed; the others may fail on
// their own (a timeout on a large histogram), which leaves that part of
// the graph empty and says so in its notices. Prometheus warnings
// (partial responses from a federated or remote-read setup) become
// notices too.
func Read(ctx context.Context, client api.Client, opts Options) (*telemetry.Graph, error) {
	opts.defaults()
	start := opts.End.Add(-opts.Window)
	b := telemetry.NewBuilder(start, opts.End, opts.Step)
	r := reader{api: v1.NewAPI(client), b: b, opts: opts, start: start}
	qs, err := plan(newParams(opts.Window, opts.Step, opts.Match))
	if err != nil {
		return nil, err
	}
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
	// The answers go into the builder in plan order, so that the graph
	// does not depend on which query finished first.
	failed := map[string]bool{}
	for i, q := range qs {
		a := answers[i]
		b.CountQuery()
		r.warn(q.name, a.warnings)
		if a.err != nil {
			if q.name == "requests" {
				return nil, a.err
			}
			if !failed[q.name] {
				failed[q.name] = true
				b.Noticef("%s query failed, the graph has no %s figures: %v", q.name, q.name, a.err)
			}
			continue
		}
		r.add(q.name, a.value)
	}
	g := b.Graph(opts.Source)
	if len(g.Edges) == 0 {
		g.Notices = append(g.Notices, fmt.Sprintf("no Istio request or TCP metrics in the window %s to %s: is Prometheus scraping the proxies?", start.UTC().Format(time.RFC3339), opts.End.UTC().Format(time.RFC3339)))
	}
	return g, nil
}

type reader struct {
	api   v1.API
	b     *telemetry.Builder
	opts  Options
	start time.Time
}

// answer is what Prometheus said to one query.
type answer struct {
	value    model.Value
	warnings v1.Warnings
	err      error
}

func (r *reader) ask(ctx context.Context, q query) answer {
	t0 := time.Now()
	var a answer
	if q.rangeQuery {
		a.value, a.warnings, a.err = r.api.QueryRange(ctx, q.text, v1.Range{Start: r.start, End: r.opts.End, Step: r.opts.Step})
	} else {
		a.value, a.warnings, a.err = r.api.Query(ctx, q.text, r.opts.End)
	}
	if a.err != nil {
		a.err = queryError(q.name, a.err)
	}
	r.opts.Logger.Debug("prometheus query", "name", q.name, "took", time.Since(t0), "err", a.err)
	return a
}

// add files one answer into the builder.
func (r *reader) add(name string, v model.Value) {
	switch m := v.(type) {
	case model.Vector:
		add := map[string]func(*model.Sample){"requests": r.addRequests, "latency": r.addLatency, "tcp": r.addTCP}[name]
		for _, s := range m {
			add(s)
		}
	case model.Matrix:
		r.addProfile(m)
	default:
		r.b.Noticef("%s query: Prometheus answered with a %s", name, v.Type())
	}
}

func (r *reader) addProfile(m model.Matrix) {
	for _, s := range m {
		svc := r.service(s.Metric)
		if !svc.Known() {
			continue
		}
		p := r.b.Profile(svc)
		dst := p.Totals
		if s.Metric["series"] == "errors" {
			dst = p.Errors
		}
		for _, pt := range s.Values {
			if i := r.b.ProfileIndex(pt.Timestamp.Time()); i >= 0 && i < len(dst) && !math.IsNaN(float64(pt.Value)) {
				dst[i] = float64(pt.Value)
			}
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

func (r *reader) key(m model.Metric) telemetry.Key {
	return telemetry.Key{
		Source:      r.workload(m["source_workload"], m["source_workload_namespace"]),
		Service:     r.service(m),
		Destination: r.workload(m["destination_workload"], destNamespace(m)),
	}
}

// destNamespace is the destination workload's namespace; queries that
// leave the label out (to keep answers small) mean the service's, where a
// Service's pods run.
func destNamespace(m model.Metric) model.LabelValue {
	if ns, ok := m["destination_workload_namespace"]; ok {
		return ns
	}
	return m["destination_service_namespace"]
}

func (r *reader) workload(name, ns model.LabelValue) telemetry.Workload {
	if name == "" || name == telemetry.Unknown {
		return telemetry.Workload{Name: telemetry.Unknown}
	}
	return telemetry.Workload{Cluster: r.opts.Cluster, Namespace: string(ns), Name: string(name)}
}

func (r *reader) service(m model.Metric) telemetry.Service {
	name, ns, host := string(m["destination_service_name"]), string(m["destination_service_namespace"]), string(m["destination_service"])
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

func (r *reader) addRequests(s *model.Sample) {
	m := s.Metric
	code, _ := strconv.Atoi(string(m["response_code"]))
	r.b.AddRequests(r.key(m), string(m["reporter"]), string(m["request_protocol"]), code, string(m["response_flags"]), string(m["connection_security_policy"]), count(s.Value))
}

func (r *reader) addLatency(s *model.Sample) {
	le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
	if err != nil {
		return
	}
	// Reporters are reconciled by the query; the figures are filed under
	// a reporter of their own, which Builder uses for latency only.
	e := r.b.Edge(r.key(s.Metric), "")
	e.Latency.Set(le, float64(s.Value))
}

func (r *reader) addTCP(s *model.Sample) {
	m := s.Metric
	e := r.b.Edge(r.key(m), string(m["reporter"]))
	v := count(s.Value)
	switch m["metric"] {
	case "sent":
		e.TCP.BytesSent += v
	case "received":
		e.TCP.BytesReceived += v
	case "opened":
		e.TCP.ConnectionsOpened += v
		r.b.AddSecurity(e.Key, e.Reporter, string(m["connection_security_policy"]), v)
	case "closed":
		e.TCP.ConnectionsClosed += v
	}
}

// count reads a sample as a count: increase() extrapolates to the window's
// edges, so counts need not be whole; NaN or negative (a counter reset
// Prometheus could not correct) count as nothing.
func count(v model.SampleValue) float64 {
	f := float64(v)
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return f
}
