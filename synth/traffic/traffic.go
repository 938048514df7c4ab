package traffic

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Options shape a mesh. Zero values take the defaults.
type Options struct {
	// Services is the number of services (default 40).
	Services int
	// PerNamespace is the number of services per namespace (default 10).
	PerNamespace int
	Seed         uint64
	// End is the time of the last sample, truncated to the second (default:
	// now, truncated to Scrape). Set it for reproducible output.
	End time.Time
	// Window is the span of the telemetry before End (default 1h).
	Window time.Duration
	// Scrape is the interval between samples (default 1m), a whole number of
	// seconds that divides Window.
	Scrape time.Duration
	// DefectEvery plants a defect on every n-th service (default 5); a
	// negative value (NoDefects) plants none.
	DefectEvery int
	// SlowEvery makes every n-th healthy HTTP leaf answer slowly, as a
	// long poll or a report would: median 10s, σ 0.5, so that 1.4% of
	// its requests outlast 30s and its p99 (32s) and p99.9 (47s) lie in
	// the histogram's tail above 30s. 0 makes none slow.
	SlowEvery int
}

// NoDefects as Options.DefectEvery plants no defect.
const NoDefects = -1

// Defaults of Options.
const (
	DefaultServices     = 40
	DefaultPerNamespace = 10
	DefaultWindow       = time.Hour
	DefaultScrape       = time.Minute
	DefaultDefectEvery  = 5
)

