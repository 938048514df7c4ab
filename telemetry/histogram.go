package telemetry

import (
	"math"
	"sort"
)

// DefaultBuckets are the upper bounds, in milliseconds, of Istio's
// istio_request_duration_milliseconds histogram when no
// sidecar.istio.io/statsHistogramBuckets annotation changes them.
var DefaultBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// Histogram is a latency distribution in milliseconds as Prometheus keeps
// it: cumulative counts of observations at or below each upper bound, the
// last bound being +Inf. The zero Histogram holds no observations.
type Histogram struct {
	Bounds []float64 `json:"bounds,omitempty"`
	Counts []float64 `json:"counts,omitempty"`
}

// Count is the number of observations.
func (h Histogram) Count() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// Set records the cumulative count at upper bound le, keeping the bounds
// sorted. Setting a bound twice adds the counts (two series of the same
// bucket, summed).
func (h *Histogram) Set(le, cumulative float64) {
	i := sort.SearchFloat64s(h.Bounds, le)
	if i < len(h.Bounds) && h.Bounds[i] == le {
		h.Counts[i] += cumulative
		return
	}
	h.Bounds = append(h.Bounds, 0)
	h.Counts = append(h.Counts, 0)
	copy(h.Bounds[i+1:], h.Bounds[i:])
	copy(h.Counts[i+1:], h.Counts[i:])
	h.Bounds[i], h.Counts[i] = le, cumulative
}

// Observe adds one observation of ms to a histogram with DefaultBuckets
// (created on first use).
func (h *Histogram) Observe(ms float64) {
	if len(h.Bounds) == 0 {
		h.Bounds = append(append([]float64(nil), DefaultBuckets...), math.Inf(1))
		h.Counts = make([]float64, len(h.Bounds))
	}
	for i := sort.SearchFloat64s(h.Bounds, ms); i < len(h.Counts); i++ {
		h.Counts[i]++
	}
}

