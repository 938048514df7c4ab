package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var start = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func newBuilder() *telemetry.Builder {
	return telemetry.NewBuilder(start, start.Add(5*time.Minute), time.Minute)
}

func wl(ns, name string) telemetry.Workload { return telemetry.Workload{Namespace: ns, Name: name} }

func svc(ns, name string) telemetry.Service {
	return telemetry.Service{Namespace: ns, Name: name, Host: name + "." + ns + ".svc.cluster.local"}
}

var outside = telemetry.Workload{Name: telemetry.Unknown}

// observe records n requests of ms on the latency of k as reporter saw it.
func observe(b *telemetry.Builder, k telemetry.Key, reporter string, ms float64, n int) {
	for range n {
		b.Edge(k, reporter).Latency.Observe(ms)
	}
}

// shop is a 4-service shop behind an ingress gateway: a caller outside the
// mesh reaching the frontend in plaintext, catalog at 98 % with retries
// (URX), payments failing with pool overflows (UO), Redis over TCP only in
// a namespace of no project, and an external API.
func shop() *telemetry.Graph {
	b := newBuilder()
	for range 12 {
		b.CountQuery()
	}
	const src, dst = telemetry.ReporterSource, telemetry.ReporterDestination
	gw := wl("istio-system", "istio-ingressgateway")
	front := telemetry.Key{Source: gw, Service: svc("shop", "frontend"), Destination: wl("shop", "frontend-v1")}
	b.AddRequests(front, src, "http", 200, "-", "unknown", 600)
	b.AddRequests(front, src, "http", 404, "-", "unknown", 6)
	b.AddRequests(front, dst, "http", 200, "-", telemetry.MutualTLS, 600)
	b.AddRequests(front, dst, "http", 404, "-", telemetry.MutualTLS, 6)
	observe(b, front, src, 20, 500)
	observe(b, front, src, 80, 100)
	observe(b, front, src, 400, 6)

	direct := telemetry.Key{Source: outside, Service: svc("shop", "frontend"), Destination: wl("shop", "frontend-v1")}
	b.AddRequests(direct, dst, "http", 200, "-", telemetry.None, 90)
	b.AddRequests(direct, dst, "http", 404, "-", telemetry.None, 10)
	observe(b, direct, dst, 15, 100)

	fv1 := wl("shop", "frontend-v1")
	cat1 := telemetry.Key{Source: fv1, Service: svc("shop", "catalog"), Destination: wl("shop", "catalog-v1")}
	b.AddRequests(cat1, src, "http", 200, "-", "unknown", 294)
	b.AddRequests(cat1, src, "http", 503, "URX", "unknown", 6)
	b.AddRequests(cat1, dst, "http", 200, "-", telemetry.MutualTLS, 294)
	observe(b, cat1, src, 8, 250)
	observe(b, cat1, src, 40, 50)
	cat2 := telemetry.Key{Source: fv1, Service: svc("shop", "catalog"), Destination: wl("shop", "catalog-v2")}
	b.AddRequests(cat2, src, "grpc", 200, "-", "unknown", 100)
	b.AddRequests(cat2, dst, "grpc", 200, "-", telemetry.MutualTLS, 100)
	observe(b, cat2, src, 6, 100)

	cart := telemetry.Key{Source: fv1, Service: svc("shop", "cart"), Destination: wl("shop", "cart-v1")}
	b.AddRequests(cart, src, "http", 200, "-", "unknown", 237)
	b.AddRequests(cart, src, "http", 400, "-", "unknown", 3)
	b.AddRequests(cart, dst, "http", 200, "-", telemetry.MutualTLS, 240)
	observe(b, cart, src, 30, 240)

	cv1 := wl("shop", "cart-v1")
	pay := telemetry.Key{Source: cv1, Service: svc("shop", "payments"), Destination: wl("shop", "payments-v1")}
	b.AddRequests(pay, src, "http", 200, "-", "unknown", 70)
	b.AddRequests(pay, src, "http", 503, "UO", "unknown", 20)
	b.AddRequests(pay, src, "http", 500, "-", "unknown", 10)
	b.AddRequests(pay, dst, "http", 200, "-", telemetry.MutualTLS, 80)
	observe(b, pay, src, 120, 70)
	observe(b, pay, src, 2, 20)
	observe(b, pay, src, 2600, 10)

	redis := telemetry.Key{Source: cv1, Service: svc("data", "redis"), Destination: wl("data", "redis")}
	b.Edge(redis, dst).TCP = telemetry.TCP{BytesSent: 1.5e6, BytesReceived: 3e5, ConnectionsOpened: 12, ConnectionsClosed: 10}
	b.AddSecurity(redis, dst, telemetry.MutualTLS, 12)

	stripe := telemetry.Key{Source: wl("shop", "payments-v1"), Service: telemetry.Service{Namespace: "shop", Name: "api.stripe.com", Host: "api.stripe.com"}}
	b.AddRequests(stripe, src, "http", 200, "-", "unknown", 49)
	b.AddRequests(stripe, src, "http", 0, "UF,URX", "unknown", 1)
	observe(b, stripe, src, 300, 50)

	b.Noticef("prometheus: partial data for %d of %d queries", 1, 12)
	return b.Graph("prometheus http://prometheus.istio-system:9090")
}

