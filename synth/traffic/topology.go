package traffic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Rules of the planted defects.
const (
	failureRatio    = 0.20  // b
	overflowRatio   = 0.02  // c, of the callers' source-reported requests
	spikeBase       = 0.002 // d
	spikeRatio      = 0.25  // d
	spikeLength     = 5 * time.Minute
	plaintextRatio  = 0.30 // e
	outsideRatio    = 0.05 // g
	amplifyAttempts = 3    // b, h
	maxHealthyError = 0.004
	perTryFactor    = 2.0 // healthy per-try timeout over the true p99.9
	spikeMinWindow  = 30 * time.Minute
	crossNamespace  = 0.2 // share of leaves with a caller in another namespace
	v2Share         = 0.2 // share of healthy HTTP services with a v2
)

const healthyRetryOn = "connect-failure,refused-stream,unavailable"

// service is a service under construction.
type service struct {
	idx, ns, pos int
	name, nsName string
	role         Role
	defect       Defect
	tcp          bool
	v2           bool    // has a <svc>-v2 Deployment
	v2Ratio      float64 // share of its requests served by v2
	lat          LogNormal
	errRatio     float64
	errCode      int
	bursts       []Burst
	plaintext    float64
	attempts     int
	timeout      time.Duration
	perTry       time.Duration
	retryOn      string
	callers      []*call // in-mesh callers and the gateway
	calls        []*call
	gatewayRate  float64 // requests/s from the ingress gateway (entries)
	originRate   float64 // requests/s a worker makes
	outsideRate  float64
	rate         float64 // requests (TCP: connections) per second reaching it
	sentPerConn  float64
	recvPerConn  float64
	chain        []*service // s1..s4 of an amplification chain, on s2
	depthIn      int        // longest call path ending here, in hops
	depthOut     int        // longest call path starting here, in hops
}

func (s *service) ref() string  { return s.nsName + "/" + s.name }
func (s *service) fqdn() string { return s.name + "." + s.nsName + ".svc.cluster.local" }

// call is a caller's calls to a service: fanout is the callee's requests
// per request of the caller (TCP: connections).
type call struct {
	from, to *service
	fanout   float64
}

// topology builds the services, their calls and the edges of telemetry.
type topology struct {
	o       Options
	rng     *rand.Rand
	svcs    []*service
	byNs    [][]*service
	edges   []*edge
	pending []Defect
	// leaves counts the healthy HTTP leaves profiled, for SlowEvery.
	leaves int
}

