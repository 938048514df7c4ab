package traffic

import (
	"math"
	"sort"
	"time"

	"github.com/meshpilot/meshpilot/analyzers/resilience"
	"github.com/meshpilot/meshpilot/telemetry"
)

// The formulas behind the checks and recommendations; each is documented
// on its code in analyzers/codes/traffic.go as well.

// highQuantile is the latency quantile a class's timeout must clear: p99.9
// for batch work (a failed job is expensive to redo), p99 otherwise.
func highQuantile(c resilience.Class) float64 {
	if c.Name == "batch" {
		return 0.999
	}
	return 0.99
}

// quantileName writes 0.99 as "p99" and 0.999 as "p99.9".
func quantileName(q float64) string {
	if q == 0.999 {
		return "p99.9"
	}
	return "p" + itoa(int(math.Round(q*100)))
}

// enoughFor is the traffic a quantile needs to be more than noise: ten
// observations beyond it.
func enoughFor(q float64) float64 { return 10 / (1 - q) }

// roundUp2 rounds ms up to two significant digits: 1275 → 1300, 87.3 → 88.
func roundUp2(ms float64) float64 {
	if ms <= 0 || math.IsNaN(ms) || math.IsInf(ms, 0) {
		return ms
	}
	mag := math.Pow(10, math.Floor(math.Log10(ms))-1)
	return math.Ceil(ms/mag-1e-9) * mag
}

func millis(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Millisecond))) }

// timeoutMargin is the factor between the high quantile and a recommended
// timeout: the tail moves from day to day, and a timeout at the quantile
// itself would cut 1% of calls by construction.
const timeoutMargin = 1.5

// recommendedTimeout is T = roundUp2(Q × 1.5), at least 100ms, at most the
// class's maximum (when it has one).
func recommendedTimeout(q float64, c resilience.Class) time.Duration {
	t := millis(roundUp2(q * timeoutMargin))
	if t < 100*time.Millisecond {
		t = 100 * time.Millisecond
	}
	if c.MaxTimeout > 0 && t > c.MaxTimeout {
		t = c.MaxTimeout
	}
	return t
}

// roundDown2 rounds ms down to two significant digits: 566.7 → 560.
func roundDown2(ms float64) float64 {
	if ms <= 0 || math.IsNaN(ms) || math.IsInf(ms, 0) {
		return ms
	}
	mag := math.Pow(10, math.Floor(math.Log10(ms))-1)
	return math.Floor(ms/mag+1e-9) * mag
}

// recommendedRetries splits a route timeout between tries: attempts is
// the largest a ≤ 2 whose equal share timeout/(a+1) still lets a try run
// 1.2 × the observed p90 — so that most tries are not cut — and that keeps
// the product of tries along the worst chain through the route (others:
// the other hops' product) at most maxAmplification; perTryTimeout is that
// share, rounded down to two significant digits, so that (attempts + 1) ×
// perTryTimeout fits the timeout. attempts is 0 when even one retry does
// not fit.
func recommendedRetries(timeout time.Duration, p90 float64, others int) (int, time.Duration) {
	if others < 1 {
		others = 1
	}
	for a := 2; a > 0; a-- {
		share := durMS(timeout) / float64(a+1)
		if share >= 1.2*p90 && others*(a+1) <= maxAmplification {
			return a, millis(roundDown2(share))
		}
	}
	return 0, 0
}

// errorShape summarizes a destination's 5xx ratio over the steps of its
// profile that had traffic.
type errorShape struct {
	steps   int     // steps with traffic
	base    float64 // baseline: the 10th percentile of the step ratios
	present float64 // share of steps with a 5xx ratio of at least half the overall
	cv      float64 // coefficient of variation of the step ratios
	peak    float64 // highest step ratio
	spikes  int     // steps at ≥10% and ≥ 5 × base
}

func shapeOf(p *telemetry.Profile, overall float64) errorShape {
	if p == nil {
		return errorShape{}
	}
	rs := p.Ratios()
	s := errorShape{steps: len(rs)}
	if len(rs) == 0 {
		return s
	}
	sorted := append([]float64(nil), rs...)
	sort.Float64s(sorted)
	// The baseline is a low quantile rather than the median: profile
	// steps overlap (two-step ranges, see source/prometheus), so a burst
	// raises two or three of them, and three bursts in an hour of twelve
	// steps raise most of them.
	s.base = sorted[len(sorted)/10]
	s.peak = sorted[len(sorted)-1]
	var sum, sq float64
	for _, r := range rs {
		sum += r
		sq += r * r
		if r >= overall/2 {
			s.present++
		}
		if r >= 0.10 && r >= 5*s.base {
			s.spikes++
		}
	}
	s.present /= float64(len(rs))
	mean := sum / float64(len(rs))
	if mean > 0 {
		s.cv = math.Sqrt(math.Max(0, sq/float64(len(rs))-mean*mean)) / mean
	}
	return s
}

// deterministic: a 5xx ratio of at least 5% overall, present in at least
// 80% of the steps, with a coefficient of variation of at most 0.5.
// Without a profile the overall ratio alone decides, at 20%.
func deterministic(overall float64, s errorShape) bool {
	if s.steps < 4 {
		return overall >= 0.20
	}
	return overall >= 0.05 && s.present >= 0.8 && s.cv <= 0.5
}

// spiky: at least one step at ≥10% 5xx and ≥ 5 × the baseline (the 10th
// percentile of the steps).
func spiky(s errorShape) bool { return s.steps >= 4 && s.spikes > 0 }

// consecutive5xx is the smallest k ≥ 3 with n × p^k < 0.01 (n requests per
// endpoint per interval, p the baseline 5xx ratio), capped at 20; 5 when
// the baseline is 0.
func consecutive5xx(p, n float64) int {
	if p <= 0 {
		return 5
	}
	if n < 1 {
		n = 1
	}
	for k := 3; k <= 20; k++ {
		if n*math.Pow(p, float64(k)) < 0.01 {
			return k
		}
	}
	return 20
}

// maxEjectionPercent lets a third of E endpoints (at least one) be ejected.
func maxEjectionPercent(e int) int {
	if e <= 1 {
		return 100
	}
	n := e / 3
	if n < 1 {
		n = 1
	}
	return int(math.Ceil(100 * float64(n) / float64(e)))
}

// poolLimit is ⌈2L⌉, at least 10, for L = λ × W (Little's law: λ requests a
// second that each stay W seconds keep λW requests in flight).
func poolLimit(peakRPS, p99ms float64) int {
	l := peakRPS * p99ms / 1000
	n := int(math.Ceil(2 * l))
	if n < 10 {
		n = 10
	}
	return n
}

// peakRate is the highest step of a profile, or twice the mean rate when
// there is none.
func peakRate(p *telemetry.Profile, meanRPS float64) float64 {
	peak := 0.0
	if p != nil {
		for _, t := range p.Totals {
			peak = math.Max(peak, t)
		}
	}
	if peak == 0 {
		return 2 * meanRPS
	}
	return peak
}