func shopProjects(cluster, namespace string) string {
	switch namespace {
	case "shop":
		return "Shop"
	case "istio-system":
		return "System"
	}
	return ""
}

// loop is a cycle no gateway enters (a calls b calls a) and a job nobody
// calls, in two clusters, with names to escape and latency beyond the
// histogram's last bucket.
func loop() *telemetry.Graph {
	b := newBuilder()
	const src = telemetry.ReporterSource
	ea := telemetry.Workload{Cluster: "east", Namespace: "loop", Name: "a"}
	eb := telemetry.Workload{Cluster: "east", Namespace: "loop", Name: "b"}
	sa := telemetry.Service{Cluster: "east", Namespace: "loop", Name: "a"}
	sb := telemetry.Service{Cluster: "west", Namespace: "loop", Name: "b"}
	b.AddRequests(telemetry.Key{Source: ea, Service: sb, Destination: eb}, src, "http", 200, "-", telemetry.MutualTLS, 30)
	b.AddRequests(telemetry.Key{Source: eb, Service: sa, Destination: ea}, src, "http", 200, "-", telemetry.MutualTLS, 30)
	observe(b, telemetry.Key{Source: eb, Service: sa, Destination: ea}, src, 12, 25)
	observe(b, telemetry.Key{Source: eb, Service: sa, Destination: ea}, src, 5e6, 5)
	job := telemetry.Workload{Cluster: "east", Namespace: "jobs", Name: `tick "every" <minute> & more`}
	b.AddRequests(telemetry.Key{Source: job, Service: sa, Destination: ea}, src, "http", 500, "-", telemetry.None, 1)
	return b.Graph("access logs: 2 files")
}

func empty() *telemetry.Graph {
	b := newBuilder()
	b.CountQuery()
	b.Noticef("no series matched istio_requests_total")
	return b.Graph("prometheus http://127.0.0.1:9090")
}

type renderer func(io.Writer, *telemetry.Graph, Options) error

var formats = []struct {
	ext    string
	render renderer
	check  func(*testing.T, []byte, *telemetry.Graph)
}{
	{"txt", Table, checkTable},
	{"json", JSON, checkJSON},
	{"dot", DOT, checkDOT},
	{"svg", SVG, checkSVG},
}

var cases = []struct {
	name  string
	graph func() *telemetry.Graph
	opts  Options
}{
	{"shop", shop, Options{ProjectOf: shopProjects, Title: `shop "prod" <eu> & co`}},
	{"loop", loop, Options{}},
	{"empty", empty, Options{Title: "nothing"}},
}

// TestGolden renders each case in each format, checks the output's
// structure, that it is the same twice, and compares it with
// testdata/<case>.<format>.
func TestGolden(t *testing.T) {
	for _, c := range cases {
		for _, f := range formats {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				g := c.graph()
				got := renderTo(t, f.render, g, c.opts)
				if again := renderTo(t, f.render, c.graph(), c.opts); !bytes.Equal(got, again) {
					t.Fatal("two renderings of the same graph differ")
				}
				f.check(t, got, g)
				golden := filepath.Join("testdata", c.name+"."+f.ext)
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("output differs from %s (run with -update to rewrite it):\n%s", golden, diff(string(want), string(got)))
				}
			})
		}
	}
}

func renderTo(t *testing.T, r renderer, g *telemetry.Graph, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r(&buf, g, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// diff shows the first differing line.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, a, b)
		}
	}
	return ""
}

// nodes counts the nodes a picture of g must have: callers (all unknown
// ones as one), services, and the known workloads that served them.
func nodes(g *telemetry.Graph) int {
	workload := func(w telemetry.Workload) string {
		if !w.Known() {
			return "unknown"
		}
		return "workload " + w.Cluster + "/" + w.String()
	}
	seen := map[string]bool{}
	for _, e := range g.Edges {
		seen[workload(e.Source)] = true
		seen["service "+e.Service.Cluster+"/"+e.Service.String()] = true
		if e.Destination.Known() {
			seen[workload(e.Destination)] = true
		}
	}
	return len(seen)
}

func checkTable(t *testing.T, out []byte, g *telemetry.Graph) {
	t.Helper()
	s := string(out)
	if len(g.Edges) == 0 && !strings.Contains(s, "no traffic observed in the window") {
		t.Error("an empty graph's table does not say so")
	}
	for _, n := range g.Notices {
		if !strings.Contains(s, n) {
			t.Errorf("notice %q missing", n)
		}
	}
	if strings.Contains(s, "NaN") {
		t.Error("NaN in the table")
	}
	for i, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " ") != line {
			t.Errorf("line %d ends with spaces: %q", i+1, line)
		}
	}
}

