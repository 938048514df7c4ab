package traffic_test

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/synth/traffic"
	"github.com/meshpilot/meshpilot/telemetry"
)

// series is one parsed series: its metric name, labels and samples.
type series struct {
	name   string
	labels map[string]string
	values []float64
}

func (s *series) increase() float64 { return s.values[len(s.values)-1] - s.values[0] }

// parseOpenMetrics reads the generator's output and checks its form:
// families not interleaved, timestamps rising and counters never falling
// within a series, "# EOF" last.
func parseOpenMetrics(t testing.TB, r io.Reader, points int) map[string]*series {
	t.Helper()
	out := map[string]*series{}
	last := map[string]int64{}
	families := map[string]bool{}
	family, eof := "", false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if eof {
			t.Fatalf("line %d after # EOF: %q", n, line)
		}
		switch {
		case line == "# EOF":
			eof = true
			continue
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)[2]
			if families[f] {
				t.Fatalf("line %d: family %s interleaved", n, f)
			}
			families[f], family = true, f
			continue
		}
		brace := strings.IndexByte(line, '{')
		end := strings.LastIndexByte(line, '}')
		name, body := line[:brace], line[brace+1:end]
		if !strings.HasPrefix(name, family) {
			t.Fatalf("line %d: %s outside its family (in %s)", n, name, family)
		}
		f := strings.Fields(line[end+1:])
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		ts, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		key := name + "{" + body
		s := out[key]
		if s == nil {
			s = &series{name: name, labels: parseLabels(t, body)}
			out[key] = s
		} else {
			if ts <= last[key] {
				t.Fatalf("line %d: timestamp %d not after %d", n, ts, last[key])
			}
			if v < s.values[len(s.values)-1] {
				t.Fatalf("line %d: counter falls from %g to %g", n, s.values[len(s.values)-1], v)
			}
		}
		last[key] = ts
		s.values = append(s.values, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !eof {
		t.Fatal("no # EOF")
	}
	for k, s := range out {
		if len(s.values) != points {
			t.Fatalf("%s: %d samples, want %d", k, len(s.values), points)
		}
	}
	return out
}

func parseLabels(t testing.TB, body string) map[string]string {
	out := map[string]string{}
	for body != "" {
		eq := strings.Index(body, `="`)
		q := strings.IndexByte(body[eq+2:], '"')
		if eq < 0 || q < 0 {
			t.Fatalf("bad labels %q", body)
		}
		out[body[:eq]] = body[eq+2 : eq+2+q]
		body = strings.TrimPrefix(body[eq+2+q+1:], ",")
	}
	return out
}

// istioLabels are the labels of istio_requests_total in Istio's standard
// metrics.
var istioLabels = strings.Fields(`reporter source_workload source_canonical_service source_canonical_revision
	source_workload_namespace source_principal source_app source_version source_cluster destination_workload
	destination_workload_namespace destination_principal destination_app destination_version destination_service
	destination_canonical_service destination_canonical_revision destination_service_name
	destination_service_namespace destination_cluster request_protocol response_code grpc_response_status
	response_flags connection_security_policy`)

// TestOpenMetricsTruth reads the telemetry of the default mesh back and
// compares it with the ground truth, service by service.
func TestOpenMetricsTruth(t *testing.T) {
	const scrape = 5 * time.Minute
	m := generate(t, traffic.Options{Seed: 1, Scrape: scrape})
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(m.WriteOpenMetrics(pw)) }()
	points := int(m.End.Sub(m.Start)/scrape) + 1
	all := parseOpenMetrics(t, pr, points)
	if series, samples := m.Size(); series != len(all) || samples != len(all)*points {
		t.Errorf("Size() = %d series, %d samples; parsed %d series", series, samples, len(all))
	}
	by, parity := aggregate(t, all, points)
	for k, p := range parity {
		if math.Abs(p[0]-p[1]) > 0.01 {
			t.Errorf("%s: source reported %g requests, destination %g", k, p[0], p[1])
		}
	}
	window := m.End.Sub(m.Start).Seconds()
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Max(want, 1e-9) {
			t.Errorf("%s = %.5g, want %.5g (±%g%%)", what, got, want, 100*tol)
		}
	}
	for _, st := range m.Services {
		a, ref := by[st.Ref()], st.Ref()
		switch {
		case st.RPS == 0:
			if a != nil && (a.dst > 0 || a.tcpOpened > 0) {
				t.Errorf("%s: traffic to a service nobody calls", ref)
			}
		case st.Protocol == "tcp":
			near(ref+" connections", a.tcpOpened, st.RPS*window, 0.02)
			near(ref+" bytes sent", a.tcpSent, a.tcpOpened*st.SentBytesPerConn, 1e-6)
		default:
			near(ref+" requests", a.dst, st.RPS*window, 0.02)
			near(ref+" outside share", a.outside/a.dst, st.OutsideRatio, 0.01)
			near(ref+" plaintext share", a.plain/a.dst, st.PlaintextRatio, 0.01)
			near(ref+" v2 share", a.v2/a.dst, st.V2Ratio, 0.01)
			if st.OverflowRatio > 0 {
				near(ref+" UO share of the source reports", a.uo/a.src, st.OverflowRatio, 0.01)
			} else if a.uo > 0 {
				t.Errorf("%s: %g UO", ref, a.uo)
			}
			checkErrors(t, st, a.errs, a.totals, m.Start, scrape)
			checkLatency(t, st, a.hist, a.dst)
		}
	}
}

