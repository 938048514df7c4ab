package accesslog

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// defaultDomain is Kubernetes' default cluster domain, used to qualify
// short service names when no outbound FQDN showed another.
const defaultDomain = "cluster.local"

// maxSteps bounds the length of the profiles.
const maxSteps = 10_000

// graph names the peers and services of the aggregates and fills a
// builder with them.
func (r *reader) graph(source string) *telemetry.Graph {
	step := r.step()
	start, end := r.first, r.last.Add(step)
	b := telemetry.NewBuilder(start, end, step)
	domain := r.domain()
	keys := make([]telemetry.Key, len(r.edges))
	chosen := map[telemetry.Key]int{}
	for i, re := range r.edges {
		k := r.key(re, domain)
		keys[i] = k
		rep := re.kind.reporter()
		for f, n := range re.reqs {
			b.AddRequests(k, rep, f.protocol, f.code, f.flags, re.security, n)
		}
		if re.latency.Count() > 0 {
			e := b.Edge(k, rep)
			e.Latency = e.Latency.Merge(re.latency)
		}
		if re.tcp != (telemetry.TCP{}) {
			t := &b.Edge(k, rep).TCP
			t.BytesReceived += re.tcp.BytesReceived
			t.BytesSent += re.tcp.BytesSent
			t.ConnectionsOpened += re.tcp.ConnectionsOpened
			t.ConnectionsClosed += re.tcp.ConnectionsClosed
			b.AddSecurity(k, rep, re.security, re.tcp.ConnectionsOpened)
		}
		if len(re.reqs) > 0 {
			if c, ok := chosen[k]; !ok || re.kind.rank() < c {
				chosen[k] = re.kind.rank()
			}
		}
	}
	r.profiles(b, keys, chosen, int(end.Sub(start)/step), step)
	r.conflictNotice()
	for _, n := range r.notices {
		b.Noticef("%s", n)
	}
	return b.Graph(source)
}

// step is Options.Step, else the logs' span over 60 rounded to a minute,
// at least a minute.
func (r *reader) step() time.Duration {
	span := r.last.Sub(r.first)
	if s := r.opts.Step; s > 0 {
		if span/s < maxSteps {
			return s
		}
		// A stray START_TIME years away must not make a profile of
		// millions of steps.
		wider := (span/maxSteps + time.Minute).Truncate(time.Minute)
		r.notices = append(r.notices, fmt.Sprintf("access logs: the logs span %s, too long for steps of %s: profiles use steps of %s", span, s, wider))
		return wider
	}
	s := (span / 60).Round(time.Minute)
	return max(s, time.Minute)
}

// profiles counts each request into its service's profile once: from the
// reporter the builder picks for its edge, so that a call logged at both
// ends is not counted twice.
func (r *reader) profiles(b *telemetry.Builder, keys []telemetry.Key, chosen map[telemetry.Key]int, steps int, step time.Duration) {
	touched := map[*telemetry.Profile]bool{}
	for _, s := range r.samples {
		re, k := r.edges[s.edge], keys[s.edge]
		if re.kind.rank() != chosen[k] {
			continue
		}
		p := b.Profile(k.Service)
		i := b.ProfileIndex(time.Unix(0, s.at))
		if i < 0 || i >= steps || i >= len(p.Totals) {
			continue
		}
		p.Totals[i]++
		if s.err {
			p.Errors[i]++
		}
		touched[p] = true
	}
	// The builder sizes profiles for points at both ends of the window;
	// steps of the log's window are one fewer, and counts become rates.
	sec := step.Seconds()
	for p := range touched {
		n := min(steps, len(p.Totals))
		p.Totals, p.Errors = p.Totals[:n], p.Errors[:n]
		for i := range n {
			p.Totals[i] /= sec
			p.Errors[i] /= sec
		}
	}
}

