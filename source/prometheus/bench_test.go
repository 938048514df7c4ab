package prometheus_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/promenv"
	"github.com/meshpilot/meshpilot/internal/traffictest"
	"github.com/meshpilot/meshpilot/source/prometheus"
	synth "github.com/meshpilot/meshpilot/synth/traffic"
)

// BenchmarkGraph10k builds the traffic graph of a 10,000-service mesh from
// a real Prometheus holding its synthetic Istio series: one hour at a
// 5-minute scrape, 2.08 million series, 27 million samples. The server is
// the first prometheus on PATH (Debian's 2.42, or 3.5 LTS from
// hack/prometheus build-current with .cache/prometheus/v3.5.1 first).
// Writing and backfilling them takes about 8 minutes and 23 GB of disk the
// first time, so the TSDB is kept in .cache/prombench/ for later runs; the
// benchmark runs only with MESHPILOT_PROM_BIG=1 and says so otherwise.
//
//	MESHPILOT_PROM_BIG=1 go test -run XXX -bench Graph10k -benchtime 3x -timeout 2h ./source/prometheus/
//
// It reports queries per graph, and the Go heap in use at its peak while
// reading; after timing it checks the traffic findings against the planted
// defects.
func BenchmarkGraph10k(b *testing.B) {
	if os.Getenv("MESHPILOT_PROM_BIG") == "" {
		b.Skip("SKIPPED: set MESHPILOT_PROM_BIG=1 (needs ~25 GB of disk and ~8 minutes the first time)")
	}
	end := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	if os.Getenv("MESHPILOT_PROM_BIG_ONE_BLOCK") != "" {
		// The window inside one of the TSDB's 2h blocks: ending at 12:00
		// puts the last sample in the next block, and Prometheus looks
		// every series up in both.
		end = end.Add(-10 * time.Minute)
	}
	opts := synth.Options{Services: 10000, PerNamespace: 50, Seed: 10000, End: end, Window: time.Hour, Scrape: 5 * time.Minute}
	m, err := synth.Generate(opts)
	if err != nil {
		b.Fatal(err)
	}
	srv := cachedPrometheus(b, m, opts)
	client, err := prometheus.Config{URL: srv.URL}.Client()
	if err != nil {
		b.Fatal(err)
	}
	read := func() (int, time.Duration, uint64) {
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		t0 := time.Now()
		var log strings.Builder
		logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		g, err := prometheus.Read(context.Background(), client, prometheus.Options{End: m.End, Window: m.End.Sub(m.Start), Step: 5 * time.Minute, Logger: logger})
		took := time.Since(t0)
		b.Logf("per query:\n%s", log.String())
		close(done)
		if err != nil {
			b.Fatal(err)
		}
		if len(g.Edges) == 0 {
			b.Fatal("empty graph")
		}
		return g.Queries, took, peak.Load()
	}
	b.ResetTimer()
	var queries int
	var peak uint64
	for i := 0; i < b.N; i++ {
		q, took, p := read()
		queries, peak = q, max(peak, p)
		b.Logf("graph in %d queries, %s, peak heap %d MiB", q, took.Round(time.Millisecond), p>>20)
	}
	b.StopTimer()
	b.ReportMetric(float64(queries), "queries/graph")
	b.ReportMetric(float64(peak>>20), "peak-heap-MiB")

	g, err := prometheus.Read(context.Background(), client, prometheus.Options{End: m.End, Window: m.End.Sub(m.Start), Step: 5 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	findings := traffictest.Analyze(b, m, g)
	b.Logf("loaded and analyzed the mesh with its traffic in %s", time.Since(t0).Round(time.Millisecond))
	checkGraph(b, m, g)
	traffictest.CheckFindings(b, m, findings)
}

// cachedPrometheus serves the mesh's series from a TSDB kept between runs.
func cachedPrometheus(b *testing.B, m *synth.Mesh, o synth.Options) *promenv.Server {
	root, err := filepath.Abs(filepath.Join("..", "..", ".cache", "prombench"))
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(root, fmt.Sprintf("s%d-p%d-seed%d-%d-w%s-s%s", o.Services, o.PerNamespace, o.Seed, o.End.Unix(), o.Window, o.Scrape), "tsdb")
	prom, promtool, err := promenv.Binaries()
	if err != nil {
		b.Skipf("SKIPPED: %v (run hack/prometheus install)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		om := filepath.Join(filepath.Dir(dir), "metrics.om")
		t0 := time.Now()
		f, err := os.Create(om)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if err := m.WriteOpenMetrics(w); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.Logf("wrote OpenMetrics in %s", time.Since(t0).Round(time.Second))
		t0 = time.Now()
		if err := promenv.Backfill(context.Background(), promtool, om, dir, promenv.BackfillOptions{}); err != nil {
			b.Fatal(err)
		}
		b.Logf("backfilled in %s", time.Since(t0).Round(time.Second))
		_ = os.Remove(om)
		if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := promenv.Serve(context.Background(), prom, dir, promenv.ServeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	series, samples := m.Size()
	b.Logf("prometheus %s over %d series, %d samples (%d planted defects: %s)", srv.URL, series, samples, len(m.Truth), strings.Join(firstN(m.Truth, 3), "; "))
	return srv
}

func firstN(s []string, n int) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
