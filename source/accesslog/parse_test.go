package accesslog

import (
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Hand-written lines in Istio's default formats.
const (
	textOutbound = `[2026-11-21T10:00:01.000Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 295 12 11 "-" "python-requests/2.31.0" "6a1f0c2e-0001" "reviews:9080" "10.8.0.21:9080" outbound|9080||reviews.shop.svc.cluster.local 10.8.0.11:52310 10.96.12.7:9080 10.8.0.11:47802 - default`
	textInbound  = `[2026-11-21T10:00:01.001Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 295 10 9 "-" "python-requests/2.31.0" "6a1f0c2e-0001" "reviews:9080" "10.8.0.21:9080" inbound|9080|| 127.0.0.6:41821 10.8.0.21:9080 10.8.0.11:52310 outbound_.9080_._.reviews.shop.svc.cluster.local default`
	textTCP      = `[2026-11-21T10:02:00.000Z] "- - -" 0 - - - "-" 1200 3400 5012 - "-" "-" "-" "-" "10.8.0.41:3306" outbound|3306||mysql.db.svc.cluster.local 10.8.0.11:51234 10.96.4.5:3306 10.8.0.11:40212 - -`
	jsonTCP      = `{"start_time":"2026-11-21T10:00:20.000Z","method":null,"path":null,"protocol":null,"response_code":0,"response_flags":"-","bytes_received":310,"bytes_sent":2048,"duration":120,"authority":null,"upstream_host":"10.8.0.11:9080","upstream_cluster":"inbound|9080||","upstream_local_address":"127.0.0.6:51010","downstream_local_address":"10.8.0.11:9080","downstream_remote_address":"10.8.0.31:45000","requested_server_name":null,"route_name":null}`
	jsonHTTP     = `{"start_time":"2026-11-21T10:00:06.000Z","method":"GET","path":"/productpage","protocol":"HTTP/1.1","response_code":504,"response_flags":"UT","bytes_received":0,"bytes_sent":"24","duration":15000,"authority":"bookinfo.example.com","upstream_host":"10.8.0.11:9080","upstream_cluster":"outbound|9080||productpage.shop.svc.cluster.local","upstream_local_address":"10.8.0.2:40104","downstream_local_address":"10.8.0.2:8080","downstream_remote_address":"203.0.113.7:61002","requested_server_name":null,"route_name":"productpage"}`
)

func TestParseLine(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name    string
		line    string
		want    entry
		pod     string
		kind    lineKind
		wantErr string
	}{
		{
			name: "text outbound",
			line: textOutbound,
			kind: accessLine,
			want: entry{
				Start: at("2026-11-21T10:00:01Z"), Method: "GET", Path: "/reviews/0", Protocol: "HTTP/1.1", Code: 200,
				BytesSent: 295, Duration: 12, Authority: "reviews:9080", UpstreamHost: "10.8.0.21:9080",
				UpstreamCluster: "outbound|9080||reviews.shop.svc.cluster.local", UpstreamLocal: "10.8.0.11:52310",
				DownstreamLocal: "10.96.12.7:9080", DownstreamRemote: "10.8.0.11:47802", Route: "default",
			},
		},
		{
			name: "text inbound with kubectl prefix",
			line: "[pod/reviews-v1-7c9f5d8b6-q4w7z/istio-proxy] " + textInbound,
			kind: accessLine,
			pod:  "reviews-v1-7c9f5d8b6-q4w7z",
			want: entry{
				Start: at("2026-11-21T10:00:01.001Z"), Method: "GET", Path: "/reviews/0", Protocol: "HTTP/1.1", Code: 200,
				BytesSent: 295, Duration: 10, Authority: "reviews:9080", UpstreamHost: "10.8.0.21:9080",
				UpstreamCluster: "inbound|9080||", UpstreamLocal: "127.0.0.6:41821", DownstreamLocal: "10.8.0.21:9080",
				DownstreamRemote: "10.8.0.11:52310", ServerName: "outbound_.9080_._.reviews.shop.svc.cluster.local", Route: "default",
			},
		},
		{
			name: "text TCP with kubectl prefix and timestamps, CRLF",
			line: "[pod/productpage-v1-6b7f6db6c4-k2x9p/istio-proxy] 2026-11-21T10:02:00.000312345Z " + textTCP + "\r\n",
			kind: accessLine,
			pod:  "productpage-v1-6b7f6db6c4-k2x9p",
			want: entry{
				Start: at("2026-11-21T10:02:00Z"), BytesReceived: 1200, BytesSent: 3400, Duration: 5012,
				UpstreamHost: "10.8.0.41:3306", UpstreamCluster: "outbound|3306||mysql.db.svc.cluster.local",
				UpstreamLocal: "10.8.0.11:51234", DownstreamLocal: "10.96.4.5:3306", DownstreamRemote: "10.8.0.11:40212",
			},
		},
		{
			name: "json HTTP, a number written as a string",
			line: jsonHTTP,
			kind: accessLine,
			want: entry{
				Start: at("2026-11-21T10:00:06Z"), Method: "GET", Path: "/productpage", Protocol: "HTTP/1.1", Code: 504, Flags: "UT",
				BytesSent: 24, Duration: 15000, Authority: "bookinfo.example.com", UpstreamHost: "10.8.0.11:9080",
				UpstreamCluster: "outbound|9080||productpage.shop.svc.cluster.local", UpstreamLocal: "10.8.0.2:40104",
				DownstreamLocal: "10.8.0.2:8080", DownstreamRemote: "203.0.113.7:61002", Route: "productpage",
			},
		},
		{
			name: "json TCP with nulls",
			line: "[pod/productpage-v1-6b7f6db6c4-k2x9p/istio-proxy] " + jsonTCP,
			kind: accessLine,
			pod:  "productpage-v1-6b7f6db6c4-k2x9p",
			want: entry{
				Start: at("2026-11-21T10:00:20Z"), BytesReceived: 310, BytesSent: 2048, Duration: 120,
				UpstreamHost: "10.8.0.11:9080", UpstreamCluster: "inbound|9080||", UpstreamLocal: "127.0.0.6:51010",
				DownstreamLocal: "10.8.0.11:9080", DownstreamRemote: "10.8.0.31:45000",
			},
		},
		{name: "pilot-agent", line: "2026-11-21T10:00:00.101234Z\tinfo\tFLAG: --concurrency=\"2\"", kind: otherLine},
		{name: "envoy's own format", line: "[2026-11-21 10:05:10.000][15][info][main] all clusters initialized", kind: otherLine},
		{name: "proxy log as json", line: `{"level":"info","time":"2026-11-21T10:00:00Z","msg":"x"}`, kind: otherLine},
		{name: "prefixed pilot-agent", line: "[pod/a-1/istio-proxy] 2026-11-21T10:00:00Z\tinfo\tx", kind: otherLine, pod: "a-1"},
		{name: "blank", line: "", kind: otherLine},
		{name: "truncated", line: textOutbound[:80], kind: accessLine, wantErr: "fields after START_TIME"},
		{name: "no closing bracket", line: "[2026-11-21T10:00:01.000Z", kind: accessLine, wantErr: "no ]"},
		{name: "bad time", line: strings.Replace(textOutbound, "2026-11-21T10:00:01.000Z", "2026-11-21 10:00", 1), kind: accessLine, wantErr: "START_TIME"},
		{name: "bad code", line: strings.Replace(textOutbound, " 200 ", " OK ", 1), kind: accessLine, wantErr: `RESPONSE_CODE "OK"`},
		{name: "bad bytes", line: strings.Replace(textOutbound, " 295 ", " 2k ", 1), kind: accessLine, wantErr: `BYTES_SENT "2k"`},
		{name: "bad duration", line: strings.Replace(textOutbound, " 12 11 ", " -3 11 ", 1), kind: accessLine, wantErr: `DURATION "-3"`},
		{name: "unquoted authority", line: strings.Replace(textOutbound, `"reviews:9080"`, `reviews:9080`, 1), kind: accessLine, wantErr: "field 15 is quoted"},
		{name: "unterminated quote", line: `[2026-11-21T10:00:01.000Z] "GET / HTTP/1.1`, kind: accessLine, wantErr: "unterminated quote"},
		{name: "short request", line: strings.Replace(textOutbound, `"GET /reviews/0 HTTP/1.1"`, `"GET"`, 1), kind: accessLine, wantErr: "want METHOD PATH PROTOCOL"},
		{name: "json broken", line: `{"start_time":"2026-11-21T10:05:05.000Z","method":"GET"`, kind: accessLine, wantErr: "invalid JSON"},
		{name: "json object as value", line: `{"start_time":"2026-11-21T10:05:05.000Z","method":{}}`, kind: accessLine, wantErr: "want a string or a number"},
		{name: "json bad time", line: `{"start_time":"yesterday"}`, kind: accessLine, wantErr: `START_TIME "yesterday"`},
		{name: "json bad code", line: `{"start_time":"2026-11-21T10:05:05.000Z","response_code":"OK"}`, kind: accessLine, wantErr: `RESPONSE_CODE "OK"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, pod, kind, err := parseLine(tt.line)
			if kind != tt.kind || pod != tt.pod {
				t.Fatalf("kind %d pod %q, want kind %d pod %q", kind, pod, tt.kind, tt.pod)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.kind == accessLine && e != tt.want {
				t.Errorf("got  %+v\nwant %+v", e, tt.want)
			}
		})
	}
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		method, path, proto string
		want                string
	}{
		{"POST", "/shop.ratings.v1.Ratings/GetRating", "HTTP/2", "grpc"},
		{"POST", "/grpc.health.v1.Health/Check", "HTTP/2", "grpc"},
		{"POST", "/grpc.health.v1.Health/Check?x=1", "HTTP/3", "grpc"},
		{"POST", "/shop.ratings.v1.Ratings/GetRating", "HTTP/1.1", "http"},
		{"GET", "/shop.ratings.v1.Ratings/GetRating", "HTTP/2", "http"},
		{"POST", "/Ratings/GetRating", "HTTP/2", "http"},
		{"POST", "/api/v1/orders", "HTTP/2", "http"},
		{"POST", "/v1.2/orders/new", "HTTP/2", "http"},
		{"POST", "/a.b/c/d", "HTTP/2", "http"},
		{"POST", "/a.b/", "HTTP/2", "http"},
		{"POST", "/.b/c", "HTTP/2", "http"},
		{"POST", "", "HTTP/2", "http"},
	}
	for _, tt := range tests {
		e := entry{Method: tt.method, Path: tt.path, Protocol: tt.proto}
		if got := e.protocol(); got != tt.want {
			t.Errorf("%s %s %s: got %s, want %s", tt.method, tt.path, tt.proto, got, tt.want)
		}
	}
}

func TestParseInput(t *testing.T) {
	tests := []struct {
		arg     string
		want    Input
		wantErr string
	}{
		{arg: "logs/productpage.log", want: Input{Path: "logs/productpage.log"}},
		{arg: "productpage.log", want: Input{Path: "productpage.log"}},
		{arg: "shop/productpage-v1=logs/pp.log", want: Input{Path: "logs/pp.log", Workload: telemetry.Workload{Namespace: "shop", Name: "productpage-v1"}}},
		{arg: "istio-system/istio-ingressgateway=/tmp/gw=1.log", want: Input{Path: "/tmp/gw=1.log", Workload: telemetry.Workload{Namespace: "istio-system", Name: "istio-ingressgateway"}}},
		{arg: "./logs/a=b.log", want: Input{Path: "./logs/a=b.log"}},
		{arg: "/var/log/a=b.log", want: Input{Path: "/var/log/a=b.log"}},
		{arg: "a=b.log", want: Input{Path: "a=b.log"}},
		{arg: "-", wantErr: "standard input"},
		{arg: "shop/pp=-", wantErr: "standard input"},
		{arg: "", wantErr: "empty"},
		{arg: "shop/=pp.log", wantErr: "want NAMESPACE/WORKLOAD=FILE"},
		{arg: "shop/pp=", wantErr: "no file"},
	}
	for _, tt := range tests {
		got, err := ParseInput(tt.arg)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want one with %q", tt.arg, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %+v, %v; want %+v", tt.arg, got, err, tt.want)
		}
	}
}
