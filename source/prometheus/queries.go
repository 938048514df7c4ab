package prometheus

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Every query meshpilot sends to Prometheus is one of these named
// templates. Each aggregates the whole mesh in one request — sums by
// source and destination workload, never a query per service — so the
// number of queries is the same for ten services or ten thousand.
//
// Template fields: .Window and .Step are PromQL durations ("1d", "15m"),
// .Range the rate range of the profile (at least two scrapes), .Match extra
// label matchers (with a leading comma, or empty).
var templates = []struct{ name, text string }{
	// requests: every request of the window by edge, reporter, response
	// code and flags, security policy and protocol. Both reporters come
	// back; telemetry.Builder picks one per edge, because only the source
	// side sees client-side failures (UO, UF, URX, UT) and only the
	// destination side sees callers outside the mesh.
	{"requests", `sum by (reporter, source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service, destination_service_name, destination_service_namespace, request_protocol, response_code, response_flags, connection_security_policy) (increase(istio_requests_total{reporter=~"source|waypoint|destination"{{.Match}}}[{{.Window}}]))`},

	// latency: the request-duration histogram of each edge over the
	// window, its buckets summed; quantiles are computed from them by
	// telemetry.Histogram.Quantile, for every edge and (buckets add up)
	// every destination. The server's side reports each request once
	// (reporter="destination", or "waypoint" in ambient mode); the
	// caller's side stands in only for destinations without a proxy
	// (destination_workload="unknown"). "or" keeps the first of these an
	// edge has. Reading one reporter rather than both halves the series
	// Prometheus must decode, which dominates the cost on a large mesh.
	// Only responses that are not 5xx (nor 0, no response) are read, the
	// ones telemetry.Failed does not call failures:
	// Istio splits the histogram by response code, and a server error's
	// duration is not the service's — a 503 from an overflowing pool is
	// a fast failure, a 504 lasts exactly the route timeout under test —
	// so counting them would pull the quantiles that timeouts and retries
	// are drawn from toward the failures and the current configuration.
	// Errors are counted by the requests query, with their flags. On a
	// mesh that has had errors this also halves the series read.
	// The histogram is read in shards of its bucket bounds (.Le), which
	// Prometheus evaluates in parallel; its tail above 30 s is read after
	// them for the services that need it (.Services, see tailQuery).
	{"latency", `sum by (source_workload, source_workload_namespace, destination_workload, destination_service_name, destination_service_namespace, le) (increase(istio_request_duration_milliseconds_bucket{reporter="destination",response_code!~"5..|0",{{.Le}}{{.Services}}{{.Match}}}[{{.Window}}]))
or sum by (source_workload, source_workload_namespace, destination_workload, destination_service_name, destination_service_namespace, le) (increase(istio_request_duration_milliseconds_bucket{reporter="waypoint",response_code!~"5..|0",{{.Le}}{{.Services}}{{.Match}}}[{{.Window}}]))
or sum by (source_workload, source_workload_namespace, destination_workload, destination_service_name, destination_service_namespace, le) (increase(istio_request_duration_milliseconds_bucket{reporter="source",destination_workload="unknown",response_code!~"5..|0",{{.Le}}{{.Services}}{{.Match}}}[{{.Window}}]))`},

	// tcp: bytes and connections of each TCP edge, by reporter and
	// security policy; the four counters in one answer, told apart by the
	// "metric" label. In ambient mode without a waypoint these, reported
	// by ztunnel, are all there is.
	{"tcp", `label_replace(sum by (reporter, source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service, destination_service_name, destination_service_namespace, connection_security_policy) (increase(istio_tcp_sent_bytes_total{reporter=~"source|destination"{{.Match}}}[{{.Window}}])), "metric", "sent", "", "")
or label_replace(sum by (reporter, source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service, destination_service_name, destination_service_namespace, connection_security_policy) (increase(istio_tcp_received_bytes_total{reporter=~"source|destination"{{.Match}}}[{{.Window}}])), "metric", "received", "", "")
or label_replace(sum by (reporter, source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service, destination_service_name, destination_service_namespace, connection_security_policy) (increase(istio_tcp_connections_opened_total{reporter=~"source|destination"{{.Match}}}[{{.Window}}])), "metric", "opened", "", "")
or label_replace(sum by (reporter, source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service, destination_service_name, destination_service_namespace, connection_security_policy) (increase(istio_tcp_connections_closed_total{reporter=~"source|destination"{{.Match}}}[{{.Window}}])), "metric", "closed", "", "")`},

	// profile: a range query, one point per step, of each destination
	// service's request rate and 5xx rate, as the server saw them (the
	// client's UO 503s are not the server's errors); the caller's side
	// stands in only for destinations without a proxy
	// (destination_workload="unknown"), so that each request series is
	// read once.
	{"profile", `label_replace(sum by (destination_service_name, destination_service_namespace) (rate(istio_requests_total{reporter=~"destination|waypoint"{{.Match}}}[{{.Range}}])) or sum by (destination_service_name, destination_service_namespace) (rate(istio_requests_total{reporter="source",destination_workload="unknown"{{.Match}}}[{{.Range}}])), "series", "total", "", "")
or label_replace(sum by (destination_service_name, destination_service_namespace) (rate(istio_requests_total{reporter=~"destination|waypoint",response_code=~"5.."{{.Match}}}[{{.Range}}])) or sum by (destination_service_name, destination_service_namespace) (rate(istio_requests_total{reporter="source",destination_workload="unknown",response_code=~"5.."{{.Match}}}[{{.Range}}])), "series", "errors", "", "")`},
}