func checkJSON(t *testing.T, out []byte, g *telemetry.Graph) {
	t.Helper()
	for _, bad := range []string{"NaN", "Inf"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("%s in the JSON", bad)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	again, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var doc2 map[string]any
	if err := json.Unmarshal(again, &doc2); err != nil || !reflect.DeepEqual(doc, doc2) {
		t.Fatalf("JSON does not round-trip: %v", err)
	}
	for _, key := range []string{"window", "source", "queries", "notices", "services", "edges"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("no %q in the document", key)
		}
	}
	if edges, _ := doc["edges"].([]any); len(edges) != len(g.Edges) {
		t.Errorf("%d edges in the JSON, want %d", len(edges), len(g.Edges))
	}
}

var (
	dotString = `"(?:[^"\\]|\\.)*"`
	dotNode   = regexp.MustCompile(`^\s*(` + dotString + `) \[`)
	dotEdge   = regexp.MustCompile(`^\s*(` + dotString + `) -> (` + dotString + `) \[`)
)

// checkDOT checks braces balance outside strings and that every arc's ends
// are declared nodes.
func checkDOT(t *testing.T, out []byte, g *telemetry.Graph) {
	t.Helper()
	depth, inString := 0, false
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == '{':
			depth++
		case !inString && c == '}':
			depth--
			if depth < 0 {
				t.Fatalf("unbalanced } at byte %d", i)
			}
		}
	}
	if depth != 0 || inString {
		t.Fatalf("unbalanced: depth %d, in a string %v", depth, inString)
	}
	declared := map[string]bool{}
	var arcs [][2]string
	for _, line := range strings.Split(string(out), "\n") {
		if m := dotEdge.FindStringSubmatch(line); m != nil {
			arcs = append(arcs, [2]string{m[1], m[2]})
		} else if m := dotNode.FindStringSubmatch(line); m != nil {
			declared[m[1]] = true
		}
	}
	for _, a := range arcs {
		for _, end := range a {
			if !declared[end] {
				t.Errorf("arc end %s is not declared", end)
			}
		}
	}
	if len(declared) != nodes(g) {
		t.Errorf("%d nodes declared, want %d", len(declared), nodes(g))
	}
}

// checkSVG parses the SVG and counts one <g class="node"> per node.
func checkSVG(t *testing.T, out []byte, g *telemetry.Graph) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(out))
	groups := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "g" {
			for _, a := range el.Attr {
				if a.Name.Local == "class" && a.Value == "node" {
					groups++
				}
			}
		}
	}
	if groups != nodes(g) {
		t.Errorf("%d node groups, want %d", groups, nodes(g))
	}
	if len(g.Edges) == 0 && !bytes.Contains(out, []byte("no traffic observed in the window")) {
		t.Error("an empty graph's picture does not say so")
	}
	if bytes.Contains(out, []byte("NaN")) {
		t.Error("NaN in the SVG")
	}
}

// mesh is a random mesh of about n nodes in ten namespaces, some calls
// going back, some to TCP services.
func mesh(n int) *telemetry.Graph {
	b := newBuilder()
	r := rand.New(rand.NewPCG(1, 2))
	const src = telemetry.ReporterSource
	per := n / 2
	for i := range per {
		ns := fmt.Sprintf("ns-%d", i%10)
		w := wl(ns, fmt.Sprintf("app-%d", i))
		s := svc(ns, fmt.Sprintf("app-%d", i))
		caller := outside
		if i > 0 {
			j := r.IntN(i)
			caller = wl(fmt.Sprintf("ns-%d", j%10), fmt.Sprintf("app-%d", j))
		}
		k := telemetry.Key{Source: caller, Service: s, Destination: w}
		b.AddRequests(k, src, "http", 200, "-", telemetry.MutualTLS, float64(1+r.IntN(1000)))
		b.AddRequests(k, src, "http", 503, "UO", telemetry.MutualTLS, float64(r.IntN(30)))
		observe(b, k, src, float64(1+r.IntN(500)), 3)
		if r.IntN(10) == 0 && i > 0 {
			j := r.IntN(i)
			back := telemetry.Key{Source: w, Service: svc(fmt.Sprintf("ns-%d", j%10), fmt.Sprintf("app-%d", j)), Destination: wl(fmt.Sprintf("ns-%d", j%10), fmt.Sprintf("app-%d", j))}
			b.Edge(back, src).TCP.BytesSent += 1000
		}
	}
	return b.Graph("generated")
}

// TestLarge checks a mesh of 1000 nodes still renders valid output, and in
// reasonable time.
func TestLarge(t *testing.T) {
	g := mesh(1000)
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			began := time.Now()
			out := renderTo(t, f.render, g, Options{})
			t.Logf("%d bytes in %v", len(out), time.Since(began))
			f.check(t, out, g)
		})
	}
}

// TestNilGraph checks a nil graph renders as one without traffic.
func TestNilGraph(t *testing.T) {
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			out := renderTo(t, f.render, nil, Options{})
			f.check(t, out, &telemetry.Graph{})
		})
	}
}