// observed is what the telemetry says of one destination service.
type observed struct {
	dst, src, uo, plain, outside, v2 float64   // requests over the window
	errs, totals                     []float64 // per interval, destination reporter
	hist                             telemetry.Histogram
	tcpOpened, tcpSent               float64
}

// aggregate sums the series by destination service, and the requests of
// each edge by reporter (parity: source, destination).
func aggregate(t *testing.T, all map[string]*series, points int) (map[string]*observed, map[string][2]float64) {
	t.Helper()
	by := map[string]*observed{}
	parity := map[string][2]float64{}
	for _, s := range all {
		l := s.labels
		k := l["destination_service_namespace"] + "/" + l["destination_service_name"]
		if by[k] == nil {
			by[k] = &observed{errs: make([]float64, points-1), totals: make([]float64, points-1)}
		}
		a, dest := by[k], l["reporter"] == "destination"
		switch {
		case s.name == "istio_requests_total":
			checkLabels(t, l)
			if l["source_workload"] != "unknown" && l["response_flags"] != "UO" {
				key := l["source_workload"] + ">" + l["destination_workload"] + ">" + l["response_code"] + ">" + l["source_principal"]
				p := parity[key]
				p[boolIndex(dest)] += s.increase()
				parity[key] = p
			}
			a.addRequests(s, dest)
		case !dest:
		case s.name == "istio_request_duration_milliseconds_bucket":
			le, _ := strconv.ParseFloat(l["le"], 64)
			a.hist.Set(le, s.increase())
		case s.name == "istio_tcp_connections_opened_total":
			a.tcpOpened += s.increase()
		case s.name == "istio_tcp_sent_bytes_total":
			a.tcpSent += s.increase()
		}
	}
	return by, parity
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkLabels(t *testing.T, l map[string]string) {
	t.Helper()
	if len(l) != len(istioLabels) {
		t.Fatalf("%d labels, want %d: %v", len(l), len(istioLabels), l)
	}
	for _, n := range istioLabels {
		if _, ok := l[n]; !ok {
			t.Fatalf("no label %s: %v", n, l)
		}
	}
	if l["reporter"] == "source" && l["connection_security_policy"] != "unknown" {
		t.Errorf("source reporter with connection_security_policy %q", l["connection_security_policy"])
	}
}

func (a *observed) addRequests(s *series, dest bool) {
	l, inc := s.labels, s.increase()
	if !dest {
		a.src += inc
		if l["response_flags"] == "UO" {
			a.uo += inc
		}
		return
	}
	a.dst += inc
	if l["connection_security_policy"] == "none" {
		a.plain += inc
	}
	if l["source_workload"] == "unknown" {
		a.outside += inc
	}
	if l["destination_version"] == "v2" {
		a.v2 += inc
	}
	for k := 1; k < len(s.values); k++ {
		d := s.values[k] - s.values[k-1]
		a.totals[k-1] += d
		if strings.HasPrefix(l["response_code"], "5") {
			a.errs[k-1] += d
		}
	}
}

// checkErrors compares the 5xx ratio of every interval with the truth.
func checkErrors(t *testing.T, st traffic.ServiceTruth, errs, totals []float64, start time.Time, scrape time.Duration) {
	t.Helper()
	for k := range errs {
		lo := start.Add(time.Duration(k) * scrape)
		want := st.ErrorRatio
		for _, b := range st.Bursts {
			if !lo.Before(b.Start) && lo.Before(b.End) {
				want = b.Ratio
			}
		}
		got := errs[k] / totals[k]
		// ±1% jitter on the ratio, and the rounding of small counts.
		if math.Abs(got-want) > 0.0101*want+1e-5 {
			t.Errorf("%s: 5xx ratio %.5f in interval %d, want %.5f", st.Ref(), got, k, want)
		}
	}
}

// checkLatency compares the destination's histogram with the true
// distribution: bucket shares follow the CDF, and quantile estimates land
// in the true quantile's bucket, within a few percent.
func checkLatency(t *testing.T, st traffic.ServiceTruth, h telemetry.Histogram, requests float64) {
	t.Helper()
	if math.Abs(h.Count()-requests) > 1e-6*requests+0.01 {
		t.Errorf("%s: histogram counts %g requests, requests_total %g", st.Ref(), h.Count(), requests)
	}
	for i, le := range h.Bounds[:len(h.Bounds)-1] {
		if got, want := h.Counts[i]/h.Count(), st.Latency.CDF(le); math.Abs(got-want) > 1e-5 {
			t.Errorf("%s: share at or below %gms = %.6f, CDF %.6f", st.Ref(), le, got, want)
		}
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		got, _ := h.Quantile(q)
		want := st.Latency.Quantile(q)
		i := sort.SearchFloat64s(h.Bounds, want)
		lo := 0.0
		if i > 0 {
			lo = h.Bounds[i-1]
		}
		if got < lo || got > h.Bounds[i] {
			t.Errorf("%s: p%g estimated %.1fms outside the true p%g's bucket (%g, %g] (%.1fms)", st.Ref(), 100*q, got, 100*q, lo, h.Bounds[i], want)
		}
		if math.Abs(got-want) > 0.1*want {
			t.Errorf("%s: p%g estimated %.1fms, true %.1fms", st.Ref(), 100*q, got, want)
		}
	}
}

func BenchmarkWriteOpenMetrics(b *testing.B) {
	m := generate(b, traffic.Options{Services: 500, Seed: 1, Scrape: 5 * time.Minute})
	var n countWriter
	for b.Loop() {
		n = 0
		if err := m.WriteOpenMetrics(&n); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(n))
}

// countWriter counts bytes and keeps none.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
