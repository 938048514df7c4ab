package prometheus_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/resilience"
	"github.com/meshpilot/meshpilot/internal/promenv"
	"github.com/meshpilot/meshpilot/internal/traffictest"
	"github.com/meshpilot/meshpilot/source/prometheus"
	synth "github.com/meshpilot/meshpilot/synth/traffic"
	"github.com/meshpilot/meshpilot/telemetry"
)

// TestAgainstPrometheus backfills a real Prometheus with the synthetic
// mesh's Istio series, reads the graph back through its queries, and
// checks it, the traffic checks and the recommendations against the
// generator's ground truth:
//   - request counts per service within 2% (increase() extrapolates);
//   - p50/p90/p99/p99.9 within 10% of the true log-normal quantiles,
//     slow services' above 30s included (the histogram's tail);
//   - every planted defect flagged with its code on its object, and no
//     other traffic finding anywhere (no false positives on healthy
//     services);
//   - every recommended timeout within 10% of the formula applied to the
//     true distribution.
func TestAgainstPrometheus(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	m, err := synth.Generate(synth.Options{Services: 80, Seed: 7, End: end, Window: time.Hour, Scrape: time.Minute, SlowEvery: 8})
	if err != nil {
		t.Fatal(err)
	}
	var om bytes.Buffer
	if err := m.WriteOpenMetrics(&om); err != nil {
		t.Fatal(err)
	}
	env := promenv.Start(t, &om, promenv.Options{})
	client, err := prometheus.Config{URL: env.URL}.Client()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	g, err := prometheus.Read(context.Background(), client, prometheus.Options{End: m.End, Window: m.End.Sub(m.Start), Step: 5 * time.Minute, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("graph of %d edges in %d queries, %s; notices: %v", len(g.Edges), g.Queries, time.Since(t0), g.Notices)
	if g.Queries > 12 {
		t.Errorf("%d queries, want at most 12", g.Queries)
	}
	// The slow services' p99 and p99.9 lie above 30s: checkGraph holds
	// only if the histogram's tail was read for them, in a sixth query.
	slow := 0
	for _, s := range m.Services {
		if s.Protocol != "tcp" && s.Latency.Quantile(0.99) > 30000 {
			slow++
		}
	}
	if slow == 0 || g.Queries != 6 {
		t.Errorf("%d slow services, graph in %d queries: want some, and their tail read in a sixth query", slow, g.Queries)
	}

	checkGraph(t, m, g)
	findings := traffictest.Analyze(t, m, g)
	traffictest.CheckFindings(t, m, findings)
	checkRecommendations(t, m, findings)
}

func checkGraph(t testing.TB, m *synth.Mesh, g *telemetry.Graph) {
	t.Helper()
	win := m.End.Sub(m.Start).Seconds()
	for _, s := range m.Services {
		if len(s.Callers) == 0 {
			continue // the top of a call chain: nobody calls it
		}
		st := g.Service(s.Namespace, s.Name)
		if st == nil {
			t.Errorf("%s: no traffic in the graph", s.Ref())
			continue
		}
		if s.Protocol == "tcp" {
			if got, want := st.TCP.ConnectionsOpened, s.RPS*win; math.Abs(got-want) > 0.02*want {
				t.Errorf("%s: %.0f TCP connections, truth %.0f", s.Ref(), got, want)
			}
			continue
		}
		// RPS is what reaches the servers; the callers' UO requests never do.
		got := st.Requests - st.Flags["UO"]
		if want := s.RPS * win; math.Abs(got-want) > 0.02*want {
			t.Errorf("%s: %.0f requests, truth %.0f", s.Ref(), got, want)
		}
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			est, ok := st.Latency.Quantile(q)
			want := s.Latency.Quantile(q)
			if !ok || math.Abs(est-want) > 0.10*want {
				t.Errorf("%s: p%v %.1fms, truth %.1fms (±10%%)", s.Ref(), q*100, est, want)
			}
		}
	}
}

func checkRecommendations(t testing.TB, m *synth.Mesh, fs []analysis.Finding) {
	t.Helper()
	byVS := map[string]analysis.Finding{}
	for _, f := range fs {
		if f.Code == "MP6101" {
			byVS[f.Resource] = f
		}
	}
	checked := 0
	for _, s := range m.Services {
		if s.Protocol != "http" {
			continue
		}
		f, ok := byVS["VirtualService "+s.Ref()]
		if !ok {
			// No recommendation: the configured timeout is within 25% of it.
			continue
		}
		want := 1.5 * s.Latency.Quantile(0.99)
		if want < 100 {
			want = 100
		}
		got, err := time.ParseDuration(fmt.Sprint(f.Fixes[0].Edits[0].Value))
		if err != nil {
			t.Fatalf("%s: timeout %v: %v", s.Ref(), f.Fixes[0].Edits[0].Value, err)
		}
		if max := resilience.Classes["api"].MaxTimeout; time.Duration(want*float64(time.Millisecond)) > max {
			want = float64(max / time.Millisecond)
		}
		if d := math.Abs(float64(got)/float64(time.Millisecond)-want) / want; d > 0.10 {
			t.Errorf("%s: recommended timeout %v, formula on the true p99 gives %.0fms (off by %.1f%%)", s.Ref(), got, want, d*100)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no timeout recommendation to check")
	}
	t.Logf("%d recommended timeouts within 10%% of the formula on the true distribution", checked)
}
