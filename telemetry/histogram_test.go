package telemetry

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// lognormalHistogram fills DefaultBuckets with the expected cumulative
// counts of n observations of a log-normal latency (mu, sigma of ln ms).
func lognormalHistogram(mu, sigma, n float64) Histogram {
	var h Histogram
	for _, b := range DefaultBuckets {
		h.Set(b, n*0.5*math.Erfc(-(math.Log(b)-mu)/(sigma*math.Sqrt2)))
	}
	h.Set(math.Inf(1), n)
	return h
}

func lognormalQuantile(mu, sigma, q float64) float64 {
	return math.Exp(mu + sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// linearQuantile is histogram_quantile's estimate, for comparison.
func linearQuantile(h Histogram, q float64) float64 {
	rank := q * h.Count()
	for i, c := range h.Counts {
		if c >= rank {
			lo, below := 0.0, 0.0
			if i > 0 {
				lo, below = h.Bounds[i-1], h.Counts[i-1]
			}
			return lo + (h.Bounds[i]-lo)*(rank-below)/(c-below)
		}
	}
	return math.NaN()
}

// TestQuantileAccuracy measures the quantile estimate on Istio's buckets
// against the exact quantiles of log-normal latencies with medians from
// 3 ms to 2 s and spreads from narrow to heavy-tailed: the geometric
// interpolation stays within 10%, where histogram_quantile's linear one
// is off by far more.
func TestQuantileAccuracy(t *testing.T) {
	var worstGeo, worstLin float64
	for _, median := range []float64{3, 12, 40, 90, 180, 400, 850, 2000} {
		for _, sigma := range []float64{0.3, 0.5, 0.8, 1.1} {
			mu := math.Log(median)
			h := lognormalHistogram(mu, sigma, 1e6)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := lognormalQuantile(mu, sigma, q)
				got, ok := h.Quantile(q)
				if !ok {
					t.Fatalf("median %v sigma %v q %v: no estimate", median, sigma, q)
				}
				geo := math.Abs(got-want) / want
				lin := math.Abs(linearQuantile(h, q)-want) / want
				worstGeo, worstLin = math.Max(worstGeo, geo), math.Max(worstLin, lin)
				if geo > 0.10 {
					t.Errorf("median %vms sigma %v: p%v = %.1fms, want %.1fms ±10%% (off by %.1f%%)", median, sigma, q*100, got, want, geo*100)
				}
			}
		}
	}
	t.Logf("worst relative error: log-probit %.1f%%, linear (histogram_quantile) %.1f%%", worstGeo*100, worstLin*100)
	if worstLin <= worstGeo {
		t.Errorf("linear interpolation (%.3f) was no worse than geometric (%.3f): the reason for Quantile's method is gone", worstLin, worstGeo)
	}
}

func TestQuantileEdges(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name      string
		h         Histogram
		q         float64
		want      float64
		ok, satur bool
	}{
		{"empty", Histogram{}, 0.5, math.NaN(), false, false},
		{"first bucket is linear", Histogram{Bounds: []float64{10, inf}, Counts: []float64{100, 100}}, 0.5, 5, true, false},
		{"geometric inside", Histogram{Bounds: []float64{10, 1000, inf}, Counts: []float64{0, 100, 100}}, 0.5, 100, true, false},
		{"beyond the last bound", Histogram{Bounds: []float64{10, 100, inf}, Counts: []float64{10, 50, 100}}, 0.99, 100, true, true},
		{"q out of range", Histogram{Bounds: []float64{10, inf}, Counts: []float64{1, 1}}, 1, math.NaN(), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.h.Quantile(tt.q)
			if ok != tt.ok || (ok && math.Abs(got-tt.want) > 1e-9) {
				t.Errorf("Quantile(%v) = %v, %v; want %v, %v", tt.q, got, ok, tt.want, tt.ok)
			}
			if s := tt.h.Saturated(tt.q); s != tt.satur {
				t.Errorf("Saturated(%v) = %v, want %v", tt.q, s, tt.satur)
			}
		})
	}
}

func TestHistogramMergeAndObserve(t *testing.T) {
	var a, b Histogram
	for _, ms := range []float64{0.2, 3, 3, 40, 70000} {
		a.Observe(ms)
	}
	b.Observe(3)
	m := a.Merge(b)
	if m.Count() != 6 {
		t.Fatalf("merged count %v, want 6", m.Count())
	}
	if got := m.Above(50); math.Abs(got-1.0/6) > 1e-9 {
		t.Errorf("Above(50) = %v, want 1/6", got)
	}
	// Different bounds: interpolated, totals kept.
	c := Histogram{Bounds: []float64{2, math.Inf(1)}, Counts: []float64{1, 4}}
	if got := a.Merge(c).Count(); got != 9 {
		t.Errorf("merge with other bounds: count %v, want 9", got)
	}
	var s Histogram
	s.Set(math.Inf(1), 5)
	s.Set(10, 2)
	s.Set(10, 1)
	if s.Bounds[0] != 10 || s.Counts[0] != 3 || s.Count() != 5 {
		t.Errorf("Set kept %v %v", s.Bounds, s.Counts)
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]string{"7d": "168h0m0s", "1d12h": "36h0m0s", "2w": "336h0m0s", "90s": "1m30s", "1h30m": "1h30m0s", "0.5d": "12h0m0s"}
	for in, want := range tests {
		got, err := ParseDuration(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "7x", "-", "1d-"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q): no error", bad)
		}
	}
}

// TestQuantileSampled checks the estimate on counted observations (whole
// numbers, empty tail buckets) rather than expected counts: log-normal
// samples, 50,000 each, against the sample's own exact quantiles.
func TestQuantileSampled(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, median := range []float64{8, 120, 850} {
		for _, sigma := range []float64{0.3, 0.7, 1.2} {
			var h Histogram
			xs := make([]float64, 50000)
			for i := range xs {
				xs[i] = math.Exp(math.Log(median) + sigma*rng.NormFloat64())
				h.Observe(xs[i])
			}
			sort.Float64s(xs)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := xs[int(q*float64(len(xs)))]
				got, _ := h.Quantile(q)
				if e := math.Abs(got-want) / want; e > 0.10 {
					t.Errorf("median %vms sigma %v: p%v = %.1fms, sample's is %.1fms (off by %.1f%%)", median, sigma, q*100, got, want, e*100)
				}
			}
		}
	}
}
