package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// fakeProm answers the queries with canned series, and counts them.
type fakeProm struct {
	queries  atomic.Int32
	mu       sync.Mutex
	texts    []string       // the queries received
	getOnly  bool           // refuse POSTs, as a service proxy for a read-only role does
	fail     map[string]int // query name -> HTTP status to answer with
	warnings []string
	auth     string // required Authorization header, if set
	// only, when set, replaces the canned series of a query.
	only map[string][]map[string]any
	// failTail is the HTTP status to answer the histogram's tail with.
	failTail int
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if f.getOnly && r.Method != http.MethodGet {
		http.Error(w, "cannot create services/proxy", http.StatusForbidden)
		return
	}
	_ = r.ParseForm()
	q := r.Form.Get("query")
	f.queries.Add(1)
	f.mu.Lock()
	f.texts = append(f.texts, q)
	f.mu.Unlock()
	name := queryName(q)
	code := f.fail[name]
	if name == "latency" && strings.Contains(q, `le=~"60000`) && f.failTail != 0 {
		code = f.failTail
	}
	if code != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"status":"error","errorType":"execution","error":"%s failed on purpose"}`, name)
		return
	}
	var result any
	canned, ok := f.only[name]
	if name == "latency" && strings.Contains(q, "le!~") {
		// The second shard of the buckets: the canned ones are all in the
		// first. (Queries arrive at once: f is only read here.)
		canned, ok = nil, true
	}
	if name == "latency" && strings.Contains(q, `le=~"60000`) {
		// The tail, asked for after the shards.
		canned, ok = f.only["latency-tail"], true
	}
	if ok {
		result = vector(canned...)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": result})
		return
	}
	switch name {
	case "requests":
		result = vector(
			// productpage -> reviews seen from both ends: counted once,
			// with the caller's UO 503s that the server never saw.
			sample(edge("source", "productpage-v1", "reviews", "reviews-v1", "200", "-", "unknown"), 1000),
			sample(edge("source", "productpage-v1", "reviews", "reviews-v1", "503", "UO", "unknown"), 20),
			sample(edge("destination", "productpage-v1", "reviews", "reviews-v1", "200", "-", "mutual_tls"), 1000),
			// a caller outside the mesh: only the server reports it.
			sample(edge("destination", "unknown", "reviews", "reviews-v1", "200", "-", "none"), 50),
		)
	case "latency":
		result = vector(
			sample(with(edge("", "productpage-v1", "reviews", "reviews-v1", "", "", ""), "le", "100"), 500),
			sample(with(edge("", "productpage-v1", "reviews", "reviews-v1", "", "", ""), "le", "1000"), 1000),
			sample(with(edge("", "productpage-v1", "reviews", "reviews-v1", "", "", ""), "le", "30000"), 1020),
			sample(with(edge("", "productpage-v1", "reviews", "reviews-v1", "", "", ""), "le", "+Inf"), 1020),
		)
	case "tcp":
		result = vector(
			sample(with(edge("destination", "productpage-v1", "mysql", "mysql-v1", "", "", "mutual_tls"), "metric", "opened"), 7),
			sample(with(edge("destination", "productpage-v1", "mysql", "mysql-v1", "", "", "mutual_tls"), "metric", "sent"), 4096),
		)
	case "profile":
		end := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).Unix()
		result = map[string]any{"resultType": "matrix", "result": []any{
			map[string]any{"metric": map[string]string{"destination_service_name": "reviews", "destination_service_namespace": "shop", "series": "total"},
				"values": [][]any{{end - 600, "2"}, {end - 300, "4"}}},
			map[string]any{"metric": map[string]string{"destination_service_name": "reviews", "destination_service_namespace": "shop", "series": "errors"},
				"values": [][]any{{end - 300, "1"}}},
		}}
	default:
		http.Error(w, "unexpected query "+q, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": result, "warnings": f.warnings})
}

