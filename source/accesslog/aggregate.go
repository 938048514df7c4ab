package accesslog

import (
	"net"
	"strings"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// reader reads log files into compact aggregates: the window, and so the
// builder, is only known once every file is read, and peers are named
// with pod IPs learned from all of them. Memory grows with the number of
// distinct (proxy, service, peer) combinations, plus 16 bytes per HTTP
// request for the profiles — never with the size of the lines.
type reader struct {
	opts    Options
	notices []string
	skipped int
	// entries counts the entries read; empty holds, for their notices,
	// the files that had none (idle proxies).
	entries int
	empty   []string

	writers   []telemetry.Workload // the proxies' workloads, by index
	writerIdx map[telemetry.Workload]int32
	edges     []*rawEdge
	edgeIdx   map[rawKey]int32
	samples   []sample
	strs      map[string]string

	first, last time.Time

	// learned from the logs
	ips       map[string]int32  // pod IP -> writer; conflict when two writers claim it
	endpoints map[string]string // ip:port -> host outbound calls to it named; "" on conflict
	domains   map[string]int    // cluster domains of outbound FQDNs

	// lookups, cached
	podCache map[[2]string]int32
	ipCache  map[string]lookup
}

type lookup struct {
	w  telemetry.Workload
	ok bool
}

const (
	unknownWriter int32 = -1
	conflict      int32 = -2
)

// kind is what an entry's upstream cluster says the call was.
type kind uint8

const (
	outbound kind = iota // outbound|PORT|SUBSET|HOST: the proxy called HOST
	inbound              // inbound|PORT|| or InboundPassthroughCluster: the proxy's workload was called
	waypoint             // inbound-vip|PORT|PROTO|HOST: an ambient waypoint relayed a call to HOST
	external             // PassthroughCluster, BlackHoleCluster, none: the proxy called outside the registry
)

func (k kind) reporter() string {
	switch k {
	case inbound:
		return telemetry.ReporterDestination
	case waypoint:
		return telemetry.ReporterWaypoint
	}
	return telemetry.ReporterSource
}

// rank orders reporters as telemetry.Builder prefers them.
func (k kind) rank() int {
	switch k {
	case inbound:
		return 2
	case waypoint:
		return 1
	}
	return 0
}

// rawKey is an edge before its peers and service are named.
type rawKey struct {
	writer    int32
	kind      kind
	security  string
	host      string // from the cluster name or the mTLS SNI; the external host
	authority string // inbound without host
	local     string // inbound without host: the ip:port that took the call
	src, dst  string // peer IPs
}

type rawEdge struct {
	rawKey
	reqs    map[reqFig]float64
	latency telemetry.Histogram
	tcp     telemetry.TCP
}

type reqFig struct {
	protocol string
	code     int
	flags    string
}

// sample is one HTTP request, for the profiles.
type sample struct {
	at   int64 // START_TIME, Unix nanoseconds
	edge int32
	err  bool // 5xx
}

func newReader(opts Options) *reader {
	return &reader{
		opts:      opts,
		writerIdx: map[telemetry.Workload]int32{},
		edgeIdx:   map[rawKey]int32{},
		strs:      map[string]string{},
		ips:       map[string]int32{},
		endpoints: map[string]string{},
		domains:   map[string]int{},
		podCache:  map[[2]string]int32{},
		ipCache:   map[string]lookup{},
	}
}

// intern keeps one copy of each string, detached from the line it was cut
// from.
func (r *reader) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := r.strs[s]; ok {
		return v
	}
	s = strings.Clone(s)
	r.strs[s] = s
	return s
}

