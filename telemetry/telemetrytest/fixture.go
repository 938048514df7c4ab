// Package telemetrytest reads traffic fixtures: small YAML files that
// describe observed traffic by its figures, for the tests of checks that
// compare configuration with traffic (analysistest reads X.traffic.yaml
// beside X.yaml).
//
//	window: 1h          # default 1h
//	step: 5m            # profile resolution, default 5m
//	edges:
//	- source: shop/frontend-v1     # namespace/workload, or "unknown"
//	  service: shop/payments       # namespace/name
//	  destination: shop/payments-v1  # the serving workload, optional
//	  requests: 10000
//	  codes: {"503": 200}          # the other requests answer 200
//	  flags: {UO: 50}              # besides codes: requests the proxy answered with a flag (UT: 504, DC: 0, others 503)
//	  plaintext: 100               # requests without mTLS; the others mutual_tls
//	  latency: {median: 400, sigma: 0.5}  # log-normal, in ms
//	  tcp: {connections: 10, sent: 4096, received: 512}
//	profiles:                      # 5xx ratio per step; the rate is the service's mean
//	  shop/payments: [0.2, 0.21, 0.19, ...]   # one value: the same in every step
//
// Unknown fields are errors, with their line.
package telemetrytest

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/telemetry"
)

type fixture struct {
	Window   string               `yaml:"window"`
	Step     string               `yaml:"step"`
	Edges    []edge               `yaml:"edges"`
	Profiles map[string][]float64 `yaml:"profiles"`
}

type edge struct {
	Source      string             `yaml:"source"`
	Service     string             `yaml:"service"`
	Destination string             `yaml:"destination"`
	Requests    float64            `yaml:"requests"`
	Codes       map[string]float64 `yaml:"codes"`
	Flags       map[string]float64 `yaml:"flags"`
	Plaintext   float64            `yaml:"plaintext"`
	Latency     *struct {
		Median float64 `yaml:"median"`
		Sigma  float64 `yaml:"sigma"`
	} `yaml:"latency"`
	TCP *struct {
		Connections float64 `yaml:"connections"`
		Sent        float64 `yaml:"sent"`
		Received    float64 `yaml:"received"`
	} `yaml:"tcp"`
}

// End is the end of every fixture's window.
var End = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// Load reads a fixture file into a graph ending at End.
func Load(path string) (*telemetry.Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f fixture
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	win, step := time.Hour, 5*time.Minute
	if f.Window != "" {
		if win, err = telemetry.ParseDuration(f.Window); err != nil {
			return nil, fmt.Errorf("%s: window: %w", path, err)
		}
	}
	if f.Step != "" {
		if step, err = telemetry.ParseDuration(f.Step); err != nil {
			return nil, fmt.Errorf("%s: step: %w", path, err)
		}
	}
	b := telemetry.NewBuilder(End.Add(-win), End, step)
	totals := map[string]float64{}
	for i, e := range f.Edges {
		k, err := key(e)
		if err != nil {
			return nil, fmt.Errorf("%s: edges[%d]: %w", path, i, err)
		}
		if err := add(b, k, e); err != nil {
			return nil, fmt.Errorf("%s: edges[%d]: %w", path, i, err)
		}
		totals[k.Service.String()] += e.Requests
	}
	steps := int(win / step)
	for svc, ratios := range f.Profiles {
		ns, name, ok := strings.Cut(svc, "/")
		if !ok || len(ratios) == 0 {
			return nil, fmt.Errorf("%s: profiles: %q: want namespace/name and at least one ratio", path, svc)
		}
		if len(ratios) != 1 && len(ratios) != steps {
			return nil, fmt.Errorf("%s: profiles: %s has %d ratios, want 1 or %d (window/step)", path, svc, len(ratios), steps)
		}
		p := b.Profile(telemetry.Service{Namespace: ns, Name: name, Host: name + "." + ns + ".svc.cluster.local"})
		rate := totals[svc] / win.Seconds()
		for i := 0; i < steps && i < len(p.Totals); i++ {
			r := ratios[0]
			if len(ratios) > 1 {
				r = ratios[i]
			}
			p.Totals[i], p.Errors[i] = rate, rate*r
		}
	}
	return b.Graph("fixture " + path), nil
}

func workload(s string) (telemetry.Workload, error) {
	if s == "" || s == telemetry.Unknown {
		return telemetry.Workload{Name: telemetry.Unknown}, nil
	}
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" {
		return telemetry.Workload{}, fmt.Errorf("workload %q: want namespace/name or unknown", s)
	}
	return telemetry.Workload{Namespace: ns, Name: name}, nil
}

func key(e edge) (telemetry.Key, error) {
	src, err := workload(e.Source)
	if err != nil {
		return telemetry.Key{}, fmt.Errorf("source: %w", err)
	}
	var dst telemetry.Workload
	if e.Destination != "" {
		if dst, err = workload(e.Destination); err != nil {
			return telemetry.Key{}, fmt.Errorf("destination: %w", err)
		}
	}
	ns, name, ok := strings.Cut(e.Service, "/")
	if !ok || ns == "" || name == "" {
		return telemetry.Key{}, fmt.Errorf("service %q: want namespace/name", e.Service)
	}
	return telemetry.Key{Source: src, Service: telemetry.Service{Namespace: ns, Name: name, Host: name + "." + ns + ".svc.cluster.local"}, Destination: dst}, nil
}

func add(b *telemetry.Builder, k telemetry.Key, e edge) error {
	reporter := telemetry.ReporterSource
	if !k.Source.Known() {
		reporter = telemetry.ReporterDestination
	}
	rest := e.Requests
	for c, n := range e.Codes {
		code, err := strconv.Atoi(c)
		if err != nil {
			return fmt.Errorf("codes: %q is not a response code", c)
		}
		b.AddRequests(k, reporter, "http", code, "-", "", n)
		rest -= n
	}
	for fl, n := range e.Flags {
		code := 503
		if fl == "UT" {
			code = 504
		}
		if fl == "DC" {
			code = 0
		}
		b.AddRequests(k, reporter, "http", code, fl, "", n)
		rest -= n
	}
	if rest < 0 {
		return fmt.Errorf("codes and flags count %v more requests than requests", -rest)
	}
	b.AddRequests(k, reporter, "http", 200, "-", "", rest)
	e2 := b.Edge(k, reporter)
	if e.Requests > 0 {
		e2.Security = map[string]float64{telemetry.MutualTLS: e.Requests - e.Plaintext, telemetry.None: e.Plaintext}
	}
	if e.Latency != nil {
		if e.Latency.Median <= 0 || e.Latency.Sigma <= 0 {
			return fmt.Errorf("latency: median and sigma must be positive")
		}
		mu := math.Log(e.Latency.Median)
		for _, bound := range telemetry.DefaultBuckets {
			e2.Latency.Set(bound, e.Requests*0.5*math.Erfc(-(math.Log(bound)-mu)/(e.Latency.Sigma*math.Sqrt2)))
		}
		e2.Latency.Set(math.Inf(1), e.Requests)
	}
	if e.TCP != nil {
		e2.TCP = telemetry.TCP{ConnectionsOpened: e.TCP.Connections, ConnectionsClosed: e.TCP.Connections, BytesSent: e.TCP.Sent, BytesReceived: e.TCP.Received}
		if e.Requests == 0 {
			e2.Security = map[string]float64{telemetry.MutualTLS: e.TCP.Connections - e.Plaintext, telemetry.None: e.Plaintext}
		}
	}
	return nil
}