func queryName(q string) string {
	switch {
	case strings.Contains(q, `"series", "total"`):
		return "profile"
	case strings.Contains(q, "istio_tcp_"):
		return "tcp"
	case strings.Contains(q, "_bucket"):
		return "latency"
	case strings.Contains(q, "istio_requests_total"):
		return "requests"
	}
	return ""
}

func edge(reporter, src, svc, dst, code, flags, sec string) map[string]string {
	m := map[string]string{
		"source_workload": src, "source_workload_namespace": "shop",
		"destination_workload": dst, "destination_workload_namespace": "shop",
		"destination_service": svc + ".shop.svc.cluster.local", "destination_service_name": svc, "destination_service_namespace": "shop",
	}
	if src == "unknown" {
		m["source_workload_namespace"] = "unknown"
	}
	for k, v := range map[string]string{"reporter": reporter, "response_code": code, "response_flags": flags, "connection_security_policy": sec} {
		if v != "" {
			m[k] = v
		}
	}
	if code != "" {
		m["request_protocol"] = "http"
	}
	return m
}

func with(m map[string]string, k, v string) map[string]string { m[k] = v; return m }

func sample(m map[string]string, v float64) map[string]any {
	return map[string]any{"metric": m, "value": []any{1763726400, fmt.Sprint(v)}}
}

func vector(s ...map[string]any) map[string]any {
	return map[string]any{"resultType": "vector", "result": s}
}

func read(t *testing.T, f *fakeProm, c Config) (*telemetry.Graph, error) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	client, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	return Read(context.Background(), client, Options{End: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Window: time.Hour, Step: 5 * time.Minute})
}

func TestRead(t *testing.T) {
	f := &fakeProm{}
	g, err := read(t, f, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Queries != 5 || f.queries.Load() != 5 {
		t.Errorf("queries: graph says %d, server saw %d; want 5", g.Queries, f.queries.Load())
	}
	st := g.Service("shop", "reviews")
	if st == nil {
		t.Fatalf("no traffic into shop/reviews; edges %v", g.Edges)
	}
	if st.Requests != 1070 {
		t.Errorf("reviews got %v requests, want 1070 (1020 from productpage counted once, 50 from outside)", st.Requests)
	}
	if st.Flags["UO"] != 20 {
		t.Errorf("UO flags %v, want 20 (the caller's side)", st.Flags["UO"])
	}
	var pp *telemetry.Edge
	for _, e := range st.Edges {
		if e.Source.Name == "productpage-v1" {
			pp = e
		}
	}
	if pp == nil || pp.Reporter != "source" || pp.Security[telemetry.MutualTLS] != 1000 {
		t.Fatalf("productpage edge %+v: want the source reporter's figures with the destination's mTLS", pp)
	}
	if p99, _ := pp.Latency.Quantile(0.99); p99 < 1000 {
		t.Errorf("p99 %v: the 20 requests above 1s must put p99 at the last finite bound or above", p99)
	}
	if mysql := g.Service("shop", "mysql"); mysql == nil || mysql.TCP.ConnectionsOpened != 7 || mysql.TCP.BytesSent != 4096 || mysql.Security[telemetry.MutualTLS] != 7 {
		t.Errorf("mysql TCP: %+v", mysql)
	}
	if p := g.Profiles["shop/reviews"]; p == nil || len(p.Ratios()) != 2 || p.Ratios()[1] != 0.25 {
		t.Errorf("profile: %+v", p)
	}
}

func TestReadPartial(t *testing.T) {
	f := &fakeProm{fail: map[string]int{"latency": 422}, warnings: []string{"remote read of store B failed"}}
	g, err := read(t, f, Config{})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(g.Notices, "\n")
	for _, want := range []string{"latency query failed", "remote read of store B failed"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notices lack %q:\n%s", want, joined)
		}
	}
	if len(g.Edges) == 0 {
		t.Error("a failed latency query lost the requests")
	}
}

