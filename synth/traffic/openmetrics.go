package traffic

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Telemetry rules.
const (
	noise       = 0.02 // per interval, on an edge's request count
	ratioJitter = 0.01 // per interval, on a service's error ratio
	uoLatency   = 0.1  // ms: a local reply of the caller's proxy
	connLife    = 30   // seconds a TCP connection stays open
	cluster     = "Kubernetes"
)

// peer kinds of an edge's source.
const (
	fromService = iota
	fromGateway
	fromOutside
)

// edge is the traffic from one source workload to one destination
// workload of a service.
type edge struct {
	id         uint64
	from       int
	src        *service // fromService
	srcVersion string
	dst        *service
	dstVersion string
	rate       float64 // requests (TCP: connections) per second
}

func (t *topology) buildEdges() {
	add := func(from int, src *service, srcVersion string, dst *service, rate float64) {
		for _, v := range versions(dst) {
			if r := rate * v.share; r > 0 {
				t.edges = append(t.edges, &edge{id: uint64(len(t.edges)), from: from, src: src, srcVersion: srcVersion,
					dst: dst, dstVersion: v.name, rate: r})
			}
		}
	}
	for _, s := range t.svcs {
		if s.gatewayRate > 0 {
			add(fromGateway, nil, "", s, s.gatewayRate)
		}
		for _, c := range s.callers {
			for _, v := range versions(c.from) {
				add(fromService, c.from, v.name, s, c.from.outRate()*c.fanout*v.share)
			}
		}
		if s.outsideRate > 0 {
			add(fromOutside, nil, "", s, s.outsideRate)
		}
	}
}

type version struct {
	name  string
	share float64
}

func versions(s *service) []version {
	if s.v2Ratio > 0 {
		return []version{{"v1", 1 - s.v2Ratio}, {"v2", s.v2Ratio}}
	}
	return []version{{"v1", 1}}
}

// stream is one labelled series of istio_requests_total and its histogram
// (HTTP), or of the TCP counters.
type stream struct {
	e        *edge
	reporter string
	kind     int // okStream, errStream, uoStream, tcpStream
	plain    bool
}

const (
	okStream = iota
	errStream
	uoStream
	tcpStream
)

func (e *edge) streams(out []stream) []stream {
	out = out[:0]
	reporters := []string{"source", "destination"}
	if e.from == fromOutside {
		reporters = reporters[1:]
	}
	for _, rep := range reporters {
		if e.dst.tcp {
			out = append(out, stream{e: e, reporter: rep, kind: tcpStream})
			continue
		}
		plains := []bool{false}
		switch {
		case e.from == fromOutside:
			plains = []bool{true}
		case e.from == fromService && e.dst.plaintext > 0:
			plains = []bool{false, true}
		}
		for _, p := range plains {
			out = append(out, stream{e: e, reporter: rep, kind: okStream, plain: p},
				stream{e: e, reporter: rep, kind: errStream, plain: p})
		}
		if rep == "source" && e.dst.defect == DefectOverflow {
			out = append(out, stream{e: e, reporter: rep, kind: uoStream})
		}
	}
	return out
}

// share is the part of an edge's requests in interval k (1-based) that
// the stream counts.
func (m *Mesh) share(st stream, k int) float64 {
	if st.kind == uoStream {
		return overflowRatio / (1 - overflowRatio)
	}
	if st.kind == tcpStream {
		return 1
	}
	p := 1.0
	if st.e.from == fromService && st.e.dst.plaintext > 0 {
		p = st.e.dst.plaintext
		if !st.plain {
			p = 1 - p
		}
	}
	err := m.errRatio(st.e.dst, k)
	if st.kind == errStream {
		return p * err
	}
	return p * (1 - err)
}

