package traffic

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/resilience"
)

func TestAnalyzers(t *testing.T) {
	cases := []struct {
		dir string
		a   *analysis.Analyzer
	}{
		{"timeout", TimeoutBelowLatency},
		{"deterministic", RetriesOnDeterministicFailures},
		{"amplification", RetryAmplification},
		{"pool", PoolOverflow},
		{"spikes", ErrorSpikes},
		{"plaintext", PlaintextIntoStrict},
		{"subsets", NoTrafficToSubset},
		{"outside", TrafficFromOutsideMesh},
		{"recommend", Recommend},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", c.dir), c.a)
		})
	}
}

func TestFormulas(t *testing.T) {
	api, batch := resilience.Classes["api"], resilience.Classes["batch"]
	timeouts := []struct {
		q    float64
		c    resilience.Class
		want time.Duration
	}{
		{320, api, 480 * time.Millisecond},
		{1275, api, 2 * time.Second},                 // 1912.5 rounds up to 2000
		{20, api, 100 * time.Millisecond},            // floor
		{90000, api, 60 * time.Second},               // the class's maximum
		{34000, batch, 51 * time.Second},             // 51000
		{87.3 / 1.5, api, 100 * time.Millisecond},    // floor again
		{2222, api, 3400 * time.Millisecond},         // 3333 → 3400
		{100000 / 1.5, batch, 100 * time.Second},     // 100000
		{4000000, batch, time.Hour},                  // cap
		{0.001, api, 100 * time.Millisecond},         // tiny
		{1000.0 / 1.5, api, 1000 * time.Millisecond}, // exact
	}
	for _, tt := range timeouts {
		if got := recommendedTimeout(tt.q, tt.c); got != tt.want {
			t.Errorf("recommendedTimeout(%v, %s) = %v, want %v", tt.q, tt.c.Name, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want float64 }{{1275, 1300}, {87.3, 88}, {480, 480}, {384, 390}, {9.01, 9.1}, {100, 100}} {
		if got := roundUp2(tt.in); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("roundUp2(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		timeout  time.Duration
		p90      float64
		others   int
		attempts int
		perTry   time.Duration
	}{
		{3 * time.Second, 500, 1, 2, time.Second},                    // 3s/3 = 1s ≥ 600ms
		{3 * time.Second, 500, 4, 1, 1500 * time.Millisecond},        // 4 × 3 = 12 > 10, 4 × 2 = 8
		{3 * time.Second, 500, 6, 0, 0},                              // 6 × 2 = 12 > 10
		{1700 * time.Millisecond, 664, 1, 1, 850 * time.Millisecond}, // 567ms < 797ms, 850ms fits
		{130 * time.Millisecond, 48.7, 1, 1, 65 * time.Millisecond},  // the demo's reviews
		{480 * time.Millisecond, 190, 1, 1, 240 * time.Millisecond},  // 240 ≥ 228
		{480 * time.Millisecond, 250, 1, 0, 0},                       // 240 < 300: no room
		{1000 * time.Millisecond, 100, 1, 2, 330 * time.Millisecond}, // 333 rounds down
	} {
		a, per := recommendedRetries(tt.timeout, tt.p90, tt.others)
		if a != tt.attempts || per != tt.perTry {
			t.Errorf("recommendedRetries(%v, %v, %d) = %d, %v; want %d, %v", tt.timeout, tt.p90, tt.others, a, per, tt.attempts, tt.perTry)
		}
	}
	for _, tt := range []struct {
		p, n float64
		want int
	}{{0, 10, 5}, {0.001, 10, 3}, {0.1, 100, 5}, {0.5, 100, 14}, {0.9, 1000, 20}} {
		if got := consecutive5xx(tt.p, tt.n); got != tt.want {
			t.Errorf("consecutive5xx(%v, %v) = %d, want %d", tt.p, tt.n, got, tt.want)
		}
	}
	for e, want := range map[int]int{1: 100, 2: 50, 3: 34, 6: 34, 10: 30, 100: 33} {
		if got := maxEjectionPercent(e); got != want {
			t.Errorf("maxEjectionPercent(%d) = %d, want %d", e, got, want)
		}
	}
	for _, tt := range []struct {
		rps, p99 float64
		want     int
	}{{100, 250, 50}, {1, 100, 10}, {1000, 1200, 2400}} {
		if got := poolLimit(tt.rps, tt.p99); got != tt.want {
			t.Errorf("poolLimit(%v, %v) = %d, want %d", tt.rps, tt.p99, got, tt.want)
		}
	}
}