// params fill the templates.
type params struct {
	Window, Step, Range string
	Match               string
	// Le selects a part of the histogram's buckets, Services the
	// destination services to read them for (latency only).
	Le, Services string
}

// The histogram's bounds above 30 s (Istio's 60000 to 3600000 ms) count
// anything only where requests last that long — streams, long polls,
// batch jobs — yet they are a quarter of the bucket series, and finding
// series is what a large mesh's graph costs Prometheus. So the two shards
// read every bound but those, and tailQuery reads them afterwards for the
// destination services with requests above 30 s. Every other edge has
// none: its histogram without the tail's bounds gives the same quantiles
// and shares (telemetry.Histogram puts nothing between a bound and +Inf
// holding the same count).
const (
	// tailFrom is the last bound the shards read below the tail.
	tailFrom = 30000
	// tailLes match the tail's bounds, as Istio's proxies write them.
	tailLes = `60000|300000|600000|1.8e\\+06|3.6e\\+06`
)

// firstShardLes are the bounds of the first latency shard.
const firstShardLes = `0.5|1|5|10|25|50|100|250`

// latencyShards split the histogram's buckets below the tail into two
// queries of about equal size for Istio's default bounds; the second
// takes everything but the first and the tail, so custom bounds
// (sidecar.istio.io/statsHistogramBuckets) are read too.
var latencyShards = []string{
	`le=~"` + firstShardLes + `"`,
	`le!~"` + firstShardLes + `|` + tailLes + `"`,
}

// maxServicesMatcher bounds the text of tailQuery's service matchers: a
// query sent as GET (through Rancher's service proxy) must fit in a URL.
// Beyond it the tail is read for every service.
const maxServicesMatcher = 4000

// tailQuery renders the query for the histogram's tail, restricted to
// the destination services named (name and namespace label values).
func tailQuery(p params, names, namespaces []string) (query, error) {
	p.Le = `le=~"` + tailLes + `"`
	if len(names) > 0 {
		m := ",destination_service_name=~" + alternatives(names) + ",destination_service_namespace=~" + alternatives(namespaces)
		if len(m) <= maxServicesMatcher {
			p.Services = m
		}
	}
	text, err := render("latency", p)
	return query{name: "latency-tail", text: text}, err
}

// alternatives is a PromQL string holding a regular expression that
// matches exactly the values given.
func alternatives(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return strconv.Quote(strings.Join(quoted, "|"))
}

func newParams(window, step time.Duration, match string) params {
	// rate needs two samples in its range. Prometheus 3 ranges are open
	// on the left, so a range of one step holds a single sample when the
	// scrape interval is the step; two steps hold two whenever the scrape
	// interval is at most the step (and at least 2m: a 30s–1m scrape).
	rng := 2 * step
	if rng < 2*time.Minute {
		rng = 2 * time.Minute
	}
	if match = strings.TrimSpace(match); match != "" && !strings.HasPrefix(match, ",") {
		match = "," + match
	}
	return params{Window: promDuration(window), Step: promDuration(step), Range: promDuration(rng), Match: match}
}

var parsed = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, t := range templates {
		m[t.name] = template.Must(template.New(t.name).Option("missingkey=error").Parse(t.text))
	}
	return m
}()

// render returns the query of a named template.
func render(name string, p params) (string, error) {
	t := parsed[name]
	if t == nil {
		return "", fmt.Errorf("no query template %q", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return "", fmt.Errorf("render query %s: %w", name, err)
	}
	return b.String(), nil
}

// query is one request of a plan.
type query struct {
	name, text string
	rangeQuery bool
}

// plan renders the queries that build a graph: five whatever the mesh's
// size (requests, two latency shards, TCP, profile).
func plan(p params) ([]query, error) {
	var qs []query
	var errs []error
	add := func(name string, p params, rangeQuery bool) {
		text, err := render(name, p)
		errs = append(errs, err)
		qs = append(qs, query{name: name, text: text, rangeQuery: rangeQuery})
	}
	add("requests", p, false)
	for _, le := range latencyShards {
		sp := p
		sp.Le = le
		add("latency", sp, false)
	}
	add("tcp", p, false)
	add("profile", p, true)
	return qs, errors.Join(errs...)
}

// promDuration writes d as PromQL does: the largest units that divide it
// ("1d", "90m", "15s").
func promDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	ms := d.Milliseconds()
	units := []struct {
		suffix string
		ms     int64
	}{{"w", 7 * 24 * 3600 * 1000}, {"d", 24 * 3600 * 1000}, {"h", 3600 * 1000}, {"m", 60 * 1000}, {"s", 1000}, {"ms", 1}}
	var b strings.Builder
	for _, u := range units {
		if ms >= u.ms {
			fmt.Fprintf(&b, "%d%s", ms/u.ms, u.suffix)
			ms %= u.ms
		}
	}
	return b.String()
}
