package accesslog_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/traffictest"
	"github.com/meshpilot/meshpilot/source/accesslog"
	synth "github.com/meshpilot/meshpilot/synth/traffic"
	"github.com/meshpilot/meshpilot/telemetry"
)

// TestAgainstTruth writes the synthetic mesh's requests as the Envoy
// access logs of its proxies, reads them back, and checks the graph and the
// traffic checks against the generator's ground truth, as
// source/prometheus's TestAgainstPrometheus does for the Prometheus path:
//   - requests (TCP: connections) per service within 2% of the logged
//     share of the truth (sampling rounds each count at random);
//   - p99 within 10% of the true log-normal quantile;
//   - every planted defect flagged with its code on its object, and no
//     other traffic finding anywhere.
func TestAgainstTruth(t *testing.T) {
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	m, err := synth.Generate(synth.Options{Services: 40, Seed: 11, End: end})
	if err != nil {
		t.Fatal(err)
	}
	opts := synth.AccessLogOptions{}
	t0 := time.Now()
	logs, err := m.WriteAccessLogs(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var lines int
	var size int64
	var inputs []accesslog.Input
	for _, f := range logs {
		lines += f.Lines
		size += f.Bytes
		in, err := accesslog.ParseInput(f.Arg())
		if err != nil || in.Workload.String() != f.Workload {
			t.Fatalf("%s: input %+v, %v", f.Arg(), in, err)
		}
		inputs = append(inputs, in)
	}
	t.Logf("wrote %d files, %d lines, %.1f MB in %s", len(logs), lines, float64(size)/1e6, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	g, err := accesslog.Read(context.Background(), inputs, accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read a graph of %d edges in %s", len(g.Edges), time.Since(t0).Round(time.Millisecond))
	for _, n := range g.Notices {
		t.Errorf("notice: %s", n)
	}

	checkGraph(t, m, g, opts)
	traffictest.CheckFindings(t, m, traffictest.Analyze(t, m, g))
}

func checkGraph(t testing.TB, m *synth.Mesh, g *telemetry.Graph, opts synth.AccessLogOptions) {
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
		want := m.LogShare(s, opts) * s.RPS * win
		if s.Protocol == "tcp" {
			if got := st.TCP.ConnectionsOpened; math.Abs(got-want) > 0.02*want {
				t.Errorf("%s: %.0f TCP connections, truth %.0f", s.Ref(), got, want)
			}
			continue
		}
		// RPS is what reaches the servers; the callers' UO requests never do.
		if got := st.Requests - st.Flags["UO"]; math.Abs(got-want) > 0.02*want {
			t.Errorf("%s: %.0f requests, truth %.0f", s.Ref(), got, want)
		}
		// Envoy logs whole milliseconds; the reader takes each at the
		// middle of its millisecond, so no extra tolerance is needed.
		est, ok := st.Latency.Quantile(0.99)
		truth := s.Latency.Quantile(0.99)
		if !ok || math.Abs(est-truth) > 0.10*truth {
			t.Errorf("%s: p99 %.1fms, truth %.1fms (±10%%)", s.Ref(), est, truth)
		}
	}
}