func newTopology(o Options) *topology {
	return &topology{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
}

func nsName(n int) string { return fmt.Sprintf("team-%03d", n) }

func (t *topology) build() {
	o := t.o
	nsCount := (o.Services + o.PerNamespace - 1) / o.PerNamespace
	t.byNs = make([][]*service, nsCount)
	for i := 0; i < o.Services; i++ {
		n := i / o.PerNamespace
		s := &service{idx: i, ns: n, pos: i % o.PerNamespace, name: fmt.Sprintf("svc-%05d", i), nsName: nsName(n)}
		t.svcs = append(t.svcs, s)
		t.byNs[n] = append(t.byNs[n], s)
	}
	for _, ss := range t.byNs {
		t.plant(ss)
		t.assignRoles(ss)
	}
	for _, s := range t.svcs {
		t.profile(s)
	}
	for _, ss := range t.byNs {
		t.wire(ss)
	}
	t.rates()
	t.retries()
	t.buildEdges()
}

func (t *topology) planted(s *service) bool {
	e := t.o.DefectEvery
	return e > 0 && s.idx%e == e-1
}

// plant chooses the defects of a namespace's planted services, and the
// other members of an amplification chain.
func (t *topology) plant(ss []*service) {
	for _, s := range ss {
		if !t.planted(s) {
			continue
		}
		d := t.nextDefect(func(d Defect) bool { return t.fits(d, s, ss) })
		s.defect = d
		if d == DefectRetryChain {
			free := t.free(ss)
			s1, s3, s4 := free[len(free)-3], free[len(free)-2], free[len(free)-1]
			s1.role, s3.role, s4.role, s.role = RoleWorker, RoleChain, RoleChain, RoleChain
			s.chain = []*service{s1, s, s3, s4}
		}
	}
}

// nextDefect takes the first pending kind that fits, refilling the queue
// with a round of all kinds when it is empty or none fits (the timeout
// defect fits every service).
func (t *topology) nextDefect(fits func(Defect) bool) Defect {
	for {
		for i, d := range t.pending {
			if fits(d) {
				t.pending = append(t.pending[:i:i], t.pending[i+1:]...)
				return d
			}
		}
		t.pending = append(t.pending, Defects...)
	}
}

func (t *topology) fits(d Defect, s *service, ss []*service) bool {
	entry := s.pos == 0
	switch d {
	case DefectFailures, DefectPlaintext, DefectOutside:
		return !entry
	case DefectSpikes:
		return t.o.Window >= spikeMinWindow
	case DefectRetryChain:
		return !entry && len(t.free(ss)) >= 3
	}
	return true
}

// free lists the services of a namespace that are neither the entry, nor
// planted, nor in a chain.
func (t *topology) free(ss []*service) []*service {
	var out []*service
	for _, s := range ss {
		if s.pos != 0 && !t.planted(s) && s.role == "" {
			out = append(out, s)
		}
	}
	return out
}

// assignRoles makes the first service the entry, the first third of the
// rest mids and the others leaves; a deterministic-failure service is
// always a leaf. In every second namespace the last healthy leaf is TCP.
func (t *topology) assignRoles(ss []*service) {
	var rest []*service
	for _, s := range ss {
		switch {
		case s.role != "":
		case s.pos == 0:
			s.role = RoleEntry
		default:
			rest = append(rest, s)
		}
	}
	mids := 0
	if len(rest) >= 2 {
		mids = (len(rest) + 2) / 3
	}
	for _, s := range rest {
		if mids > 0 && s.defect != DefectFailures {
			s.role = RoleMid
			mids--
			continue
		}
		s.role = RoleLeaf
	}
	if ss[0].ns%2 != 0 {
		return
	}
	for i := len(ss) - 1; i >= 0; i-- {
		if s := ss[i]; s.role == RoleLeaf && s.defect == "" {
			s.tcp = true
			return
		}
	}
}

// profile draws a service's latency, errors and versions.
func (t *topology) profile(s *service) {
	r := t.rng
	median := math.Exp(math.Log(5) + r.Float64()*math.Log(60.0/5))
	s.lat = LogNormal{Mu: math.Log(median), Sigma: 0.35 + 0.45*r.Float64()}
	s.errRatio = 0.0005 + r.Float64()*(maxHealthyError-0.0005)
	s.errCode = 500 + 3*r.IntN(2)
	vDraw, vShare := r.Float64(), 0.1+0.1*float64(r.IntN(2))
	s.sentPerConn = float64(2048 + r.IntN(62*1024))
	s.recvPerConn = float64(512 + r.IntN(8*1024))
	switch s.defect {
	case "":
		if !s.tcp && s.role != RoleWorker && s.role != RoleChain && vDraw < v2Share {
			s.v2, s.v2Ratio = true, vShare
		}
	case DefectFailures:
		s.errRatio, s.errCode = failureRatio, 503
	case DefectSpikes:
		s.errRatio, s.errCode = spikeBase, 503
		s.bursts = t.bursts()
	case DefectPlaintext:
		s.plaintext = plaintextRatio
	case DefectUnusedSubset:
		s.v2 = true
	}
	// After every draw, so that meshes without slow services are the
	// same as before the option.
	if s.defect == "" && !s.tcp && s.role == RoleLeaf {
		t.leaves++
		if e := t.o.SlowEvery; e > 0 && t.leaves%e == 0 {
			s.lat = LogNormal{Mu: math.Log(slowMedian), Sigma: slowSigma}
		}
	}
}

// The latency of a slow service (Options.SlowEvery), in milliseconds.
const (
	slowMedian = 10000
	slowSigma  = 0.5
)

// bursts places three bursts at 15%, 50% and 80% of the window, on scrape
// boundaries.
func (t *topology) bursts() []Burst {
	start := t.o.End.Add(-t.o.Window)
	var out []Burst
	for _, f := range []float64{0.15, 0.5, 0.8} {
		off := time.Duration(f * float64(t.o.Window))
		at := start.Add(off - off%t.o.Scrape)
		out = append(out, Burst{Start: at, End: at.Add(spikeLength), Ratio: spikeRatio})
	}
	return out
}

// wire draws the calls into a namespace's services.
func (t *topology) wire(ss []*service) {
	r := t.rng
	var callers []*service // entry and mids
	for _, s := range ss {
		if s.role == RoleEntry || s.role == RoleMid {
			callers = append(callers, s)
		}
	}
	for _, s := range ss {
		switch s.role {
		case RoleEntry:
			s.gatewayRate = 20 + 80*r.Float64()
		case RoleWorker:
			s.originRate = 5 + 15*r.Float64()
		case RoleMid:
			t.connect(callers[0], s)
		case RoleChain:
			if s.defect == DefectRetryChain {
				for i := 1; i < len(s.chain); i++ {
					t.connect(s.chain[i-1], s.chain[i])
				}
			}
		case RoleLeaf:
			cands := callers
			if s.defect == DefectFailures {
				cands = callers[:1]
			}
			k := min(1+r.IntN(3), len(cands))
			for _, i := range r.Perm(len(cands))[:k] {
				t.connect(cands[i], s)
			}
			if s.defect != DefectFailures && len(t.byNs) > 1 && r.Float64() < crossNamespace {
				other := t.byNs[(s.ns+1+r.IntN(len(t.byNs)-1))%len(t.byNs)]
				var oc []*service
				for _, c := range other {
					if c.role == RoleEntry || c.role == RoleMid {
						oc = append(oc, c)
					}
				}
				if len(oc) > 0 {
					t.connect(oc[r.IntN(len(oc))], s)
				}
			}
		}
		if s.defect == DefectOutside {
			// Set with the in-mesh rate in rates.
			s.outsideRate = -1
		}
	}
}

func (t *topology) connect(from, to *service) {
	c := &call{from: from, to: to, fanout: 0.2 + 0.6*t.rng.Float64()}
	if to.tcp {
		c.fanout = 0.02 + 0.08*t.rng.Float64()
	}
	from.calls = append(from.calls, c)
	to.callers = append(to.callers, c)
}

// order lists the services so that every caller comes before its callees.
func (t *topology) order() []*service {
	rank := map[Role]int{RoleEntry: 0, RoleWorker: 0, RoleMid: 1, RoleChain: 2, RoleLeaf: 3}
	out := append([]*service(nil), t.svcs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank[a.role] != rank[b.role] {
			return rank[a.role] < rank[b.role]
		}
		if a.role == RoleChain && b.role == RoleChain {
			return chainPos(a) < chainPos(b)
		}
		return false
	})
	return out
}