func (r *reader) add(e *entry, pod string, in Input, fs *fileStats) {
	k, host, ok := classify(e)
	if !ok {
		fs.ignored[r.intern(e.UpstreamCluster)]++
		return
	}
	local := ipOf(e.UpstreamLocal)
	if k == inbound {
		local = ipOf(e.DownstreamLocal)
	}
	w := r.writer(in, pod, local, k)
	if w == unknownWriter && k != waypoint {
		fs.anonymous++
	}
	if w >= 0 && k != waypoint {
		r.learnIP(local, w)
	}
	rk := rawKey{writer: w, kind: k, security: telemetry.Unknown}
	switch k {
	case outbound:
		rk.host, rk.dst = r.intern(host), r.intern(ipOf(e.UpstreamHost))
		r.learnEndpoint(e.UpstreamHost, rk.host)
		if d := domainOf(host); d != "" {
			r.domains[r.intern(d)]++
		}
	case external:
		fs.external[externalLabel(e)]++
		rk.host, rk.dst = r.intern(externalHost(e)), r.intern(ipOf(e.UpstreamHost))
	case waypoint:
		rk.host, rk.src, rk.dst = r.intern(host), r.intern(ipOf(e.DownstreamRemote)), r.intern(ipOf(e.UpstreamHost))
	case inbound:
		rk.security = telemetry.None
		if sni, ok := strings.CutPrefix(e.ServerName, "outbound_."); ok {
			rk.security = telemetry.MutualTLS
			if h := sniHost(sni); h != "" {
				host = h
			}
		}
		rk.host, rk.src = r.intern(strings.ToLower(host)), r.intern(ipOf(e.DownstreamRemote))
		if host == "" {
			rk.authority, rk.local = r.intern(hostOf(e.Authority)), r.intern(e.DownstreamLocal)
		}
	}
	r.count(e, rk)
}

func (r *reader) count(e *entry, rk rawKey) {
	i, ok := r.edgeIdx[rk]
	if !ok {
		i = int32(len(r.edges))
		r.edges = append(r.edges, &rawEdge{rawKey: rk})
		r.edgeIdx[rk] = i
	}
	re := r.edges[i]
	if r.first.IsZero() || e.Start.Before(r.first) {
		r.first = e.Start
	}
	if e.Start.After(r.last) {
		r.last = e.Start
	}
	if e.tcp() {
		re.tcp.BytesReceived += float64(e.BytesReceived)
		re.tcp.BytesSent += float64(e.BytesSent)
		re.tcp.ConnectionsOpened++
		re.tcp.ConnectionsClosed++
		return
	}
	if re.reqs == nil {
		re.reqs = map[reqFig]float64{}
	}
	re.reqs[reqFig{protocol: e.protocol(), code: e.Code, flags: r.intern(e.Flags)}]++
	if e.Duration >= 0 && !telemetry.Failed(e.Code) {
		// Latency is of the responses that did not fail, as the
		// Prometheus source reads it (see telemetry.Edge.Latency).
		// Envoy writes DURATION truncated to whole milliseconds: a logged
		// d stands for [d, d+1), observed at its middle. Taken as d, every
		// observation would be up to 1ms low (a p99 of 11ms read 9% low).
		re.latency.Observe(e.Duration + 0.5)
	}
	r.samples = append(r.samples, sample{at: e.Start.UnixNano(), edge: i, err: e.Code >= 500 && e.Code <= 599})
}

// classify reads the upstream cluster. ok is false for clusters that carry
// no service traffic (the agent's health checks, stats).
func classify(e *entry) (k kind, host string, ok bool) {
	c := e.UpstreamCluster
	switch {
	case strings.HasPrefix(c, "outbound|"):
		h := clusterHost(c)
		return outbound, h, h != ""
	case strings.HasPrefix(c, "inbound|"):
		return inbound, clusterHost(c), true
	case strings.HasPrefix(c, "inbound-vip|"):
		h := clusterHost(c)
		return waypoint, h, h != ""
	case strings.HasPrefix(c, "InboundPassthroughCluster"):
		return inbound, "", true
	case c == "PassthroughCluster", c == "BlackHoleCluster", c == "":
		return external, "", true
	}
	return 0, "", false
}

// clusterHost gives HOST of DIRECTION|PORT|SUBSET|HOST.
func clusterHost(c string) string {
	parts := strings.SplitN(c, "|", 4)
	if len(parts) < 4 {
		return ""
	}
	return strings.ToLower(parts[3])
}