func (o Options) withDefaults() (Options, error) {
	if o.Services == 0 {
		o.Services = DefaultServices
	}
	if o.PerNamespace == 0 {
		o.PerNamespace = DefaultPerNamespace
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Scrape == 0 {
		o.Scrape = DefaultScrape
	}
	if o.DefectEvery == 0 {
		o.DefectEvery = DefaultDefectEvery
	}
	switch {
	case o.Services < 0:
		return o, fmt.Errorf("services %d: must be positive", o.Services)
	case o.PerNamespace < 0:
		return o, fmt.Errorf("per namespace %d: must be positive", o.PerNamespace)
	case o.Scrape < time.Second || o.Scrape%time.Second != 0:
		return o, fmt.Errorf("scrape interval %s: must be a whole number of seconds", o.Scrape)
	case o.Window < o.Scrape || o.Window%o.Scrape != 0:
		return o, fmt.Errorf("window %s: must be a multiple of the scrape interval %s", o.Window, o.Scrape)
	}
	if o.End.IsZero() {
		o.End = time.Now().Truncate(o.Scrape)
	}
	o.End = o.End.Truncate(time.Second)
	return o, nil
}

// Defect is a kind of planted defect ("" for none).
type Defect string

// The planted defects, in round-robin order. The notes say where one fits.
const (
	// DefectTimeout fits any HTTP service.
	DefectTimeout Defect = "aggressive-timeout"
	// DefectFailures fits a service other than the entry; it becomes a leaf
	// called only by the entry.
	DefectFailures Defect = "deterministic-failures"
	// DefectOverflow fits any HTTP service.
	DefectOverflow Defect = "pool-overflow"
	// DefectSpikes fits any HTTP service when the window spans 30m or more.
	DefectSpikes Defect = "error-spikes"
	// DefectPlaintext fits a service other than the entry.
	DefectPlaintext Defect = "plaintext-permissive"
	// DefectUnusedSubset fits any HTTP service.
	DefectUnusedSubset Defect = "unused-subset"
	// DefectOutside fits a service other than the entry.
	DefectOutside Defect = "outside-traffic"
	// DefectRetryChain fits a service other than the entry when its
	// namespace has three more services with no role in another defect.
	DefectRetryChain Defect = "retry-amplification"
)

// Defects lists the kinds in the order they are planted.
var Defects = []Defect{DefectTimeout, DefectFailures, DefectOverflow, DefectSpikes,
	DefectPlaintext, DefectUnusedSubset, DefectOutside, DefectRetryChain}

// Codes of the findings the planted defects must produce.
const (
	CodeTimeout      = "MP6001"
	CodeFailures     = "MP6002"
	CodeRetryChain   = "MP6003"
	CodeOverflow     = "MP6004"
	CodeSpikes       = "MP6005"
	CodePlaintext    = "MP6006"
	CodeUnusedSubset = "MP6007"
	CodeOutside      = "MP6008"
)

// Role is a service's place in the call graph.
type Role string

// Roles.
const (
	RoleEntry  Role = "entry"  // called by the ingress gateway
	RoleMid    Role = "mid"    // called by the entry, calls leaves
	RoleLeaf   Role = "leaf"   // calls nothing
	RoleWorker Role = "worker" // called by nobody: the origin of an amplification chain
	RoleChain  Role = "chain"  // the second to fourth service of an amplification chain
)

// Callers that are not services of the mesh, as ServiceTruth.Callers names
// them.
const (
	IngressGateway = "istio-system/istio-ingressgateway"
	Outside        = "unknown"
)

// LogNormal is a latency distribution in milliseconds: ln(ms) is normal
// with mean Mu and standard deviation Sigma.
type LogNormal struct {
	Mu, Sigma float64
}

// Quantile is the q-quantile (0 < q < 1) in milliseconds.
func (l LogNormal) Quantile(q float64) float64 {
	return math.Exp(l.Mu + l.Sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// CDF is the share of requests at or below ms milliseconds.
func (l LogNormal) CDF(ms float64) float64 {
	if ms <= 0 {
		return 0
	}
	if math.IsInf(ms, 1) {
		return 1
	}
	return 0.5 * math.Erfc(-(math.Log(ms)-l.Mu)/(l.Sigma*math.Sqrt2))
}

// Mean is the mean latency in milliseconds.
func (l LogNormal) Mean() float64 { return math.Exp(l.Mu + l.Sigma*l.Sigma/2) }

// Burst is a span of time with an elevated error ratio.
type Burst struct {
	Start, End time.Time
	Ratio      float64
}

// ServiceTruth is what is true of one service, whatever its telemetry or
// configuration says.
type ServiceTruth struct {
	Namespace, Name string
	Role            Role
	// Protocol is "http" or "tcp".
	Protocol string
	// Workloads are its Deployments, <svc>-v1 and maybe <svc>-v2.
	Workloads []string
	// Callers are the services calling it ("ns/name"), IngressGateway and
	// Outside, sorted.
	Callers []string
	// Calls are the services it calls ("ns/name"), sorted.
	Calls []string
	// RPS is the mean rate of requests reaching its proxies (what the
	// destination reporter counts), from all callers; for TCP services the
	// rate of connections opened.
	RPS float64
	// Latency is the true distribution of request durations (HTTP).
	Latency LogNormal
	// ErrorRatio is the mean share of requests its servers answer with
	// ErrorCode, outside Bursts.
	ErrorRatio float64
	ErrorCode  int
	Bursts     []Burst
	// OverflowRatio is the share of its in-mesh callers' requests that fail
	// in the callers' proxies with 503 UO (reporter="source" only).
	OverflowRatio float64
	// PlaintextRatio is the share of requests reaching it without mTLS.
	PlaintextRatio float64
	// MTLS is true when every request reaches it over mutual TLS.
	MTLS bool
	// OutsideRatio is the share of requests from callers outside the mesh.
	OutsideRatio float64
	// V2Ratio is the share of requests served by <svc>-v2.
	V2Ratio float64
	// SentBytesPerConn and ReceivedBytesPerConn size TCP connections.
	SentBytesPerConn, ReceivedBytesPerConn float64
	// Timeout, PerTryTimeout, Attempts and RetryOn are its VirtualService's
	// (zero for TCP services).
	Timeout, PerTryTimeout time.Duration
	Attempts               int
	RetryOn                string
	Defect                 Defect
	// Chain is the amplification path s1..s4 of a DefectRetryChain.
	Chain []string
	// Finding is the finding its defect must produce, as in Mesh.Truth.
	Finding string
}

// Ref is "namespace/name".
func (s ServiceTruth) Ref() string { return s.Namespace + "/" + s.Name }

// FQDN is the service's cluster host name.
func (s ServiceTruth) FQDN() string { return s.Name + "." + s.Namespace + ".svc.cluster.local" }

// Mesh is a generated mesh and its telemetry.
type Mesh struct {
	// YAML holds the Kubernetes and Istio objects, multi-document.
	YAML []byte
	// Docs is the number of YAML documents.
	Docs int
	// Truth lists the findings the planted defects must produce, as
	// "CODE Kind namespace/name", sorted; one per planted defect.
	Truth []string
	// Services are in generation order (namespace, then name).
	Services []ServiceTruth
	// Start and End bound the telemetry; Scrape is its sample interval.
	Start, End time.Time
	Scrape     time.Duration

	seed  uint64
	svcs  []*service
	edges []*edge
}

// Generate builds a mesh. Same options, same mesh, byte for byte.
func Generate(o Options) (*Mesh, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	t := newTopology(o)
	t.build()
	m := &Mesh{Start: o.End.Add(-o.Window), End: o.End, Scrape: o.Scrape, seed: o.Seed, svcs: t.svcs, edges: t.edges}
	m.YAML, m.Docs = writeYAML(t)
	for _, s := range t.svcs {
		st := s.truth(t)
		m.Services = append(m.Services, st)
		if st.Finding != "" {
			m.Truth = append(m.Truth, st.Finding)
		}
	}
	sort.Strings(m.Truth)
	return m, nil
}