// Merge returns the sum of two histograms. Buckets are additive, so the
// merge of edges' histograms is exactly the destination's histogram. Bounds
// that only one side has are interpolated on the other (as Quantile would).
func (h Histogram) Merge(o Histogram) Histogram {
	if len(o.Bounds) == 0 {
		return h
	}
	if len(h.Bounds) == 0 {
		return Histogram{Bounds: append([]float64(nil), o.Bounds...), Counts: append([]float64(nil), o.Counts...)}
	}
	if equalFloats(h.Bounds, o.Bounds) {
		out := Histogram{Bounds: append([]float64(nil), h.Bounds...), Counts: make([]float64, len(h.Counts))}
		for i := range h.Counts {
			out.Counts[i] = h.Counts[i] + o.Counts[i]
		}
		return out
	}
	var out Histogram
	for _, b := range mergeBounds(h.Bounds, o.Bounds) {
		out.Bounds = append(out.Bounds, b)
		out.Counts = append(out.Counts, h.cumulativeAt(b)+o.cumulativeAt(b))
	}
	return out
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mergeBounds(a, b []float64) []float64 {
	out := append(append([]float64(nil), a...), b...)
	sort.Float64s(out)
	n := 0
	for i, v := range out {
		if i == 0 || v != out[n-1] {
			out[n] = v
			n++
		}
	}
	return out[:n]
}

// cumulativeAt interpolates the cumulative count at x.
func (h Histogram) cumulativeAt(x float64) float64 {
	i := sort.SearchFloat64s(h.Bounds, x)
	if i < len(h.Bounds) && h.Bounds[i] == x {
		return h.Counts[i]
	}
	if i == 0 {
		if math.IsInf(h.Bounds[0], 1) || h.Bounds[0] <= 0 {
			return 0
		}
		return h.Counts[0] * x / h.Bounds[0]
	}
	if i >= len(h.Bounds) {
		return h.Count()
	}
	lo, hi := h.Bounds[i-1], h.Bounds[i]
	if math.IsInf(hi, 1) {
		return h.Counts[i-1]
	}
	return h.Counts[i-1] + (h.Counts[i]-h.Counts[i-1])*(x-lo)/(hi-lo)
}

// Quantile estimates the q-quantile (0 < q < 1) in milliseconds. ok is
// false for an empty histogram.
//
// It finds the bucket holding rank q·count as histogram_quantile does, but
// interpolates inside it on a log-probit scale instead of linearly: with
// F the cumulative share at a bound and z = Φ⁻¹(F), it takes ln(x) linear
// in z between the bucket's bounds. Latency is close to log-normal, for
// which ln(x) is exactly linear in z, so the estimate is exact for a
// log-normal whatever the bucket width; histogram_quantile's linear
// interpolation inside Istio's wide buckets (each bound 2 to 5 times the
// last) is off by up to two thirds on the same data
// (TestQuantileAccuracy). For other shapes it stays a monotone
// interpolation inside the bucket. When a bound's share is 0 or 1 (no
// observation below it, or none above), the slope of the neighbouring
// bucket is used, and failing that the interpolation is geometric
// (linear in the first bucket [0, b₁]). A rank in the +Inf bucket gives
// the highest finite bound, as histogram_quantile does; Saturated tells
// that case.
func (h Histogram) Quantile(q float64) (float64, bool) {
	total := h.Count()
	if total <= 0 || q <= 0 || q >= 1 || len(h.Bounds) == 0 {
		return math.NaN(), false
	}
	rank := q * total
	i := sort.Search(len(h.Counts), func(i int) bool { return h.Counts[i] >= rank })
	if i >= len(h.Counts) {
		i = len(h.Counts) - 1
	}
	hi := h.Bounds[i]
	if math.IsInf(hi, 1) {
		if i == 0 {
			return math.NaN(), false
		}
		return h.Bounds[i-1], true
	}
	var lo, below float64
	if i > 0 {
		lo, below = h.Bounds[i-1], h.Counts[i-1]
	}
	in := h.Counts[i] - below
	if in <= 0 {
		return hi, true
	}
	if x, ok := h.probit(i, q); ok {
		return x, true
	}
	f := (rank - below) / in
	if lo <= 0 {
		return hi * f, true
	}
	return lo * math.Pow(hi/lo, f), true
}

// probit interpolates quantile q inside bucket i (see Quantile).
func (h Histogram) probit(i int, q float64) (float64, bool) {
	if i == 0 {
		return 0, false
	}
	total := h.Count()
	z := func(j int) (float64, bool) {
		if j < 0 || j >= len(h.Bounds) || math.IsInf(h.Bounds[j], 1) || h.Bounds[j] <= 0 {
			return 0, false
		}
		f := h.Counts[j] / total
		if f <= 0 || f >= 1 {
			return 0, false
		}
		return math.Sqrt2 * math.Erfinv(2*f-1), true
	}
	lnx := func(j int) float64 { return math.Log(h.Bounds[j]) }
	zq := math.Sqrt2 * math.Erfinv(2*q-1)
	lo, hi := i-1, i
	zlo, okLo := z(lo)
	zhi, okHi := z(hi)
	var x float64
	switch {
	case okLo && okHi && zhi > zlo:
		x = lnx(lo) + (zq-zlo)/(zhi-zlo)*(lnx(hi)-lnx(lo))
	case okLo:
		// Nothing above hi: extrapolate with the slope below.
		zp, ok := z(lo - 1)
		if !ok || zlo <= zp {
			return 0, false
		}
		x = lnx(lo) + (zq-zlo)*(lnx(lo)-lnx(lo-1))/(zlo-zp)
	case okHi:
		// Nothing below lo: extrapolate with the slope above.
		zn, ok := z(hi + 1)
		if !ok || zn <= zhi {
			return 0, false
		}
		x = lnx(hi) - (zhi-zq)*(lnx(hi+1)-lnx(hi))/(zn-zhi)
	default:
		return 0, false
	}
	return math.Min(math.Max(math.Exp(x), h.Bounds[lo]), h.Bounds[hi]), true
}

// Saturated reports whether the q-quantile lies beyond the highest finite
// bound, so that Quantile only gives a lower bound.
func (h Histogram) Saturated(q float64) bool {
	total := h.Count()
	n := len(h.Bounds)
	if total <= 0 || n < 2 || !math.IsInf(h.Bounds[n-1], 1) {
		return false
	}
	return h.Counts[n-2] < q*total
}

// Above estimates the share of observations slower than ms.
func (h Histogram) Above(ms float64) float64 {
	total := h.Count()
	if total <= 0 || len(h.Bounds) == 0 {
		return 0
	}
	i := sort.SearchFloat64s(h.Bounds, ms)
	var c float64
	switch {
	case i < len(h.Bounds) && h.Bounds[i] == ms:
		c = h.Counts[i]
	case i == 0:
		c = h.Counts[0] * ms / h.Bounds[0]
	case i >= len(h.Bounds) || math.IsInf(h.Bounds[i], 1):
		c = h.Counts[i-1]
	default:
		lo, hi := h.Bounds[i-1], h.Bounds[i]
		f := math.Log(ms/lo) / math.Log(hi/lo)
		c = h.Counts[i-1] + f*(h.Counts[i]-h.Counts[i-1])
	}
	return math.Max(0, 1-c/total)
}
