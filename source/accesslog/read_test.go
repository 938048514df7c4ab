package accesslog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// The mesh of the testdata: pods by name and by IP.
var (
	testPods = map[string]telemetry.Workload{
		"productpage-v1-6b7f6db6c4-k2x9p": {Namespace: "shop", Name: "productpage-v1"},
		"reviews-v1-7c9f5d8b6-q4w7z":      {Namespace: "shop", Name: "reviews-v1"},
	}
	testIPs = map[string]telemetry.Workload{
		"10.8.0.2":  {Namespace: "istio-system", Name: "istio-ingressgateway"},
		"10.8.0.11": {Namespace: "shop", Name: "productpage-v1"},
		"10.8.0.21": {Namespace: "shop", Name: "reviews-v1"},
		"10.8.0.22": {Namespace: "shop", Name: "reviews-v2"},
		"10.8.0.31": {Namespace: "shop", Name: "ratings-v1"},
		"10.8.0.41": {Namespace: "db", Name: "mysql"},
	}
)

func podWorkload(_, pod string) (telemetry.Workload, bool) { w, ok := testPods[pod]; return w, ok }
func ipWorkload(ip string) (telemetry.Workload, bool)      { w, ok := testIPs[ip]; return w, ok }

// renderEdge writes every figure of an edge on one line.
func renderEdge(e *telemetry.Edge) string {
	return fmt.Sprintf("%s %s req=%g codes=%s flags=%s sec=%s proto=%s lat=%g tcp=%g/%g/%g/%g",
		e.Key, e.Reporter, e.Requests, render(e.Codes), render(e.Flags), render(e.Security), render(e.Protocols),
		e.Latency.Count(), e.TCP.BytesReceived, e.TCP.BytesSent, e.TCP.ConnectionsOpened, e.TCP.ConnectionsClosed)
}

