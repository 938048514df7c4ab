package traffic_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth/traffic"
)

// end is a fixed end of the telemetry, so that outputs are reproducible.
var end = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func generate(t testing.TB, o traffic.Options) *traffic.Mesh {
	t.Helper()
	if o.End.IsZero() {
		o.End = end
	}
	m, err := traffic.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func digest(t testing.TB, m *traffic.Mesh) [32]byte {
	h := sha256.New()
	if err := m.WriteOpenMetrics(h); err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestDeterministic(t *testing.T) {
	o := traffic.Options{Services: 60, Seed: 7, Scrape: 5 * time.Minute}
	a, b := generate(t, o), generate(t, o)
	if !bytes.Equal(a.YAML, b.YAML) {
		t.Error("same seed, different YAML")
	}
	if digest(t, a) != digest(t, b) {
		t.Error("same seed, different OpenMetrics")
	}
	o.Seed = 8
	c := generate(t, o)
	if bytes.Equal(a.YAML, c.YAML) || digest(t, a) == digest(t, c) {
		t.Error("another seed, same mesh")
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    traffic.Options
		want string
	}{
		{"scrape not whole seconds", traffic.Options{Scrape: 1500 * time.Millisecond}, "whole number of seconds"},
		{"window not a multiple", traffic.Options{Window: 10 * time.Minute, Scrape: 3 * time.Minute}, "multiple of the scrape interval"},
		{"negative services", traffic.Options{Services: -1}, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := traffic.Generate(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestYAMLLoads loads every generated document through source/files,
// validating the Istio objects against their CRDs.
func TestYAMLLoads(t *testing.T) {
	m := generate(t, traffic.Options{Services: 230, Seed: 3})
	schemas, err := crd.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{Schemas: schemas})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Errorf("problem: %v", p)
	}
	for _, o := range res.Objects {
		for _, e := range o.SchemaErrors {
			t.Errorf("%s: %+v", o.Ref(), e)
		}
	}
	if res.Documents != m.Docs {
		t.Errorf("%d documents, want %d", res.Documents, m.Docs)
	}
	if len(res.Objects) != m.Docs {
		t.Errorf("%d objects, want %d (unmodeled: %v)", len(res.Objects), m.Docs, res.Unmodeled)
	}
}

// TestTruth checks one finding per planted defect, every kind planted in
// the default mesh, and none without defects.
func TestTruth(t *testing.T) {
	m := generate(t, traffic.Options{Seed: 1})
	kinds := map[traffic.Defect]int{}
	for _, s := range m.Services {
		if s.Defect != "" {
			kinds[s.Defect]++
			if s.Finding == "" {
				t.Errorf("%s: defect %s without a finding", s.Ref(), s.Defect)
			}
		}
	}
	if len(m.Truth) != 40/5 {
		t.Errorf("%d findings, want %d: %v", len(m.Truth), 40/5, m.Truth)
	}
	for _, d := range traffic.Defects {
		if kinds[d] != 1 {
			t.Errorf("defect %s planted %d times, want 1", d, kinds[d])
		}
	}
	want := map[traffic.Defect]string{
		traffic.DefectTimeout: "MP6001 VirtualService ", traffic.DefectFailures: "MP6002 VirtualService ",
		traffic.DefectRetryChain: "MP6003 VirtualService ", traffic.DefectOverflow: "MP6004 DestinationRule ",
		traffic.DefectSpikes: "MP6005 DestinationRule ", traffic.DefectPlaintext: "MP6006 PeerAuthentication ",
		traffic.DefectUnusedSubset: "MP6007 DestinationRule ", traffic.DefectOutside: "MP6008 Service ",
	}
	for _, s := range m.Services {
		if s.Defect == "" {
			continue
		}
		w := want[s.Defect] + s.Ref()
		if s.Defect == traffic.DefectPlaintext {
			w += "-permissive"
		}
		if s.Finding != w {
			t.Errorf("%s: finding %q, want %q", s.Ref(), s.Finding, w)
		}
	}

	big := generate(t, traffic.Options{Services: 1000, Seed: 2})
	planted := 0
	for _, s := range big.Services {
		if s.Defect != "" {
			planted++
		}
	}
	if planted != 200 || len(big.Truth) != planted {
		t.Errorf("1000 services: %d planted, %d findings; want 200 of each", planted, len(big.Truth))
	}
	if none := generate(t, traffic.Options{Services: 100, DefectEvery: traffic.NoDefects}); len(none.Truth) != 0 {
		t.Errorf("NoDefects: %d findings", len(none.Truth))
	}
}

func TestLogNormalQuantile(t *testing.T) {
	l := traffic.LogNormal{Mu: math.Log(20), Sigma: 0.5}
	for _, tc := range []struct{ q, z float64 }{
		{0.5, 0}, {0.9, 1.2815515655446004}, {0.99, 2.3263478740408408}, {0.999, 3.090232306167813},
	} {
		want := math.Exp(l.Mu + l.Sigma*tc.z)
		if got := l.Quantile(tc.q); math.Abs(got-want) > 1e-9*want {
			t.Errorf("Quantile(%g) = %g, want %g", tc.q, got, want)
		}
		if got := l.CDF(want); math.Abs(got-tc.q) > 1e-12 {
			t.Errorf("CDF(%g) = %g, want %g", want, got, tc.q)
		}
	}
}

// TestHealthyServices checks that services without a defect give none of
// the planted defects' signals.
func TestHealthyServices(t *testing.T) {
	m := generate(t, traffic.Options{Services: 500, Seed: 4})
	for _, s := range m.Services {
		if s.Defect != "" || s.Role == traffic.RoleChain {
			continue
		}
		if s.Protocol == "tcp" {
			if s.Attempts != 0 || s.Timeout != 0 {
				t.Errorf("%s: TCP with retries or timeout", s.Ref())
			}
			continue
		}
		p999 := time.Duration(s.Latency.Quantile(0.999) * float64(time.Millisecond))
		if s.Timeout < 2*p999 || s.PerTryTimeout < 2*p999 {
			t.Errorf("%s: timeout %s, per try %s; true p99.9 %s", s.Ref(), s.Timeout, s.PerTryTimeout, p999)
		}
		if time.Duration(s.Attempts+1)*s.PerTryTimeout > s.Timeout {
			t.Errorf("%s: %d tries of %s do not fit the timeout %s", s.Ref(), s.Attempts+1, s.PerTryTimeout, s.Timeout)
		}
		if s.ErrorRatio > 0.005 || len(s.Bursts) > 0 || s.OverflowRatio > 0 || !s.MTLS || s.PlaintextRatio > 0 {
			t.Errorf("%s: unhealthy truth %+v", s.Ref(), s)
		}
		if (len(s.Workloads) == 2) != (s.V2Ratio > 0) {
			t.Errorf("%s: workloads %v, v2 ratio %g", s.Ref(), s.Workloads, s.V2Ratio)
		}
		for _, c := range s.Callers {
			if c == traffic.Outside || (c == traffic.IngressGateway) != (s.Role == traffic.RoleEntry) {
				t.Errorf("%s (%s): caller %s", s.Ref(), s.Role, c)
			}
		}
	}
}

// TestRetryAmplification multiplies the tries along every call path: no
// path exceeds 10 tries but those starting at a retry chain's worker.
func TestRetryAmplification(t *testing.T) {
	m := generate(t, traffic.Options{Services: 2000, Seed: 5})
	by := map[string]traffic.ServiceTruth{}
	for _, s := range m.Services {
		by[s.Ref()] = s
	}
	tries := func(ref string) int { return by[ref].Attempts + 1 }
	// worst[ref] is the largest product of tries over paths starting at a
	// call into ref.
	worst := map[string]int{}
	var walk func(ref string) int
	walk = func(ref string) int {
		if w, ok := worst[ref]; ok {
			return w
		}
		best := 1
		for _, c := range by[ref].Calls {
			best = max(best, walk(c))
		}
		worst[ref] = tries(ref) * best
		return worst[ref]
	}
	chains := 0
	for _, s := range m.Services {
		// Paths start at a service's own calls, or at the gateway's or an
		// outside caller's call into it.
		from := 1
		for _, c := range s.Calls {
			from = max(from, walk(c))
		}
		into := walk(s.Ref())
		inChain := s.Role == traffic.RoleWorker || s.Role == traffic.RoleChain
		switch {
		case s.Role == traffic.RoleWorker:
			chains++
			if from != 64 {
				t.Errorf("%s: chain multiplies %d tries, want 64", s.Ref(), from)
			}
		case !inChain && (from > 10 || into > 10):
			t.Errorf("%s (%s): a path multiplies %d tries", s.Ref(), s.Role, max(from, into))
		}
		if s.Defect == traffic.DefectRetryChain {
			if len(s.Chain) != 4 || s.Chain[1] != s.Ref() || len(s.Callers) != 1 || s.Callers[0] != s.Chain[0] {
				t.Errorf("%s: chain %v, callers %v", s.Ref(), s.Chain, s.Callers)
			}
		}
	}
	if chains == 0 {
		t.Error("no retry chain planted")
	}
}

// TestShapes generates unusual shapes: every planted service gets a
// defect that fits it, and the telemetry stays well-formed.
func TestShapes(t *testing.T) {
	for _, o := range []traffic.Options{
		{Services: 1},
		{Services: 7, PerNamespace: 1, DefectEvery: 1},
		{Services: 9, PerNamespace: 2, DefectEvery: 2},
		{Services: 13, PerNamespace: 4, DefectEvery: 3, Window: 10 * time.Minute},
		{Services: 30, PerNamespace: 30, DefectEvery: 1, Window: 5 * time.Minute, Scrape: 5 * time.Minute},
	} {
		t.Run(fmt.Sprintf("%d/%d/%d/%s", o.Services, o.PerNamespace, o.DefectEvery, o.Window), func(t *testing.T) {
			m := generate(t, o)
			planted := 0
			for _, s := range m.Services {
				if s.Defect != "" {
					planted++
				}
				if s.Defect == traffic.DefectSpikes && m.End.Sub(m.Start) < 30*time.Minute {
					t.Errorf("%s: error spikes in a window of %s", s.Ref(), m.End.Sub(m.Start))
				}
			}
			if want := o.Services / max(o.DefectEvery, 1); o.DefectEvery > 0 && planted != want {
				t.Errorf("%d planted, want %d", planted, want)
			}
			if len(m.Truth) != planted {
				t.Errorf("%d findings for %d planted defects", len(m.Truth), planted)
			}
			points := int(m.End.Sub(m.Start)/m.Scrape) + 1
			var b bytes.Buffer
			if err := m.WriteOpenMetrics(&b); err != nil {
				t.Fatal(err)
			}
			parseOpenMetrics(t, &b, points)
		})
	}
}
