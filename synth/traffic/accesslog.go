package traffic

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// AccessLogOptions shape WriteAccessLogs' output. Zero values take the
// defaults.
type AccessLogOptions struct {
	// PerService bounds the requests (TCP: connections) into each service
	// logged over the window (default DefaultLogPerService): a service that
	// receives more has a uniform share of them logged, the same requests by
	// both ends of each call. Negative logs every request.
	PerService int
}

// DefaultLogPerService keeps the default mesh's logs to a few tens of MB,
// with enough requests per service for the checks' minimums (100 requests,
// 1000 latencies for a p99).
const DefaultLogPerService = 2000

// LogFile is the access log of one workload's proxies.
type LogFile struct {
	Path string
	// Workload is "namespace/name" of the workload whose proxies wrote it.
	Workload string
	Lines    int
	Bytes    int64
}

// Arg is the --access-log argument naming the file's workload.
func (f LogFile) Arg() string { return f.Workload + "=" + f.Path }

// LogShare is the share of a service's requests (TCP: connections)
// WriteAccessLogs logs with o.
func (m *Mesh) LogShare(s ServiceTruth, o AccessLogOptions) float64 {
	return logShare(s.RPS, m.End.Sub(m.Start), o)
}

func logShare(rps float64, window time.Duration, o AccessLogOptions) float64 {
	n := o.PerService
	if n == 0 {
		n = DefaultLogPerService
	}
	total := rps * window.Seconds()
	if n < 0 || total <= float64(n) {
		return 1
	}
	return float64(n) / total
}