func render[K comparable](m map[K]float64) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%v:%g", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func inputs(t *testing.T, args ...string) []Input {
	t.Helper()
	var out []Input
	for _, a := range args {
		in, err := ParseInput(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

const (
	pp  = "testdata/text/productpage.log"
	rv1 = "testdata/text/reviews-v1.log"
)

func TestRead(t *testing.T) {
	withIPs := Options{PodWorkload: podWorkload, IPWorkload: ipWorkload}
	podsOnly := Options{PodWorkload: podWorkload}
	tests := []struct {
		name        string
		args        []string
		opts        Options
		wantEdges   []string
		wantNotices []string // substrings, one per notice, in order
		wantSource  string
		// wantRequests is the requests into shop/reviews: each call once.
		wantRequests float64
	}{
		{
			name: "text, both ends of productpage -> reviews-v1 logged",
			args: []string{pp, rv1},
			opts: withIPs,
			wantEdges: []string{
				"shop/productpage-v1 -> api.example.com source req=1 codes=200:1 flags= sec=unknown:1 proto=http:1 lat=1 tcp=0/0/0/0",
				"shop/productpage-v1 -> blocked.example.org source req=1 codes=502:1 flags= sec=unknown:1 proto=http:1 lat=0 tcp=0/0/0/0",
				// A TCP edge logged only by its caller has no security:
				// the source side says "unknown", which the builder drops.
				"shop/productpage-v1 -> db/mysql (db/mysql) source req=0 codes= flags= sec= proto=tcp:1 lat=0 tcp=1200/3400/1/1",
				"shop/productpage-v1 -> shop/ratings (shop/ratings-v1) source req=1 codes=200:1 flags= sec=unknown:1 proto=grpc:1 lat=1 tcp=0/0/0/0",
				"unknown -> shop/reviews (shop/reviews-v1) destination req=1 codes=500:1 flags= sec=none:1 proto=http:1 lat=0 tcp=0/0/0/0",
				// The source side logged 1 call, the destination side 2
				// (one the caller's log lacks): the caller's count
				// wins, the server's side tells the mTLS.
				"shop/productpage-v1 -> shop/reviews (shop/reviews-v1) source req=1 codes=200:1 flags= sec=mutual_tls:2 proto=http:1 lat=1 tcp=0/0/0/0",
				"shop/productpage-v1 -> shop/reviews (shop/reviews-v2) source req=2 codes=200:1,503:1 flags=UF:1 sec=unknown:2 proto=http:2 lat=1 tcp=0/0/0/0",
			},
			wantNotices: []string{
				"testdata/text/productpage.log: 2 entries went to no service of the mesh (BlackHoleCluster: 1, PassthroughCluster: 1)",
				"access logs: skipped 4 lines that are not access log entries",
			},
			wantSource:   "access logs: 2 files",
			wantRequests: 4,
		},
		{
			name: "text, pod IPs learned from the logs alone",
			args: []string{pp, rv1},
			opts: podsOnly,
			wantEdges: []string{
				"shop/productpage-v1 -> api.example.com source req=1 codes=200:1 flags= sec=unknown:1 proto=http:1 lat=1 tcp=0/0/0/0",
				"shop/productpage-v1 -> blocked.example.org source req=1 codes=502:1 flags= sec=unknown:1 proto=http:1 lat=0 tcp=0/0/0/0",
				"shop/productpage-v1 -> db/mysql source req=0 codes= flags= sec= proto=tcp:1 lat=0 tcp=1200/3400/1/1",
				"shop/productpage-v1 -> shop/ratings source req=1 codes=200:1 flags= sec=unknown:1 proto=grpc:1 lat=1 tcp=0/0/0/0",
				"unknown -> shop/reviews (shop/reviews-v1) destination req=1 codes=500:1 flags= sec=none:1 proto=http:1 lat=0 tcp=0/0/0/0",
				"shop/productpage-v1 -> shop/reviews source req=2 codes=200:1,503:1 flags=UF:1 sec=unknown:2 proto=http:2 lat=1 tcp=0/0/0/0",
				"shop/productpage-v1 -> shop/reviews (shop/reviews-v1) source req=1 codes=200:1 flags= sec=mutual_tls:2 proto=http:1 lat=1 tcp=0/0/0/0",
			},
			wantNotices: []string{
				"productpage.log: 2 entries went to no service of the mesh",
				"access logs: skipped 4 lines",
			},
			wantSource:   "access logs: 2 files",
			wantRequests: 4,
		},
		{
			name: "json, gateway and its backend, workloads named on the command line",
			args: []string{"istio-system/istio-ingressgateway=testdata/json/gateway.log", "shop/productpage-v1=testdata/json/productpage-in.log"},
			opts: withIPs,
			wantEdges: []string{
				"istio-system/istio-ingressgateway -> shop/productpage (shop/productpage-v1) source req=2 codes=200:1,504:1 flags=UT:1 sec=mutual_tls:2 proto=http:2 lat=1 tcp=0/0/0/0",
				"shop/ratings-v1 -> shop/productpage (shop/productpage-v1) destination req=0 codes= flags= sec=none:1 proto=tcp:1 lat=0 tcp=310/2048/1/1",
			},
			wantNotices: []string{"access logs: skipped 1 line"},
			wantSource:  "access logs: 2 files",
		},
		{
			name: "json, no snapshot: the plaintext TCP caller is unknown, its service learned from the gateway's calls",
			args: []string{"istio-system/istio-ingressgateway=testdata/json/gateway.log", "shop/productpage-v1=testdata/json/productpage-in.log"},
			wantEdges: []string{
				"unknown -> shop/productpage (shop/productpage-v1) destination req=0 codes= flags= sec=none:1 proto=tcp:1 lat=0 tcp=310/2048/1/1",
				"istio-system/istio-ingressgateway -> shop/productpage (shop/productpage-v1) source req=2 codes=200:1,504:1 flags=UT:1 sec=mutual_tls:2 proto=http:2 lat=1 tcp=0/0/0/0",
			},
			wantNotices: []string{"access logs: skipped 1 line"},
			wantSource:  "access logs: 2 files",
		},
		{
			name: "unreadable lines become notices with file and line",
			args: []string{"testdata/bad/malformed.log"},
			opts: withIPs,
			wantEdges: []string{
				"unknown -> shop/reviews (shop/reviews-v1) source req=1 codes=200:1 flags= sec=unknown:1 proto=http:1 lat=1 tcp=0/0/0/0",
			},
			wantNotices: []string{
				"testdata/bad/malformed.log:2: unreadable access log line: 4 fields after START_TIME, want 21",
				`testdata/bad/malformed.log:3: unreadable access log line: START_TIME "21/Nov/2026:10:05:02 +0000"`,
				`testdata/bad/malformed.log:4: unreadable access log line: RESPONSE_CODE "OK"`,
				"testdata/bad/malformed.log:5: unreadable access log line: field 15 is quoted",
				"testdata/bad/malformed.log:6: unreadable access log line: invalid JSON",
				"testdata/bad/malformed.log: 7 unreadable access log lines in all, the first 5 shown",
				"testdata/bad/malformed.log: left out 1 entry to clusters that carry no service traffic (agent: 1)",
				"testdata/bad/malformed.log: the workload of the proxy is unknown for 1 entry: give the file as NAMESPACE/WORKLOAD=testdata/bad/malformed.log",
				"access logs: skipped 2 lines",
			},
			wantSource:   "access logs: 1 file",
			wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Read(context.Background(), inputs(t, tt.args...), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range g.Edges {
				got = append(got, renderEdge(e))
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantEdges, "\n") {
				t.Errorf("edges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantEdges, "\n"))
			}
			if len(g.Notices) != len(tt.wantNotices) {
				t.Errorf("notices:\n%s\nwant %d", strings.Join(g.Notices, "\n"), len(tt.wantNotices))
			}
			for i := range min(len(g.Notices), len(tt.wantNotices)) {
				if !strings.Contains(g.Notices[i], tt.wantNotices[i]) {
					t.Errorf("notice %d: %q\nwant it to hold %q", i, g.Notices[i], tt.wantNotices[i])
				}
			}
			if g.Source != tt.wantSource {
				t.Errorf("source %q, want %q", g.Source, tt.wantSource)
			}
			if tt.wantRequests > 0 {
				if st := g.Service("shop", "reviews"); st == nil || st.Requests != tt.wantRequests {
					t.Errorf("shop/reviews: %+v, want %g requests", st, tt.wantRequests)
				}
			}
		})
	}
}

// TestReadProfile checks the window, the step and the per-second profile
// of shop/reviews, each call counted once across both ends.
func TestReadProfile(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	tests := []struct {
		name       string
		step       time.Duration
		wantEnd    time.Time
		wantStep   time.Duration
		wantTotals []float64 // requests per step
		wantErrors []float64 // 5xx per step
	}{
		{
			// 10:00:01 to 10:03:10 is 189s; 189s/60 rounds to 0: one minute.
			name:       "default step",
			wantEnd:    at("2026-11-21T10:04:10Z"),
			wantStep:   time.Minute,
			wantTotals: []float64{2, 1, 0, 1},
			wantErrors: []float64{0, 1, 0, 1},
		},
		{
			name:       "step of 90s",
			step:       90 * time.Second,
			wantEnd:    at("2026-11-21T10:04:40Z"),
			wantStep:   90 * time.Second,
			wantTotals: []float64{3, 0, 1},
			wantErrors: []float64{1, 0, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Read(context.Background(), inputs(t, pp, rv1), Options{Step: tt.step, PodWorkload: podWorkload, IPWorkload: ipWorkload})
			if err != nil {
				t.Fatal(err)
			}
			if !g.Start.Equal(at("2026-11-21T10:00:01Z")) || !g.End.Equal(tt.wantEnd) || time.Duration(g.Step) != tt.wantStep {
				t.Errorf("window %s to %s step %s, want 10:00:01 to %s step %s", g.Start, g.End, time.Duration(g.Step), tt.wantEnd, tt.wantStep)
			}
			p := g.Profiles["shop/reviews"]
			if p == nil {
				t.Fatalf("no profile of shop/reviews in %v", g.Profiles)
			}
			sec := tt.wantStep.Seconds()
			if !equalRates(p.Totals, tt.wantTotals, sec) || !equalRates(p.Errors, tt.wantErrors, sec) {
				t.Errorf("totals %v errors %v, want %v and %v per %gs", p.Totals, p.Errors, tt.wantTotals, tt.wantErrors, sec)
			}
		})
	}
}

func equalRates(got, counts []float64, sec float64) bool {
	if len(got) != len(counts) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-counts[i]/sec) > 1e-12 {
			return false
		}
	}
	return true
}

func TestReadCluster(t *testing.T) {
	g, err := Read(context.Background(), inputs(t, pp, rv1), Options{Cluster: "east", PodWorkload: podWorkload, IPWorkload: ipWorkload})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range g.Edges {
		if e.Service.Cluster != "east" || e.Source.Known() && e.Source.Cluster != "east" || e.Destination.Known() && e.Destination.Cluster != "east" {
			t.Errorf("%s: clusters %q %q %q, want east", e.Key, e.Source.Cluster, e.Service.Cluster, e.Destination.Cluster)
		}
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		inputs  []Input
		wantErr string
	}{
		{name: "no inputs", wantErr: "no access log files"},
		{name: "no path", inputs: []Input{{}}, wantErr: "without a file"},
		{name: "missing file", inputs: []Input{{Path: pp}, {Path: "testdata/bad/missing.log"}}, wantErr: "open testdata/bad/missing.log"},
		{
			name:    "only proxy logs",
			inputs:  []Input{{Path: "testdata/bad/junk.log"}},
			wantErr: "testdata/bad/junk.log: no Envoy access log entries among its 4 lines (3 other log lines)",
		},
		{
			name:    "a custom format",
			inputs:  []Input{{Path: "testdata/bad/custom.log"}},
			wantErr: "testdata/bad/custom.log: none of its 2 access log lines could be read, first: testdata/bad/custom.log:1: unreadable access log line: 5 fields after START_TIME",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Read(context.Background(), tt.inputs, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one with %q", err, tt.wantErr)
			}
			if g != nil {
				t.Errorf("graph %+v with an error", g)
			}
		})
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Read(ctx, []Input{{Path: pp}}, Options{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), pp) {
		t.Fatalf("error %v, want context.Canceled naming %s", err, pp)
	}
}

// TestReadLongLine checks that a line beyond the reader's bound is
// reported and the lines after it still read.
func TestReadLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.log")
	long := strings.Replace(textOutbound, "/reviews/0", "/"+strings.Repeat("a", maxLine), 1)
	if err := os.WriteFile(path, []byte(long+"\n"+strings.Repeat("x", 2*maxLine)+"\n"+textOutbound+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := Read(context.Background(), []Input{{Path: path, Workload: telemetry.Workload{Namespace: "shop", Name: "productpage-v1"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Edges) != 1 || g.Edges[0].Requests != 1 {
		t.Errorf("edges %v, want the one readable call", g.Edges)
	}
	want := []string{path + ":1: unreadable access log line: line longer than", "access logs: skipped 1 line"}
	if len(g.Notices) != len(want) {
		t.Fatalf("notices %q, want %d", g.Notices, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(g.Notices[i], w) {
			t.Errorf("notice %q, want %q", g.Notices[i], w)
		}
	}
}

func TestService(t *testing.T) {
	known := map[string]telemetry.Service{
		"reviews.shop.svc.cluster.local": {Namespace: "shop", Name: "reviews", Host: "reviews.shop.svc.cluster.local"},
		"api.example.com":                {Namespace: "shop", Name: "api-egress", Host: "api.example.com"},
	}
	serviceOf := func(h string) (telemetry.Service, bool) { s, ok := known[h]; return s, ok }
	tests := []struct {
		host, ns  string
		serviceOf func(string) (telemetry.Service, bool)
		want      telemetry.Service
	}{
		{host: "reviews.shop.svc.cluster.local", want: telemetry.Service{Namespace: "shop", Name: "reviews", Host: "reviews.shop.svc.cluster.local"}},
		{host: "reviews.shop.svc.corp.example", want: telemetry.Service{Namespace: "shop", Name: "reviews", Host: "reviews.shop.svc.corp.example"}},
		{host: "reviews", ns: "shop", want: telemetry.Service{Namespace: "shop", Name: "reviews", Host: "reviews.shop.svc.cluster.local"}},
		{host: "reviews.shop", ns: "shop", want: telemetry.Service{Namespace: "shop", Name: "reviews", Host: "reviews.shop.svc.cluster.local"}},
		{host: "reviews.shop.svc", ns: "shop", want: telemetry.Service{Namespace: "shop", Name: "reviews", Host: "reviews.shop.svc.cluster.local"}},
		{host: "reviews", want: telemetry.Service{Name: "reviews", Host: "reviews"}},
		{host: "api.example", ns: "shop", want: telemetry.Service{Name: "api.example", Host: "api.example"}},
		{host: "10.8.0.21", ns: "shop", want: telemetry.Service{Name: "10.8.0.21", Host: "10.8.0.21"}},
		{host: "reviews", ns: "shop", serviceOf: serviceOf, want: known["reviews.shop.svc.cluster.local"]},
		{host: "api.example.com", serviceOf: serviceOf, want: known["api.example.com"]},
		{host: "other.example.com", serviceOf: serviceOf, want: telemetry.Service{Name: "other.example.com", Host: "other.example.com"}},
	}
	for _, tt := range tests {
		r := newReader(Options{ServiceOf: tt.serviceOf})
		if got := r.service(tt.host, tt.ns, defaultDomain); got != tt.want {
			t.Errorf("%q in %q: got %+v, want %+v", tt.host, tt.ns, got, tt.want)
		}
	}
}

// An idle proxy's log has no entries: beside logs that have some, it is a
// notice naming the file, not an error for the whole read.
func TestReadIdleProxy(t *testing.T) {
	inputs := []Input{
		{Path: "testdata/text/productpage.log", Workload: telemetry.Workload{Namespace: "shop", Name: "productpage-v1"}},
		{Path: "testdata/bad/junk.log", Workload: telemetry.Workload{Namespace: "shop", Name: "idle-v1"}},
	}
	g, err := Read(context.Background(), inputs, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(g.Edges) == 0 {
		t.Error("the good file's edges are lost")
	}
	found := false
	for _, n := range g.Notices {
		found = found || strings.Contains(n, "testdata/bad/junk.log") && strings.Contains(n, "no Envoy access log entries")
	}
	if !found {
		t.Errorf("no notice names the idle proxy's file: %q", g.Notices)
	}
}
