// Package render prints a telemetry.Graph the way `meshpilot traffic` shows
// it: what Rancher's Istio page (Kiali) shows per project, namespace and
// service — success rate, requests per second, 4xx and 5xx shares, request
// duration p50/p90/p99, TCP throughput for services with only TCP, and the
// share of mTLS — as a text table, a JSON document, a Graphviz DOT graph or
// a self-rendered SVG picture.
//
// All four see the same figures. A service's figures are the sum of the
// edges into it, kept apart per cluster. A success rate counts, as Kiali
// and Rancher do, the requests answered with neither a 5xx nor no response
// at all (code 0); it is unknown without requests. Request durations are
// those of the same requests (see telemetry.Edge.Latency). The mTLS share is over
// the requests and connections whose connection security policy is known.
//
// # JSON
//
// The JSON document is a contract for scripts; fields are only ever added.
// Rates are per second over the window, shares are fractions from 0 to 1,
// durations are milliseconds, counts are totals over the window. A figure
// that is unknown (a success rate without requests, a quantile without a
// histogram) is left out, never NaN.
//
//	{
//	  "window":  {"start": RFC 3339, "end": RFC 3339, "seconds": n},
//	  "source":  "prometheus http://...",
//	  "queries": n,
//	  "notices": ["..."],
//	  "services": [{
//	    "cluster", "project", "namespace", "name", "host",
//	    "requests":          count,
//	    "requestsPerSecond": rate,
//	    "successRate", "rate4xx", "rate5xx": share of requests,
//	    "latencyMs":         {"p50", "p90", "p99", "p999", "saturated": ["p99"]},
//	    "mtlsShare":         share,
//	    "tcp": {"sentBytesPerSecond", "receivedBytesPerSecond",
//	            "connectionsOpenedPerSecond", "connectionsClosedPerSecond"}
//	  }],
//	  "edges": [{
//	    "source":      {"cluster", "project", "namespace", "name"},
//	    "service":     {"cluster", "project", "namespace", "name", "host"},
//	    "destination": {...} (absent when the reporter could not tell),
//	    "reporter", "protocol",
//	    "requests", "requestsPerSecond", "successRate", "rate4xx", "rate5xx",
//	    "latencyMs", "mtlsShare", "tcp",
//	    "flags":    {"UO": count, ...},
//	    "security": {"mutual_tls": count, "none": count, "unknown": count}
//	  }]
//	}
//
// A workload outside the mesh is {"name": "unknown"}. "saturated" lists the
// quantiles beyond the histogram's highest finite bucket, whose value is
// only a lower bound.
package render