// chainPos is a chain member's depth below its worker.
func chainPos(s *service) int {
	n := 0
	for c := s; c.role == RoleChain; c = c.callers[0].from {
		n++
	}
	return n
}

func (t *topology) rates() {
	for _, s := range t.order() {
		s.rate = s.gatewayRate
		for _, c := range s.callers {
			s.rate += c.from.outRate() * c.fanout
		}
		if s.outsideRate < 0 {
			s.outsideRate = s.rate * outsideRatio / (1 - outsideRatio)
			s.rate += s.outsideRate
		}
	}
}

// outRate is the rate that drives a service's calls: what it serves, or
// what a worker originates.
func (s *service) outRate() float64 {
	if s.role == RoleWorker {
		return s.originRate
	}
	return s.rate
}

// retries sets each VirtualService's retries and timeouts (see the package
// documentation for the rule).
func (t *topology) retries() {
	ord := t.order()
	for _, s := range ord {
		if s.role == RoleEntry || s.outsideRate > 0 {
			s.depthIn = 1
		}
		for _, c := range s.callers {
			s.depthIn = max(s.depthIn, c.from.depthIn+1)
		}
	}
	for i := len(ord) - 1; i >= 0; i-- {
		s := ord[i]
		for _, c := range s.calls {
			s.depthOut = max(s.depthOut, c.to.depthOut+1)
		}
	}
	for _, s := range t.svcs {
		if s.tcp {
			continue
		}
		s.retryOn = healthyRetryOn
		switch {
		case s.defect == DefectFailures:
			s.attempts, s.retryOn = amplifyAttempts, "5xx,connect-failure"
		case s.role == RoleChain:
			s.attempts = amplifyAttempts
		case s.role == RoleEntry:
			s.attempts = 1
		case s.depthIn+s.depthOut <= 2:
			s.attempts = 2
		default:
			s.attempts = 1
		}
		s.perTry = ceilMs(perTryFactor*s.lat.Quantile(0.999), 10)
		s.timeout = time.Duration(s.attempts+1) * s.perTry
		if s.defect == DefectTimeout {
			s.timeout = time.Duration(math.Round(0.5*s.lat.Quantile(0.99))) * time.Millisecond
			s.perTry = 0 // each try may use the whole (too short) timeout
		}
	}
}

