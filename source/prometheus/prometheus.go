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
// The requests query must succeed; the latency, TCP and profile queries
// may fail on their own (a timeout on a large histogram), which leaves that
// part of the graph empty and says so in its notices. Prometheus warnings
// (partial responses from a federated or remote-read setup) become
// notices too.
func Read(ctx context.Context, client api.Client, opts Options) (*telemetry.Graph, error) {
	opts.defaults()
	p := newParams(opts.Window, opts.Step, opts.Match)
	start := opts.End.Add(-opts.Window)
	b := telemetry.NewBuilder(start, opts.End, opts.Step)
	r := reader{api: v1.NewAPI(client), b: b, p: p, opts: opts}

	if err := r.instant(ctx, "requests", r.addRequests); err != nil {
		return nil, err
	}
	for _, q := range []struct {
		name string
		add  func(*model.Sample)
	}{{"latency", r.addLatency}, {"tcp", r.addTCP}} {
		if err := r.instant(ctx, q.name, q.add); err != nil {
			b.Noticef("%s query failed, the graph has no %s figures: %v", q.name, q.name, err)
		}
	}
	if err := r.profile(ctx, start); err != nil {
		b.Noticef("profile query failed, checks of errors over time are skipped: %v", err)
	}
	g := b.Graph(opts.Source)
	if len(g.Edges) == 0 {
		g.Notices = append(g.Notices, fmt.Sprintf("no Istio request or TCP metrics in the window %s to %s: is Prometheus scraping the proxies?", start.UTC().Format(time.RFC3339), opts.End.UTC().Format(time.RFC3339)))
	}
	return g, nil
}

type reader struct {
	api  v1.API
	b    *telemetry.Builder
	p    params
	opts Options
}

func (r *reader) instant(ctx context.Context, name string, add func(*model.Sample)) error {
	q, err := render(name, r.p)
	if err != nil {
		return err
	}
	r.b.CountQuery()
	t0 := time.Now()
	v, warnings, err := r.api.Query(ctx, q, r.opts.End)
	r.warn(name, warnings)
	if err != nil {
		return queryError(name, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return fmt.Errorf("%s query: got a %s, want a vector", name, v.Type())
	}
	for _, s := range vec {
		add(s)
	}
	r.opts.Logger.Debug("prometheus query", "name", name, "series", len(vec), "took", time.Since(t0))
	return nil
}

func (r *reader) profile(ctx context.Context, start time.Time) error {
	q, err := render("profile", r.p)
	if err != nil {
		return err
	}
	r.b.CountQuery()
	t0 := time.Now()
	v, warnings, err := r.api.QueryRange(ctx, q, v1.Range{Start: start, End: r.opts.End, Step: r.opts.Step})
	r.warn("profile", warnings)
	if err != nil {
		return queryError("profile", err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return fmt.Errorf("profile query: got a %s, want a matrix", v.Type())
	}
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
	r.opts.Logger.Debug("prometheus query", "name", "profile", "series", len(m), "took", time.Since(t0))
	return nil
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
		Destination: r.workload(m["destination_workload"], m["destination_workload_namespace"]),
	}
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
