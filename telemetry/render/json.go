package render

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/meshpilot/meshpilot/telemetry"
)

// JSON writes the document the package comment describes.
func JSON(w io.Writer, g *telemetry.Graph, opts Options) error {
	g = orEmpty(g)
	doc := jsonDoc{
		Window:   jsonWindow{Seconds: num(g.Window().Seconds())},
		Source:   g.Source,
		Queries:  g.Queries,
		Notices:  append([]string{}, g.Notices...),
		Services: []jsonService{},
		Edges:    []jsonEdge{},
	}
	if !g.Start.IsZero() || !g.End.IsZero() {
		doc.Window.Start, doc.Window.End = stamp(g.Start), stamp(g.End)
	}
	for _, r := range services(g, opts) {
		doc.Services = append(doc.Services, jsonService{
			jsonServiceRef: serviceRef(r.service, r.project),
			jsonFigures:    figures(g, &r.traffic),
		})
	}
	for _, e := range g.Edges {
		doc.Edges = append(doc.Edges, edgeDoc(g, opts, e))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

type jsonDoc struct {
	Window   jsonWindow    `json:"window"`
	Source   string        `json:"source"`
	Queries  int           `json:"queries"`
	Notices  []string      `json:"notices"`
	Services []jsonService `json:"services"`
	Edges    []jsonEdge    `json:"edges"`
}

type jsonWindow struct {
	Start   string `json:"start,omitempty"`
	End     string `json:"end,omitempty"`
	Seconds num    `json:"seconds"`
}

type jsonWorkloadRef struct {
	Cluster   string `json:"cluster,omitempty"`
	Project   string `json:"project,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

type jsonServiceRef struct {
	Cluster   string `json:"cluster,omitempty"`
	Project   string `json:"project,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Host      string `json:"host,omitempty"`
}

// jsonFigures are the figures services and edges share.
type jsonFigures struct {
	Requests          num          `json:"requests"`
	RequestsPerSecond num          `json:"requestsPerSecond"`
	SuccessRate       *num         `json:"successRate,omitempty"`
	Rate4xx           *num         `json:"rate4xx,omitempty"`
	Rate5xx           *num         `json:"rate5xx,omitempty"`
	LatencyMs         *jsonLatency `json:"latencyMs,omitempty"`
	MTLSShare         *num         `json:"mtlsShare,omitempty"`
	TCP               *jsonTCP     `json:"tcp,omitempty"`
}

type jsonService struct {
	jsonServiceRef
	jsonFigures
}

type jsonEdge struct {
	Source      jsonWorkloadRef  `json:"source"`
	Service     jsonServiceRef   `json:"service"`
	Destination *jsonWorkloadRef `json:"destination,omitempty"`
	Reporter    string           `json:"reporter"`
	Protocol    string           `json:"protocol,omitempty"`
	jsonFigures
	Flags    map[string]num `json:"flags,omitempty"`
	Security map[string]num `json:"security,omitempty"`
}

type jsonLatency struct {
	P50       *num     `json:"p50,omitempty"`
	P90       *num     `json:"p90,omitempty"`
	P99       *num     `json:"p99,omitempty"`
	P999      *num     `json:"p999,omitempty"`
	Saturated []string `json:"saturated,omitempty"`
}

type jsonTCP struct {
	SentBytesPerSecond         num `json:"sentBytesPerSecond"`
	ReceivedBytesPerSecond     num `json:"receivedBytesPerSecond"`
	ConnectionsOpenedPerSecond num `json:"connectionsOpenedPerSecond"`
	ConnectionsClosedPerSecond num `json:"connectionsClosedPerSecond"`
}

func serviceRef(s telemetry.Service, project string) jsonServiceRef {
	return jsonServiceRef{Cluster: s.Cluster, Project: project, Namespace: s.Namespace, Name: s.Name, Host: s.Host}
}

func workloadRef(w telemetry.Workload, opts Options) jsonWorkloadRef {
	if !w.Known() {
		return jsonWorkloadRef{Name: telemetry.Unknown}
	}
	return jsonWorkloadRef{Cluster: w.Cluster, Project: opts.project(w.Cluster, w.Namespace), Namespace: w.Namespace, Name: w.Name}
}

func edgeDoc(g *telemetry.Graph, opts Options, e *telemetry.Edge) jsonEdge {
	var t traffic
	t.add(e)
	out := jsonEdge{
		Source:      workloadRef(e.Source, opts),
		Service:     serviceRef(e.Service, opts.project(e.Service.Cluster, e.Service.Namespace)),
		Reporter:    e.Reporter,
		Protocol:    t.protocol(),
		jsonFigures: figures(g, &t),
		Flags:       nums(t.Flags),
		Security:    nums(t.Security),
	}
	if e.Destination.Known() {
		d := workloadRef(e.Destination, opts)
		out.Destination = &d
	}
	return out
}

func figures(g *telemetry.Graph, t *traffic) jsonFigures {
	f := jsonFigures{
		Requests:          num(t.Requests),
		RequestsPerSecond: num(g.Rate(t.Requests)),
		SuccessRate:       opt(t.success()),
		Rate4xx:           opt(t.share(4)),
		Rate5xx:           opt(t.share(5)),
		MTLSShare:         opt(t.mtls()),
	}
	if t.Latency.Count() > 0 {
		l := &jsonLatency{}
		for _, q := range []struct {
			name string
			q    float64
			dst  **num
		}{{"p50", 0.5, &l.P50}, {"p90", 0.9, &l.P90}, {"p99", 0.99, &l.P99}, {"p999", 0.999, &l.P999}} {
			ms, sat, ok := t.quantile(q.q)
			*q.dst = opt(ms, ok)
			if ok && sat {
				l.Saturated = append(l.Saturated, q.name)
			}
		}
		f.LatencyMs = l
	}
	if t.hasTCP() {
		f.TCP = &jsonTCP{
			SentBytesPerSecond:         num(g.Rate(t.TCP.BytesSent)),
			ReceivedBytesPerSecond:     num(g.Rate(t.TCP.BytesReceived)),
			ConnectionsOpenedPerSecond: num(g.Rate(t.TCP.ConnectionsOpened)),
			ConnectionsClosedPerSecond: num(g.Rate(t.TCP.ConnectionsClosed)),
		}
	}
	return f
}

// num is a figure written with six significant digits, so that float
// noise does not show; a value that is not finite is written as null.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if err != nil {
		return nil, err
	}
	return []byte(strconv.FormatFloat(r, 'f', -1, 64)), nil
}

func opt(v float64, ok bool) *num {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	n := num(v)
	return &n
}

func nums(m map[string]float64) map[string]num {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]num, len(m))
	for k, v := range m {
		out[k] = num(v)
	}
	return out
}