// ceilMs rounds ms up to a multiple of step milliseconds.
func ceilMs(ms float64, step int) time.Duration {
	return time.Duration(math.Ceil(ms/float64(step))*float64(step)) * time.Millisecond
}

func (s *service) truth(t *topology) ServiceTruth {
	st := ServiceTruth{
		Namespace: s.nsName, Name: s.name, Role: s.role, Protocol: "http",
		Workloads: []string{s.name + "-v1"}, RPS: s.rate, Latency: s.lat,
		ErrorRatio: s.errRatio, ErrorCode: s.errCode, Bursts: s.bursts,
		PlaintextRatio: s.plaintext, MTLS: s.plaintext == 0 && s.outsideRate == 0,
		V2Ratio: s.v2Ratio, Timeout: s.timeout, PerTryTimeout: s.perTry, Attempts: s.attempts,
		RetryOn: s.retryOn, Defect: s.defect,
	}
	if s.rate > 0 {
		st.OutsideRatio = s.outsideRate / s.rate
		st.PlaintextRatio = s.plaintext*(s.rate-s.outsideRate-s.gatewayRate)/s.rate + st.OutsideRatio
	}
	if s.tcp {
		st.Protocol, st.Latency, st.ErrorRatio, st.ErrorCode = "tcp", LogNormal{}, 0, 0
		st.SentBytesPerConn, st.ReceivedBytesPerConn = s.sentPerConn, s.recvPerConn
	}
	if s.v2 {
		st.Workloads = append(st.Workloads, s.name+"-v2")
	}
	if s.gatewayRate > 0 {
		st.Callers = append(st.Callers, IngressGateway)
	}
	if s.outsideRate > 0 {
		st.Callers = append(st.Callers, Outside)
	}
	for _, c := range s.callers {
		st.Callers = append(st.Callers, c.from.ref())
	}
	for _, c := range s.calls {
		st.Calls = append(st.Calls, c.to.ref())
	}
	sort.Strings(st.Callers)
	sort.Strings(st.Calls)
	if s.defect == DefectOverflow {
		st.OverflowRatio = overflowRatio
	}
	for _, c := range s.chain {
		st.Chain = append(st.Chain, c.ref())
	}
	st.Finding = s.finding()
	return st
}

// finding is the finding s's defect must produce.
func (s *service) finding() string {
	ref := s.ref()
	switch s.defect {
	case DefectTimeout:
		return CodeTimeout + " VirtualService " + ref
	case DefectFailures:
		return CodeFailures + " VirtualService " + ref
	case DefectRetryChain:
		return CodeRetryChain + " VirtualService " + ref
	case DefectOverflow:
		return CodeOverflow + " DestinationRule " + ref
	case DefectSpikes:
		return CodeSpikes + " DestinationRule " + ref
	case DefectPlaintext:
		return CodePlaintext + " PeerAuthentication " + ref + "-permissive"
	case DefectUnusedSubset:
		return CodeUnusedSubset + " DestinationRule " + ref
	case DefectOutside:
		return CodeOutside + " Service " + ref
	}
	return ""
}