func TestReadUnavailable(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeProm
		conf Config
	}{
		{"server error", &fakeProm{fail: map[string]int{"requests": 503}}, Config{}},
		{"forbidden", &fakeProm{auth: "Bearer right"}, Config{BearerToken: "wrong"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(t, tt.f, tt.conf)
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		client, _ := Config{URL: url}.Client()
		_, err := Read(context.Background(), client, Options{Window: time.Hour})
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("err = %v, want ErrUnavailable saying connection refused", err)
		}
	})
	t.Run("bad query is not unavailability", func(t *testing.T) {
		_, err := read(t, &fakeProm{fail: map[string]int{"requests": 400}}, Config{})
		if err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want a query error", err)
		}
	})
}

func TestAuth(t *testing.T) {
	if _, err := read(t, &fakeProm{auth: "Bearer s3cret"}, Config{BearerToken: "s3cret"}); err != nil {
		t.Errorf("bearer: %v", err)
	}
	if _, err := read(t, &fakeProm{auth: "Basic dTpw"}, Config{Username: "u", Password: "p"}); err != nil {
		t.Errorf("basic: %v", err)
	}
	if _, err := read(t, &fakeProm{getOnly: true, auth: "Bearer s3cret"}, Config{BearerToken: "s3cret", GetOnly: true}); err != nil {
		t.Errorf("GetOnly: %v", err)
	}
	if _, err := read(t, &fakeProm{getOnly: true}, Config{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("POST to a GET-only server: err = %v, want ErrUnavailable", err)
	}
	if s := (Config{URL: "http://p", BearerToken: "s3cret"}).String(); strings.Contains(s, "s3cret") {
		t.Errorf("String() shows the token: %s", s)
	}
	for _, bad := range []Config{{URL: "prom:9090"}, {URL: "http://p", BearerToken: "t", Username: "u"}, {URL: "http://p", CAFile: "/nonexistent"}} {
		if _, err := bad.Client(); err == nil {
			t.Errorf("Client(%+v): no error", bad)
		}
	}
	if got := RancherURL("https://rancher.example.com/", "c-m-abc"); got != "https://rancher.example.com/k8s/clusters/c-m-abc/api/v1/namespaces/cattle-monitoring-system/services/http:rancher-monitoring-prometheus:9090/proxy" {
		t.Errorf("RancherURL = %s", got)
	}
}

// TestReadAmbient: in ambient mode a waypoint reports L7 (reporter
// "waypoint") and ztunnel only TCP; a workload without a waypoint has TCP
// figures alone, and both kinds of edge make it into the graph.
func TestReadAmbient(t *testing.T) {
	f := &fakeProm{only: map[string][]map[string]any{
		"requests": {
			sample(edge("waypoint", "productpage-v1", "reviews", "reviews-v1", "200", "-", "mutual_tls"), 900),
			sample(edge("waypoint", "productpage-v1", "reviews", "reviews-v1", "503", "UF", "mutual_tls"), 9),
		},
		"latency": {
			sample(with(edge("", "productpage-v1", "reviews", "reviews-v1", "", "", ""), "le", "250"), 909),
			sample(with(edge("", "productpage-v1", "reviews", "reviews-v1", "", "", ""), "le", "+Inf"), 909),
		},
		"tcp": {
			// ztunnel, both ends, for a workload with no waypoint.
			sample(with(edge("source", "productpage-v1", "ratings", "ratings-v1", "", "", "unknown"), "metric", "opened"), 40),
			sample(with(edge("destination", "productpage-v1", "ratings", "ratings-v1", "", "", "mutual_tls"), "metric", "opened"), 40),
			sample(with(edge("destination", "productpage-v1", "ratings", "ratings-v1", "", "", "mutual_tls"), "metric", "received"), 8000),
		},
		"profile": {},
	}}
	g, err := read(t, f, Config{})
	if err != nil {
		t.Fatal(err)
	}
	reviews := g.Service("shop", "reviews")
	if reviews == nil || reviews.Requests != 909 || reviews.Flags["UF"] != 9 || reviews.Edges[0].Reporter != "waypoint" {
		t.Fatalf("reviews through the waypoint: %+v", reviews)
	}
	if reviews.Latency.Count() != 909 {
		t.Errorf("waypoint latency count %v, want 909", reviews.Latency.Count())
	}
	ratings := g.Service("shop", "ratings")
	if ratings == nil || ratings.Requests != 0 || ratings.TCP.ConnectionsOpened != 40 || ratings.Security[telemetry.MutualTLS] != 40 {
		t.Fatalf("ratings over ztunnel: %+v", ratings)
	}
	if p := ratings.Edges[0].Protocols; p["tcp"] != 40 {
		t.Errorf("ratings protocols %v, want tcp", p)
	}
}

// TestReadTail: the histogram's tail above 30s is asked for after the
// shards, for the services whose edges have requests that long (and those
// whose histograms lack the 30s bound), and only for them.
func TestReadTail(t *testing.T) {
	lat := func(src, svc, le string, v float64) map[string]any {
		return sample(with(edge("", src, svc, svc+"-v1", "", "", ""), "le", le), v)
	}
	shards := []map[string]any{
		// reviews: 100 of 1000 requests above 30s.
		lat("productpage-v1", "reviews", "1000", 500), lat("productpage-v1", "reviews", "30000", 900), lat("productpage-v1", "reviews", "+Inf", 1000),
		// ratings: everything within 30s.
		lat("productpage-v1", "ratings", "100", 400), lat("productpage-v1", "ratings", "30000", 500), lat("productpage-v1", "ratings", "+Inf", 500),
		// details: custom bounds without 30s, so its tail is unknown.
		lat("productpage-v1", "details", "20", 10), lat("productpage-v1", "details", "+Inf", 10),
	}
	tailAnswer := []map[string]any{
		lat("productpage-v1", "reviews", "60000", 960), lat("productpage-v1", "reviews", "300000", 1000),
		lat("productpage-v1", "reviews", "600000", 1000), lat("productpage-v1", "reviews", "1.8e+06", 1000), lat("productpage-v1", "reviews", "3.6e+06", 1000),
	}
	for _, tt := range []struct {
		name     string
		failTail bool
	}{{"read", false}, {"failed", true}} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeProm{only: map[string][]map[string]any{"latency": shards, "latency-tail": tailAnswer}}
			if tt.failTail {
				f.failTail = http.StatusServiceUnavailable
			}
			g, err := read(t, f, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if g.Queries != 6 {
				t.Errorf("%d queries, want 6", g.Queries)
			}
			var tail string
			for _, q := range f.texts {
				if strings.Contains(q, `le=~"60000`) {
					tail = q
				}
			}
			if !strings.Contains(tail, `destination_service_name=~"details|reviews"`) || !strings.Contains(tail, `destination_service_namespace=~"shop"`) {
				t.Errorf("tail query does not name exactly details and reviews:\n%s", tail)
			}
			reviews := g.Service("shop", "reviews")
			p999, _ := reviews.Latency.Quantile(0.999)
			if tt.failTail {
				if !reviews.Latency.Saturated(0.999) || p999 != 30000 {
					t.Errorf("without its tail, reviews' p99.9 is %v (saturated %v), want 30000, saturated", p999, reviews.Latency.Saturated(0.999))
				}
				if n := strings.Join(g.Notices, "\n"); !strings.Contains(n, "latency-tail query failed, the graph has no latency above 30s") {
					t.Errorf("notices %q lack the failed tail", n)
				}
				return
			}
			if reviews.Latency.Saturated(0.999) || p999 <= 60000 || p999 > 300000 {
				t.Errorf("reviews' p99.9 %v (saturated %v), want between 60s and 300s from its tail", p999, reviews.Latency.Saturated(0.999))
			}
			if p99, _ := g.Service("shop", "ratings").Latency.Quantile(0.99); p99 > 30000 {
				t.Errorf("ratings' p99 %v is above its last request", p99)
			}
		})
	}
}