// errRatio is a service's 5xx ratio in interval k: the true ratio with a
// jitter, and the bursts' ratio for the part of the interval they cover.
func (m *Mesh) errRatio(s *service, k int) float64 {
	r := s.errRatio * (1 + ratioJitter*(2*m.unit(1, uint64(s.idx), uint64(k))-1))
	if len(s.bursts) == 0 {
		return r
	}
	lo := m.Start.Add(time.Duration(k-1) * m.Scrape)
	hi := lo.Add(m.Scrape)
	var covered time.Duration
	for _, b := range s.bursts {
		if d := minTime(hi, b.End).Sub(maxTime(lo, b.Start)); d > 0 {
			covered += d
		}
	}
	f := float64(covered) / float64(m.Scrape)
	return r*(1-f) + spikeRatio*f
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// cumulative fills c with the stream's counter at each sample: a random
// offset, then the increments of each interval.
func (m *Mesh) cumulative(st stream, c []float64) []float64 {
	n := int(m.End.Sub(m.Start) / m.Scrape)
	c = c[:0]
	perInterval := st.e.rate * m.Scrape.Seconds()
	mean := 0.0
	for k := 1; k <= n; k++ {
		mean += m.share(st, k)
	}
	mean /= float64(n)
	// Between ten minutes and three days of traffic before the window.
	v := st.e.rate * mean * (600 + m.unit(2, st.e.id, st.key())*(3*86400-600))
	c = append(c, v)
	for k := 1; k <= n; k++ {
		v += perInterval * (1 + noise*(2*m.unit(3, st.e.id, uint64(k))-1)) * m.share(st, k)
		c = append(c, v)
	}
	return c
}

func (st stream) key() uint64 {
	k := uint64(st.kind) << 1
	if st.plain {
		k |= 1
	}
	if st.reporter == "source" {
		k |= 1 << 8
	}
	return k
}

// unit is a deterministic uniform number in [0, 1) for the keys.
func (m *Mesh) unit(keys ...uint64) float64 {
	h := m.seed
	for _, k := range keys {
		h = mix(h ^ mix(k))
	}
	return float64(h>>11) / (1 << 53)
}

// mix is SplitMix64's finalizer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Size counts the series and samples WriteOpenMetrics writes.
func (m *Mesh) Size() (series, samples int) {
	var sts []stream
	points := int(m.End.Sub(m.Start)/m.Scrape) + 1
	buckets := len(telemetry.DefaultBuckets) + 1
	for _, e := range m.edges {
		sts = e.streams(sts)
		for _, st := range sts {
			if st.kind == tcpStream {
				series += 4
			} else {
				series += 1 + buckets + 2
			}
		}
	}
	return series, series * points
}

// WriteOpenMetrics writes the mesh's telemetry as OpenMetrics text (see
// the package documentation), streaming: memory does not grow with the
// output.
func (m *Mesh) WriteOpenMetrics(w io.Writer) error {
	ow := &omWriter{w: bufio.NewWriterSize(w, 1<<20), m: m}
	ow.family("istio_requests", "counter", false, ow.requests)
	ow.family("istio_request_duration_milliseconds", "histogram", false, ow.durations)
	for _, f := range tcpFamilies {
		ow.family(f.name, "counter", true, func(st stream, labels []byte) { ow.tcp(st, labels, f) })
	}
	ow.b = append(ow.b, "# EOF\n"...)
	ow.flush()
	if ow.err != nil {
		return ow.err
	}
	return ow.w.Flush()
}

type tcpFamily struct {
	name  string
	value func(opened float64, s *service, inFlight float64) float64
}

var tcpFamilies = []tcpFamily{
	{"istio_tcp_sent_bytes", func(o float64, s *service, _ float64) float64 { return o * s.sentPerConn }},
	{"istio_tcp_received_bytes", func(o float64, s *service, _ float64) float64 { return o * s.recvPerConn }},
	{"istio_tcp_connections_opened", func(o float64, _ *service, _ float64) float64 { return o }},
	{"istio_tcp_connections_closed", func(o float64, _ *service, inFlight float64) float64 { return o - inFlight }},
}

// omWriter formats into b and hands it to w in large pieces.
type omWriter struct {
	w      *bufio.Writer
	m      *Mesh
	b      []byte
	labels []byte
	c      []float64
	sts    []stream
	err    error
}

func (ow *omWriter) flush() {
	if ow.err == nil && len(ow.b) > 0 {
		_, ow.err = ow.w.Write(ow.b)
	}
	ow.b = ow.b[:0]
}

func (ow *omWriter) family(name, typ string, tcp bool, each func(st stream, labels []byte)) {
	ow.b = append(ow.b, "# TYPE "...)
	ow.b = append(ow.b, name...)
	ow.b = append(ow.b, ' ')
	ow.b = append(ow.b, typ...)
	ow.b = append(ow.b, '\n')
	for _, e := range ow.m.edges {
		if e.dst.tcp != tcp {
			continue
		}
		ow.sts = e.streams(ow.sts)
		for _, st := range ow.sts {
			ow.labels = appendLabels(ow.labels[:0], st)
			each(st, ow.labels)
			if len(ow.b) > 1<<20 {
				ow.flush()
			}
		}
		if ow.err != nil {
			return
		}
	}
}

func (ow *omWriter) requests(st stream, labels []byte) {
	ow.c = ow.m.cumulative(st, ow.c)
	for k, v := range ow.c {
		ow.sample("istio_requests_total", labels, "", v, k)
	}
}

// les are the le label values of Istio's buckets, formatted as its proxies
// format them ("0.5", "1.8e+06").
var les = func() []string {
	var out []string
	for _, b := range telemetry.DefaultBuckets {
		out = append(out, strconv.FormatFloat(b, 'g', -1, 64))
	}
	return append(out, "+Inf")
}()

func (ow *omWriter) durations(st stream, labels []byte) {
	cdf := make([]float64, len(les))
	mean := uoLatency
	for j := range cdf {
		cdf[j] = 1
		if st.kind != uoStream && j < len(telemetry.DefaultBuckets) {
			cdf[j] = st.e.dst.lat.CDF(telemetry.DefaultBuckets[j])
		}
	}
	if st.kind != uoStream {
		mean = st.e.dst.lat.Mean()
	}
	ow.c = ow.m.cumulative(st, ow.c)
	for k, v := range ow.c {
		// One OpenMetrics MetricPoint: its buckets, count and sum.
		for j, le := range les {
			ow.sample("istio_request_duration_milliseconds_bucket", labels, le, v*cdf[j], k)
		}
		ow.sample("istio_request_duration_milliseconds_count", labels, "", v, k)
		ow.sample("istio_request_duration_milliseconds_sum", labels, "", v*mean, k)
	}
}

func (ow *omWriter) tcp(st stream, labels []byte, f tcpFamily) {
	ow.c = ow.m.cumulative(st, ow.c)
	for k, v := range ow.c {
		ow.sample(f.name+"_total", labels, "", f.value(v, st.e.dst, st.e.rate*connLife), k)
	}
}

// sample writes `name{labels[,le="le"]} value timestamp`, the value
// rounded to thousandths, the timestamp in seconds.
func (ow *omWriter) sample(name string, labels []byte, le string, v float64, k int) {
	b := append(ow.b, name...)
	b = append(b, '{')
	b = append(b, labels...)
	if le != "" {
		b = append(b, `,le="`...)
		b = append(b, le...)
		b = append(b, '"')
	}
	b = append(b, "} "...)
	b = strconv.AppendFloat(b, math.Round(v*1000)/1000, 'f', -1, 64)
	b = append(b, ' ')
	b = strconv.AppendInt(b, ow.m.Start.Unix()+int64(k)*int64(ow.m.Scrape/time.Second), 10)
	ow.b = append(b, '\n')
}

// appendLabels writes the labels of Istio's standard metrics for a stream.
func appendLabels(b []byte, st stream) []byte {
	e := st.e
	mtls := !st.plain && st.kind != uoStream
	label := func(name, value string) {
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, name...)
		b = append(b, `="`...)
		b = append(b, value...)
		b = append(b, '"')
	}
	label("reporter", st.reporter)
	switch e.from {
	case fromService:
		s := e.src
		label("source_workload", s.name+"-"+e.srcVersion)
		label("source_canonical_service", s.name)
		label("source_canonical_revision", e.srcVersion)
		label("source_workload_namespace", s.nsName)
		label("source_principal", principal(!st.plain, s.nsName, s.name))
		label("source_app", s.name)
		label("source_version", e.srcVersion)
		label("source_cluster", cluster)
	case fromGateway:
		label("source_workload", "istio-ingressgateway")
		label("source_canonical_service", "istio-ingressgateway")
		label("source_canonical_revision", "latest")
		label("source_workload_namespace", "istio-system")
		label("source_principal", principal(true, "istio-system", gatewaySA))
		label("source_app", "istio-ingressgateway")
		label("source_version", "unknown")
		label("source_cluster", cluster)
	default:
		for _, n := range []string{"source_workload", "source_canonical_service", "source_canonical_revision",
			"source_workload_namespace", "source_principal", "source_app", "source_version", "source_cluster"} {
			label(n, "unknown")
		}
	}
	d := e.dst
	label("destination_workload", d.name+"-"+e.dstVersion)
	label("destination_workload_namespace", d.nsName)
	label("destination_principal", principal(mtls, d.nsName, d.name))
	label("destination_app", d.name)
	label("destination_version", e.dstVersion)
	label("destination_service", d.fqdn())
	label("destination_canonical_service", d.name)
	label("destination_canonical_revision", e.dstVersion)
	label("destination_service_name", d.name)
	label("destination_service_namespace", d.nsName)
	label("destination_cluster", cluster)
	security := "unknown" // what the source reporter always says
	if st.reporter == "destination" {
		security = "mutual_tls"
		if st.plain {
			security = "none"
		}
	}
	if st.kind == tcpStream {
		label("request_protocol", "tcp")
		label("response_flags", "-")
		label("connection_security_policy", security)
		return b
	}
	label("request_protocol", "http")
	code, flags := "200", "-"
	switch st.kind {
	case errStream:
		code = strconv.Itoa(d.errCode)
	case uoStream:
		code, flags = "503", "UO"
	}
	label("response_code", code)
	label("grpc_response_status", "")
	label("response_flags", flags)
	label("connection_security_policy", security)
	return b
}

const gatewaySA = "istio-ingressgateway-service-account"

func principal(mtls bool, ns, sa string) string {
	if !mtls {
		return "unknown"
	}
	return "spiffe://cluster.local/ns/" + ns + "/sa/" + sa
}