func (r *reader) conflictNotice() {
	var ips []string
	for ip, w := range r.ips {
		if w == conflict {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		return
	}
	sort.Strings(ips)
	r.notices = append(r.notices, fmt.Sprintf("access logs: proxies of different workloads used the same pod IP (%s), a pod IP reused over the logs' time: calls from and to it are attributed only through the mesh snapshot", strings.Join(ips, ", ")))
}

// domain is the cluster domain the outbound FQDNs use most.
func (r *reader) domain() string {
	best, n := defaultDomain, 0
	for d, c := range r.domains {
		if c > n || c == n && d < best {
			best, n = d, c
		}
	}
	return best
}

func (r *reader) key(re *rawEdge, domain string) telemetry.Key {
	var w telemetry.Workload
	if re.writer >= 0 {
		w = r.writers[re.writer]
	}
	switch re.kind {
	case inbound:
		return telemetry.Key{Source: orUnknown(r.peer(re.src)), Service: r.inboundService(re, w.Namespace, domain), Destination: w}
	case waypoint:
		return telemetry.Key{Source: orUnknown(r.peer(re.src)), Service: r.service(re.host, "", domain), Destination: r.peer(re.dst)}
	}
	return telemetry.Key{Source: orUnknown(w), Service: r.service(re.host, "", domain), Destination: r.peer(re.dst)}
}

func orUnknown(w telemetry.Workload) telemetry.Workload {
	if !w.Known() {
		return telemetry.Workload{Name: telemetry.Unknown}
	}
	return w
}

// peer names the workload of a pod IP: from the mesh snapshot, else from
// the logs of its own proxy; zero when neither knows it.
func (r *reader) peer(ip string) telemetry.Workload {
	if w, ok := r.ipWorkload(ip); ok {
		return w
	}
	if i, ok := r.ips[ip]; ok && i >= 0 {
		return r.writers[i]
	}
	return telemetry.Workload{}
}

// inboundService names the service a call into a workload of namespace ns
// was made to: the host of its mTLS SNI or inbound cluster; else its
// :authority if that names a service of the mesh; else the service the
// callers in the logs named when calling the same pod endpoint; else the
// :authority as it is.
func (r *reader) inboundService(re *rawEdge, ns, domain string) telemetry.Service {
	if re.host != "" {
		return r.service(re.host, ns, domain)
	}
	var s telemetry.Service
	if re.authority != "" {
		s = r.service(re.authority, ns, domain)
		if s.Namespace != "" {
			return s
		}
	}
	if host := r.endpoints[re.local]; host != "" {
		return r.service(host, "", domain)
	}
	if re.authority != "" {
		return s
	}
	return telemetry.Service{Cluster: r.opts.Cluster, Name: telemetry.Unknown}
}

// service names the service of host. ns, when set, is the namespace of
// the workload that was called: a short name ("reviews", "reviews.shop")
// is that namespace's service, as the caller's DNS resolved it.
func (r *reader) service(host, ns, domain string) telemetry.Service {
	fq := qualify(host, ns, domain)
	if r.opts.ServiceOf != nil {
		for _, h := range []string{fq, host} {
			if h == "" {
				continue
			}
			if s, ok := r.opts.ServiceOf(h); ok && s.Name != "" {
				if s.Cluster == "" {
					s.Cluster = r.opts.Cluster
				}
				return s
			}
		}
	}
	if fq != "" {
		host = fq
	}
	labels := strings.Split(host, ".")
	if len(labels) >= 3 && labels[2] == "svc" && labels[0] != "" && labels[1] != "" && net.ParseIP(host) == nil {
		return telemetry.Service{Cluster: r.opts.Cluster, Namespace: labels[1], Name: labels[0], Host: host}
	}
	return telemetry.Service{Cluster: r.opts.Cluster, Name: host, Host: host}
}

// qualify gives the FQDN of a short service name seen in namespace ns:
// NAME, NAME.NS and NAME.NS.svc; "" for anything else.
func qualify(host, ns, domain string) string {
	if ns == "" || host == "" || net.ParseIP(host) != nil {
		return ""
	}
	labels := strings.Split(host, ".")
	switch {
	case len(labels) == 1:
		return host + "." + ns + ".svc." + domain
	case len(labels) == 2 && labels[1] == ns:
		return host + ".svc." + domain
	case len(labels) == 3 && labels[1] == ns && labels[2] == "svc":
		return host + "." + domain
	}
	return ""
}
