package traffic_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/promenv"
	"github.com/meshpilot/meshpilot/synth/traffic"
	"github.com/meshpilot/meshpilot/telemetry"
)

// startPrometheus backfills the mesh's telemetry into a real Prometheus.
func startPrometheus(t *testing.T, m *traffic.Mesh) *promenv.Env {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pr.Close() }) // unblocks the writer if Start skips
	go func() { pw.CloseWithError(m.WriteOpenMetrics(pw)) }()
	return promenv.Start(t, pr, promenv.Options{})
}

// httpRPS is the truth's rate of HTTP requests reaching the services.
func httpRPS(m *traffic.Mesh) float64 {
	var rps float64
	for _, s := range m.Services {
		if s.Protocol == "http" {
			rps += s.RPS
		}
	}
	return rps
}

// TestPrometheus backfills the default mesh and asks Prometheus what a
// telemetry check would: totals, latency quantiles, overflow, outside
// callers.
func TestPrometheus(t *testing.T) {
	m := generate(t, traffic.Options{Seed: 1, Scrape: 5 * time.Minute})
	env := startPrometheus(t, m)
	ctx := context.Background()
	query := func(q string) []promenv.Sample {
		t.Helper()
		out, err := env.Query(ctx, q, m.End)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	window := m.End.Sub(m.Start)
	rng := fmt.Sprintf("[%ds]", int(window.Seconds()))

	total := query(`sum(increase(istio_requests_total{reporter="destination"}` + rng + `))`)
	want := httpRPS(m) * window.Seconds()
	if len(total) != 1 || math.Abs(total[0].Value-want) > 0.02*want {
		t.Errorf("requests in the window = %v, want %.0f ±2%%", total, want)
	}

	truth := map[string]traffic.ServiceTruth{}
	for _, s := range m.Services {
		truth[s.Ref()] = s
	}
	ref := func(s promenv.Sample) string {
		return s.Metric["destination_service_namespace"] + "/" + s.Metric["destination_service_name"]
	}
	p99 := query(`histogram_quantile(0.99, sum by (le, destination_service_namespace, destination_service_name) ` +
		`(increase(istio_request_duration_milliseconds_bucket{reporter="destination"}` + rng + `)))`)
	for _, s := range p99 {
		w := truth[ref(s)].Latency.Quantile(0.99)
		i := sort.SearchFloat64s(telemetry.DefaultBuckets, w)
		lo := 0.0
		if i > 0 {
			lo = telemetry.DefaultBuckets[i-1]
		}
		if s.Value < lo || s.Value > telemetry.DefaultBuckets[i] {
			t.Errorf("%s: p99 %.1fms, true %.1fms is in (%g, %g]", ref(s), s.Value, w, lo, telemetry.DefaultBuckets[i])
		}
	}
	if n := countHTTP(m); len(p99) != n {
		t.Errorf("p99 of %d services, want %d", len(p99), n)
	}

	uo := query(`sum by (destination_service_namespace, destination_service_name) (increase(istio_requests_total{reporter="source",response_flags="UO"}` + rng + `))` +
		` / sum by (destination_service_namespace, destination_service_name) (increase(istio_requests_total{reporter="source"}` + rng + `))`)
	for _, s := range uo {
		if w := truth[ref(s)].OverflowRatio; w == 0 || math.Abs(s.Value-w) > 0.01*w {
			t.Errorf("%s: UO share %.4f, want %.4f", ref(s), s.Value, w)
		}
	}
	outside := query(`sum by (destination_service_namespace, destination_service_name) (increase(istio_requests_total{reporter="destination",source_workload="unknown"}` + rng + `))`)
	for _, s := range outside {
		if truth[ref(s)].Defect != traffic.DefectOutside {
			t.Errorf("%s: %.0f requests from outside the mesh", ref(s), s.Value)
		}
	}
	if len(uo) != 1 || len(outside) != 1 {
		t.Errorf("%d services with UO, %d with outside callers; want 1 of each", len(uo), len(outside))
	}
}

func countHTTP(m *traffic.Mesh) int {
	n := 0
	for _, s := range m.Services {
		if s.Protocol == "http" && s.RPS > 0 {
			n++
		}
	}
	return n
}

// TestBackfill10k measures the telemetry of 10,000 services over an hour
// at a 5m scrape interval: series, samples, bytes, and the time promtool
// takes to backfill it and Prometheus to serve it. It writes tens of GB to
// the temporary folder.
func TestBackfill10k(t *testing.T) {
	if os.Getenv("MESHPILOT_PROM_BIG") != "1" {
		t.Skip("set MESHPILOT_PROM_BIG=1 to run (writes ~20 GB to the temporary folder, takes tens of minutes; use -timeout 2h)")
	}
	began := time.Now()
	m := generate(t, traffic.Options{Services: 10000, Seed: 1, Window: time.Hour, Scrape: 5 * time.Minute})
	series, samples := m.Size()
	t.Logf("generated 10000 services in %s: %d YAML documents (%.1f MB), %d series, %d samples",
		time.Since(began).Round(time.Millisecond), m.Docs, float64(len(m.YAML))/1e6, series, samples)

	path := filepath.Join(t.TempDir(), "metrics.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var n countWriter
	w := bufio.NewWriterSize(io.MultiWriter(f, &n), 4<<20)
	began = time.Now()
	if err := m.WriteOpenMetrics(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %.2f GB of OpenMetrics (%.0f bytes a sample) in %s", float64(n)/1e9, float64(n)/float64(samples),
		time.Since(began).Round(time.Millisecond))

	env := promenv.StartFile(t, path, promenv.Options{Timeout: 2 * time.Hour}) // logs the backfill and start times
	began = time.Now()
	got, err := env.Query(context.Background(), `sum(increase(istio_requests_total{reporter="destination"}[1h]))`, m.End)
	if err != nil {
		t.Fatal(err)
	}
	want := httpRPS(m) * 3600
	t.Logf("total requests query in %s: %v, want %.0f", time.Since(began).Round(time.Millisecond), got, want)
	if len(got) != 1 || math.Abs(got[0].Value-want) > 0.02*want {
		t.Errorf("requests in the window = %v, want %.0f ±2%%", got, want)
	}
}