// WriteAccessLogs writes the requests behind the mesh's telemetry into dir
// as the Envoy access logs of its proxies, in Istio's default TEXT format: one
// file per workload (the ingress gateway and each <svc>-v1, <svc>-v2 with
// any entry), its two pods' entries in time order. Every call between two
// proxies is logged by both: the caller's outbound entry (upstream cluster
// outbound|8080|SUBSET|FQDN, the subset when its VirtualService routes to
// one) and the server's inbound entry (inbound|8080||, REQUESTED_SERVER_NAME
// outbound_.8080_.SUBSET_.FQDN over mTLS, "-" in plaintext), with the same
// request ID and the same addresses: the caller pod's IP and port at both
// ends, the server pod's IP:8080 as upstream host and inbound local
// address, the Service's cluster IP as the outbound local address. UO
// failures are logged only by the caller (503 UO, no upstream connection);
// callers outside the mesh only by the server, from 192.168.0.0/16 and in
// plaintext; the gateway's entries are its outbound ones, from clients in
// 203.0.113.0/24 to <ns>.example.com. TCP connections are logged as
// "- - -" entries with their bytes.
//
// Counts follow the OpenMetrics telemetry, scaled by the service's share
// (LogShare): in each scrape interval, the edge's rate times the same noise,
// split at the bursts' bounds and by the true error, plaintext and overflow
// ratios, each count rounded up or down at random to keep its expectation.
// Start times are uniform inside their span, so the 5xx ratio over time
// shows the true shape, flat or bursty. Durations are draws from the
// service's log-normal, stratified over each edge's requests (one from each
// of n equal-probability strata, in random order), written in whole
// milliseconds as Envoy truncates them; the telemetry's rules hold (errors
// take as long as successes, UO 0ms, timeouts and retries not modeled).
//
// Files are named NAMESPACE.WORKLOAD.log; a workload that served and called
// nothing, as an unused subset's, has none.
func (m *Mesh) WriteAccessLogs(dir string, o AccessLogOptions) ([]LogFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write access logs: %w", err)
	}
	var out []LogFile
	for _, w := range m.logWorkloads() {
		f, err := m.writeLog(dir, w, o)
		if err != nil {
			return nil, fmt.Errorf("write access log of %s: %w", w.ref(), err)
		}
		if f.Lines > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// logWorkload is a workload whose proxies write a log: the gateway (s nil)
// or a version of a service, with its pods' IPs and the edges it ends.
type logWorkload struct {
	s       *service
	version string
	pods    [2]string
	out, in []*edge
}

func (w *logWorkload) ref() string {
	if w.s == nil {
		return IngressGateway
	}
	return w.s.nsName + "/" + w.s.name + "-" + w.version
}

// logWorkloads lists the gateway, then every service's versions in order.
func (m *Mesh) logWorkloads() []*logWorkload {
	gw := &logWorkload{pods: podIPs(0)}
	ws := []*logWorkload{gw}
	by := map[string]*logWorkload{}
	for _, s := range m.svcs {
		for i, v := range []string{"v1", "v2"} {
			if v == "v2" && !s.v2 {
				continue
			}
			w := &logWorkload{s: s, version: v, pods: podIPs(1 + 2*s.idx + i)}
			by[w.ref()] = w
			ws = append(ws, w)
		}
	}
	for _, e := range m.edges {
		switch e.from {
		case fromGateway:
			gw.out = append(gw.out, e)
		case fromService:
			w := by[e.src.nsName+"/"+e.src.name+"-"+e.srcVersion]
			w.out = append(w.out, e)
		}
		w := by[e.dst.nsName+"/"+e.dst.name+"-"+e.dstVersion]
		w.in = append(w.in, e)
	}
	return ws
}

// podIPs gives workload i (0 the gateway) two pods in 10.244.0.0/16.
func podIPs(i int) [2]string {
	var out [2]string
	for r := range out {
		p := 2*i + r
		out[r] = fmt.Sprintf("10.244.%d.%d", p/250, p%250+1)
	}
	return out
}

// clusterIP is service s's ClusterIP, in 10.96.0.0/16.
func clusterIP(s *service) string { return fmt.Sprintf("10.96.%d.%d", s.idx/250, s.idx%250+1) }

// logReq is one logged request (TCP: connection), as both ends saw it.
type logReq struct {
	at         int64   // the caller's START_TIME, Unix nanoseconds
	dur        float64 // milliseconds
	kind       uint8   // okStream, errStream, uoStream, tcpStream
	plain      bool
	srcPod     uint8
	dstPod     uint8
	peer       uint8 // the outside caller or the gateway's client
	get        bool
	upPort     uint16 // the caller proxy's port towards the server
	appPort    uint16 // the caller app's port towards its proxy
	inPort     uint16 // the server proxy's port towards its app
	lag        int32  // microseconds from the caller's start to the server's
	recv, sent uint32
	id0, id1   uint64
}

// logEntry is a request as one end logs it.
type logEntry struct {
	at      int64
	e       *edge
	r       *logReq
	inbound bool
}

func (m *Mesh) writeLog(dir string, w *logWorkload, o AccessLogOptions) (LogFile, error) {
	var entries []logEntry
	window := m.End.Sub(m.Start)
	for _, set := range []struct {
		edges   []*edge
		inbound bool
	}{{w.out, false}, {w.in, true}} {
		for _, e := range set.edges {
			reqs := m.logRequests(e, logShare(e.dst.rate, window, o))
			for i := range reqs {
				r := &reqs[i]
				if set.inbound && r.kind == uoStream {
					continue // the caller's proxy answered it
				}
				at := r.at
				if set.inbound {
					at += int64(r.lag) * int64(time.Microsecond)
				}
				entries = append(entries, logEntry{at: at, e: e, r: r, inbound: set.inbound})
			}
		}
	}
	f := LogFile{Path: filepath.Join(dir, logName(w)), Workload: w.ref()}
	if len(entries) == 0 {
		return f, nil
	}
	slices.SortStableFunc(entries, func(a, b logEntry) int { return cmpInt64(a.at, b.at) })
	return f, m.writeEntries(&f, w, entries)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func logName(w *logWorkload) string {
	if w.s == nil {
		return "istio-system.istio-ingressgateway.log"
	}
	return w.s.nsName + "." + w.s.name + "-" + w.version + ".log"
}

func (m *Mesh) writeEntries(f *LogFile, w *logWorkload, entries []logEntry) error {
	file, err := os.Create(f.Path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(file, 1<<20)
	var b []byte
	for _, le := range entries {
		b = appendEntry(b[:0], w, le)
		f.Lines++
		f.Bytes += int64(len(b))
		if _, err := bw.Write(b); err != nil {
			file.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// logRequests draws the logged requests of an edge, share of them all.
// The same edge and share give the same requests, for both ends.
func (m *Mesh) logRequests(e *edge, share float64) []logReq {
	rng := rand.New(rand.NewPCG(m.seed^0x5ca1ab1e, mix(e.id^0xacce55)))
	var out []logReq
	n := int(m.End.Sub(m.Start) / m.Scrape)
	for k := 1; k <= n; k++ {
		lo := m.Start.Add(time.Duration(k-1) * m.Scrape)
		hi := lo.Add(m.Scrape)
		perSec := e.rate * share * (1 + noise*(2*m.unit(3, e.id, uint64(k))-1))
		base := e.dst.errRatio * (1 + ratioJitter*(2*m.unit(1, uint64(e.dst.idx), uint64(k))-1))
		cuts := burstCuts(e.dst.bursts, lo, hi)
		for i := 0; i+1 < len(cuts); i++ {
			a, b := cuts[i], cuts[i+1]
			ratio := base
			if r, ok := burstAt(e.dst.bursts, a); ok {
				ratio = r
			}
			out = spanRequests(rng, e, a, b, perSec*b.Sub(a).Seconds(), ratio, out)
		}
	}
	drawDurations(rng, e.dst, out)
	return out
}

// burstCuts splits [lo, hi) at the bounds of bursts inside it.
func burstCuts(bursts []Burst, lo, hi time.Time) []time.Time {
	cuts := []time.Time{lo}
	for _, b := range bursts {
		for _, t := range []time.Time{b.Start, b.End} {
			if t.After(lo) && t.Before(hi) {
				cuts = append(cuts, t)
			}
		}
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	return append(cuts, hi)
}

func burstAt(bursts []Burst, t time.Time) (float64, bool) {
	for _, b := range bursts {
		if !t.Before(b.Start) && t.Before(b.End) {
			return b.Ratio, true
		}
	}
	return 0, false
}

// spanRequests adds the requests of [a, b): x expected in all, split by
// the error ratio, the plaintext share and the overflow ratio.
func spanRequests(rng *rand.Rand, e *edge, a, b time.Time, x, ratio float64, out []logReq) []logReq {
	add := func(expect float64, kind uint8, plain bool) {
		for range roundRandom(rng, expect) {
			out = append(out, newLogReq(rng, a, b, kind, plain))
		}
	}
	if e.dst.tcp {
		add(x, tcpStream, e.from == fromOutside)
		return out
	}
	p := 0.0 // plaintext share
	switch {
	case e.from == fromOutside:
		p = 1
	case e.from == fromService:
		p = e.dst.plaintext
	}
	add(x*(1-p)*(1-ratio), okStream, false)
	add(x*(1-p)*ratio, errStream, false)
	add(x*p*(1-ratio), okStream, true)
	add(x*p*ratio, errStream, true)
	if e.from != fromOutside && e.dst.defect == DefectOverflow {
		add(x*overflowRatio/(1-overflowRatio), uoStream, false)
	}
	return out
}

// roundRandom rounds x down or up, up with the probability of its
// fraction.
func roundRandom(rng *rand.Rand, x float64) int {
	n := math.Floor(x)
	if rng.Float64() < x-n {
		n++
	}
	return int(n)
}

func newLogReq(rng *rand.Rand, a, b time.Time, kind uint8, plain bool) logReq {
	r := logReq{
		at:     a.UnixNano() + rng.Int64N(int64(b.Sub(a))),
		kind:   kind,
		plain:  plain,
		srcPod: uint8(rng.IntN(2)), dstPod: uint8(rng.IntN(2)), peer: uint8(rng.IntN(200)),
		get:    rng.Float64() < 0.8,
		upPort: uint16(32768 + rng.IntN(28000)), appPort: uint16(32768 + rng.IntN(28000)),
		inPort: uint16(32768 + rng.IntN(28000)),
		lag:    int32(100 + rng.IntN(900)),
		id0:    rng.Uint64(), id1: rng.Uint64(),
	}
	switch kind {
	case okStream:
		r.sent = uint32(200 + rng.IntN(8000))
	case errStream:
		r.sent = uint32(19 + rng.IntN(60))
	case uoStream:
		r.sent = 81 // "upstream connect error or disconnect/reset before headers. reset reason: overflow"
	}
	if !r.get && kind != tcpStream {
		r.recv = uint32(100 + rng.IntN(2000))
	}
	return r
}

// drawDurations gives each request its duration: the HTTP requests that
// reached the server one draw of the log-normal from each of their equal-
// probability strata, in random order; TCP connections about connLife.
func drawDurations(rng *rand.Rand, s *service, reqs []logReq) {
	var served []int
	for i := range reqs {
		switch r := &reqs[i]; r.kind {
		case tcpStream:
			r.dur = connLife * 1000 * (0.5 + rng.Float64())
			r.recv = uint32(s.recvPerConn * (0.5 + rng.Float64()))
			r.sent = uint32(s.sentPerConn * (0.5 + rng.Float64()))
		case uoStream:
			r.dur = 0 // a local reply of the caller's proxy
		default:
			served = append(served, i)
		}
	}
	n := float64(len(served))
	for j, stratum := range rng.Perm(len(served)) {
		reqs[served[j]].dur = s.lat.Quantile((float64(stratum) + rng.Float64()) / n)
	}
}

// appendEntry writes one line of DefaultTextFormat as the proxies of w log
// the request: its inbound entry, or its outbound one.
func appendEntry(b []byte, w *logWorkload, le logEntry) []byte {
	e, r := le.e, le.r
	b = append(b, '[')
	b = time.Unix(0, le.at).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, "] "...)
	if r.kind == tcpStream {
		return appendTCP(b, w, le)
	}
	method := "POST"
	if r.get {
		method = "GET"
	}
	b = append(b, '"')
	b = append(b, method...)
	b = append(b, " /v1/items HTTP/1.1\" "...)
	code, flags, details := 200, "-", "via_upstream"
	switch r.kind {
	case errStream:
		code = e.dst.errCode
	case uoStream:
		code, flags, details = 503, "UO", "upstream_reset_before_response_started{overflow}"
	}
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, flags...)
	b = append(b, ' ')
	b = append(b, details...)
	b = append(b, ` - "-" `...)
	b = strconv.AppendUint(b, uint64(r.recv), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.sent), 10)
	b = append(b, ' ')
	// Envoy truncates DURATION to whole milliseconds.
	ms := int64(r.dur)
	b = strconv.AppendInt(b, ms, 10)
	if r.kind == uoStream {
		b = append(b, " -"...)
	} else {
		b = append(b, ' ')
		b = strconv.AppendInt(b, ms, 10)
	}
	b = appendQuoted(b, forwardedFor(e, r))
	b = appendQuoted(b, userAgent(e))
	b = appendQuoted(b, requestID(r))
	b = appendQuoted(b, authority(e))
	b = appendQuoted(b, hostPort(dstPod(e, r), 8080))
	return appendAddresses(b, w, le, "default")
}

func appendTCP(b []byte, w *logWorkload, le logEntry) []byte {
	r := le.r
	b = append(b, `"- - -" 0 - - - "-" `...)
	b = strconv.AppendUint(b, uint64(r.recv), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.sent), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.dur), 10)
	b = append(b, ` - "-" "-" "-" "-"`...)
	b = appendQuoted(b, hostPort(dstPod(le.e, r), 8080))
	return appendAddresses(b, w, le, "-")
}

// appendAddresses writes the fields from UPSTREAM_CLUSTER to ROUTE_NAME
// and the line's end.
func appendAddresses(b []byte, w *logWorkload, le logEntry, route string) []byte {
	e, r := le.e, le.r
	src := hostPort(srcIP(e, r), r.upPort)
	fields := []string{
		"inbound|8080||", hostPort("127.0.0.6", r.inPort), hostPort(dstPod(e, r), 8080), src, sni(e, r), route,
	}
	if !le.inbound {
		local := src
		if r.kind == uoStream {
			local = "-" // no upstream connection was made
		}
		downstream := hostPort(clusterIP(e.dst), 8080)
		remote := hostPort(srcIP(e, r), r.appPort)
		if e.from == fromGateway {
			downstream = hostPort(w.pods[r.srcPod], 8080)
			remote = hostPort(clientIP(r), r.appPort)
			route = "-"
		}
		fields = []string{"outbound|8080|" + subset(e) + "|" + e.dst.fqdn(), local, downstream, remote, "-", route}
	}
	for _, f := range fields {
		b = append(b, ' ')
		b = append(b, f...)
	}
	return append(b, '\n')
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, ' ', '"')
	b = append(b, s...)
	return append(b, '"')
}

func hostPort(ip string, port uint16) string { return ip + ":" + strconv.Itoa(int(port)) }

// subset is the DestinationRule subset the caller's route sends e to.
func subset(e *edge) string {
	if e.dst.v2 {
		return e.dstVersion
	}
	return ""
}

// sni is the server's REQUESTED_SERVER_NAME: Istio's mTLS SNI, or none.
func sni(e *edge, r *logReq) string {
	if r.plain {
		return "-"
	}
	return "outbound_.8080_." + subset(e) + "_." + e.dst.fqdn()
}

func dstPod(e *edge, r *logReq) string {
	return podIPs(1 + 2*e.dst.idx + versionIndex(e.dstVersion))[r.dstPod]
}

func versionIndex(v string) int {
	if v == "v2" {
		return 1
	}
	return 0
}

// srcIP is the caller's address: a pod of the calling workload, of the
// gateway, or one of four hosts outside the mesh.
func srcIP(e *edge, r *logReq) string {
	switch e.from {
	case fromOutside:
		return fmt.Sprintf("192.168.%d.%d", 1+e.dst.idx%250, 10+int(r.peer)%4)
	case fromGateway:
		return podIPs(0)[r.srcPod]
	}
	return podIPs(1 + 2*e.src.idx + versionIndex(e.srcVersion))[r.srcPod]
}

// clientIP is the address of a client of the ingress gateway.
func clientIP(r *logReq) string { return "203.0.113." + strconv.Itoa(1+int(r.peer)) }

func forwardedFor(e *edge, r *logReq) string {
	if e.from == fromGateway {
		return clientIP(r)
	}
	return "-"
}

func userAgent(e *edge) string {
	switch e.from {
	case fromGateway:
		return "Mozilla/5.0"
	case fromOutside:
		return "python-requests/2.31.0"
	}
	return "Go-http-client/1.1"
}

// authority is the :authority the caller sent: the gateway's host, the
// short name in its own namespace, NAME.NAMESPACE from another, the FQDN
// from outside the mesh.
func authority(e *edge) string {
	switch e.from {
	case fromGateway:
		return e.dst.nsName + ".example.com"
	case fromOutside:
		return e.dst.fqdn() + ":8080"
	}
	if e.src.nsName == e.dst.nsName {
		return e.dst.name + ":8080"
	}
	return e.dst.name + "." + e.dst.nsName + ":8080"
}

// requestID formats the request's ID as Envoy's UUID4.
func requestID(r *logReq) string {
	const hex = "0123456789abcdef"
	var b [36]byte
	bits := [2]uint64{r.id0, r.id1}
	j := 0
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
			continue
		case 14:
			b[i] = '4'
			continue
		}
		b[i] = hex[bits[j/16]>>(4*(j%16))&0xf]
		if i == 19 {
			b[i] = hex[8+bits[j/16]>>(4*(j%16))&0x3]
		}
		j++
	}
	return string(b[:])
}