// sniHost gives HOST of the SNI Istio's mTLS clients send,
// outbound_.PORT_.SUBSET_.HOST, without its "outbound_." prefix.
func sniHost(sni string) string {
	parts := strings.SplitN(sni, "_.", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

func externalLabel(e *entry) string {
	switch {
	case e.UpstreamCluster != "":
		return e.UpstreamCluster
	case e.Route == "block_all":
		return "BlackHoleCluster"
	}
	return "no upstream cluster"
}

// externalHost names the destination of a call outside the registry: its
// :authority, else its TLS SNI, else the cluster it went to.
func externalHost(e *entry) string {
	if h := hostOf(e.Authority); h != "" {
		return h
	}
	if e.ServerName != "" {
		return strings.ToLower(e.ServerName)
	}
	if e.UpstreamCluster != "" {
		return e.UpstreamCluster
	}
	return telemetry.Unknown
}

// hostOf strips the port from an :authority.
func hostOf(authority string) string {
	if h, _, err := net.SplitHostPort(authority); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(strings.Trim(authority, "[]"))
}

// ipOf strips the port from an address; "" when it is not an IP.
func ipOf(addr string) string {
	h := addr
	if hh, _, err := net.SplitHostPort(addr); err == nil {
		h = hh
	}
	if net.ParseIP(h) == nil {
		return ""
	}
	return h
}

// domainOf gives DOMAIN of NAME.NAMESPACE.svc.DOMAIN.
func domainOf(host string) string {
	labels := strings.SplitN(host, ".", 4)
	if len(labels) == 4 && labels[2] == "svc" {
		return labels[3]
	}
	return ""
}

// writer finds the workload of the proxy that wrote an entry: the one the
// input names, else its pod's (from kubectl logs --prefix), else that of
// the proxy's own address.
func (r *reader) writer(in Input, pod, local string, k kind) int32 {
	if in.Workload.Known() {
		return r.writerIndex(in.Workload)
	}
	if pod != "" && r.opts.PodWorkload != nil {
		key := [2]string{in.Workload.Namespace, pod}
		i, ok := r.podCache[key]
		if !ok {
			i = unknownWriter
			if w, found := r.opts.PodWorkload(in.Workload.Namespace, pod); found && w.Known() {
				i = r.writerIndex(w)
			}
			r.podCache[r.internKey(key)] = i
		}
		if i != unknownWriter {
			return i
		}
	}
	if k == waypoint {
		return unknownWriter
	}
	if w, ok := r.ipWorkload(local); ok {
		return r.writerIndex(w)
	}
	return unknownWriter
}

func (r *reader) internKey(k [2]string) [2]string {
	return [2]string{r.intern(k[0]), r.intern(k[1])}
}

func (r *reader) writerIndex(w telemetry.Workload) int32 {
	w = r.inCluster(w)
	if i, ok := r.writerIdx[w]; ok {
		return i
	}
	w = telemetry.Workload{Cluster: r.intern(w.Cluster), Namespace: r.intern(w.Namespace), Name: r.intern(w.Name)}
	i := int32(len(r.writers))
	r.writers = append(r.writers, w)
	r.writerIdx[w] = i
	return i
}

func (r *reader) inCluster(w telemetry.Workload) telemetry.Workload {
	if w.Cluster == "" && w.Known() {
		w.Cluster = r.opts.Cluster
	}
	return w
}

func (r *reader) ipWorkload(ip string) (telemetry.Workload, bool) {
	if ip == "" || r.opts.IPWorkload == nil {
		return telemetry.Workload{}, false
	}
	l, ok := r.ipCache[ip]
	if !ok {
		l.w, l.ok = r.opts.IPWorkload(ip)
		l.ok = l.ok && l.w.Known()
		r.ipCache[r.intern(ip)] = l
	}
	return r.inCluster(l.w), l.ok
}

// learnIP records that the proxy of writer w has the address ip.
func (r *reader) learnIP(ip string, w int32) {
	if ip == "" || net.ParseIP(ip).IsLoopback() {
		return
	}
	if old, ok := r.ips[ip]; ok {
		if old != w && old != conflict {
			r.ips[ip] = conflict
		}
		return
	}
	r.ips[r.intern(ip)] = w
}

// learnEndpoint records that callers reached the pod endpoint ip:port as
// host, to name the service of calls into it that carry neither an mTLS
// SNI nor an :authority naming a mesh service.
func (r *reader) learnEndpoint(endpoint, host string) {
	if endpoint == "" || host == "" {
		return
	}
	if old, ok := r.endpoints[endpoint]; ok {
		if old != host {
			r.endpoints[endpoint] = ""
		}
		return
	}
	r.endpoints[r.intern(endpoint)] = host
}
