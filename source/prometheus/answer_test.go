package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, body string
		want       apiAnswer
		wantErr    string // a part of the error, if one is wanted
	}{
		{
			name: "vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1","b":"x"},"value":[1763726400.5,"2.5"]},{"metric":{},"value":[1763726400,"NaN"]}]}}`,
			want: apiAnswer{status: "success", result: result{kind: "vector", series: []series{
				{labels: labels{{"a", "1"}, {"b", "x"}}, value: point{1763726400500, 2.5}},
				{labels: labels{}, value: point{1763726400000, math.NaN()}},
			}}},
		},
		{
			name: "matrix with warnings, stats and white space",
			body: ` { "status" : "success" , "warnings" : [ "partial" ] ,
				"data" : { "result" : [ { "metric" : { "s" : "t" } , "values" : [ [ 1 , "+Inf" ] , [ 2 , "-1e3" ] ] } ] ,
				"resultType" : "matrix", "stats": {"timings": {"evalTotalTime": 0.1}, "samples": null} } , "infos": ["x"] } `,
			want: apiAnswer{status: "success", result: result{kind: "matrix", warnings: v1.Warnings{"partial"}, series: []series{
				{labels: labels{{"s", "t"}}, values: []point{{1000, math.Inf(1)}, {2000, -1000}}},
			}}},
		},
		{
			name: "escapes in label values",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"path":"a\"b\\c\u00e9\n","n\u0061me":"v"},"value":[0,"1"]}]}}`,
			want: apiAnswer{status: "success", result: result{kind: "vector", series: []series{
				{labels: labels{{"path", "a\"b\\cé\n"}, {"name", "v"}}, value: point{0, 1}},
			}}},
		},
		{
			name: "scalar",
			body: `{"status":"success","data":{"resultType":"scalar","result":[10,"3"]}}`,
			want: apiAnswer{status: "success", result: result{kind: "scalar", series: []series{{value: point{10000, 3}}}}},
		},
		{
			name: "nulls",
			body: `{"status":"success","warnings":null,"data":{"resultType":"vector","result":null}}`,
			want: apiAnswer{status: "success", result: result{kind: "vector"}},
		},
		{
			name: "a native histogram is skipped",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"histogram":[1,{"count":"2","buckets":[[0,"1","2","3"]]}]}]}}`,
			want: apiAnswer{status: "success", result: result{kind: "vector", series: []series{{labels: labels{{"a", "b"}}}}}},
		},
		{
			name: "error",
			body: `{"status":"error","errorType":"execution","error":"query timed out","data":null}`,
			want: apiAnswer{status: "error", errorType: "execution", errMsg: "query timed out"},
		},
		{name: "truncated", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"`, wantErr: "at byte 78: the answer ends inside an object"},
		{name: "value not a number", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}`, wantErr: `sample value "x" is not a number`},
		{name: "value not a string", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}`, wantErr: `want '"'`},
		{name: "label value not a string", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}}`, wantErr: `want '"'`},
		{name: "bad timestamp", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","2"]}]}}`, wantErr: "want a number"},
		{name: "huge timestamp", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e300,"2"]}]}}`, wantErr: "out of range"},
		{name: "data after the answer", body: `{"status":"success"} {}`, wantErr: "data after the answer"},
		{name: "not JSON", body: `<html>bad gateway</html>`, wantErr: "at byte 0"},
		{name: "empty", body: ``, wantErr: "the answer ends"},
		{name: "unterminated string", body: `{"status":"succ`, wantErr: "unterminated string"},
		{name: "control character", body: "{\"status\":\"a\nb\"}", wantErr: "control character"},
		{name: "bad escape", body: `{"status":"a\qb"}`, wantErr: "bad string"},
		{name: "deep nesting", body: `{"x":` + strings.Repeat("[", 100000) + `}`, wantErr: "nested deeper than 64"},
		{name: "missing comma", body: `{"status":"success" "data":{}}`, wantErr: "want ',' or '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameAnswer(got, tt.want) {
				t.Errorf("decode:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// sameAnswer compares answers, NaN equal to NaN and nil labels to empty.
func sameAnswer(a, b apiAnswer) bool {
	if a.status != b.status || a.errorType != b.errorType || a.errMsg != b.errMsg || a.kind != b.kind ||
		!reflect.DeepEqual(a.warnings, b.warnings) || len(a.series) != len(b.series) {
		return false
	}
	same := func(x, y point) bool {
		return x.t == y.t && (x.v == y.v || math.IsNaN(x.v) && math.IsNaN(y.v))
	}
	for i := range a.series {
		x, y := a.series[i], b.series[i]
		if len(x.labels) != len(y.labels) || !same(x.value, y.value) || len(x.values) != len(y.values) {
			return false
		}
		for j := range x.labels {
			if x.labels[j] != y.labels[j] {
				return false
			}
		}
		for j := range x.values {
			if !same(x.values[j], y.values[j]) {
				return false
			}
		}
	}
	return true
}

// TestDecodeRoundTrip decodes random answers written by encoding/json, as
// Prometheus writes them.
func TestDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcxyz-_./:\"\\é😀\n\t ")
	str := func() string {
		n := r.IntN(12)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 300 {
		type sample struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value,omitempty"`
			Values [][]any           `json:"values,omitempty"`
		}
		matrix := i%2 == 1
		var want []series
		var in []sample
		for range r.IntN(5) {
			s := sample{Metric: map[string]string{}}
			var ls labels
			for range r.IntN(4) {
				k, v := "l"+str(), str()
				if _, dup := s.Metric[k]; dup {
					continue
				}
				s.Metric[k] = v
			}
			for k, v := range s.Metric {
				ls = append(ls, label{k, v})
			}
			// encoding/json writes map keys sorted.
			slices.SortFunc(ls, func(a, b label) int { return strings.Compare(a.name, b.name) })
			ws := series{labels: ls}
			pt := func() ([]any, point) {
				ms := r.Int64N(2e12)
				v := r.NormFloat64() * 1e6
				return []any{json.Number(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)), fmt.Sprint(v)}, point{ms, v}
			}
			if matrix {
				for range r.IntN(4) {
					raw, p := pt()
					s.Values = append(s.Values, raw)
					ws.values = append(ws.values, p)
				}
			} else {
				s.Value, ws.value = pt()
			}
			in = append(in, s)
			want = append(want, ws)
		}
		kind := "vector"
		if matrix {
			kind = "matrix"
		}
		body, err := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": kind, "result": in}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !sameAnswer(got, apiAnswer{status: "success", result: result{kind: kind, series: want}}) {
			t.Fatalf("%s:\n got %+v\nwant %+v", body, got.series, want)
		}
	}
}

// FuzzDecode: no input makes the decoder panic or loop, and whatever it
// accepts encoding/json accepts too.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"2"]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"],[3,"NaN"]]}]},"warnings":["w"]}`,
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := decode(body); err == nil && !json.Valid(body) {
			t.Errorf("decode accepted what is not JSON: %q", body)
		}
	})
}

// TestDo covers the HTTP side: the GET fallback and how failures are
// typed, which tells a query Prometheus rejected from a Prometheus that
// could not be asked.
func TestDo(t *testing.T) {
	ok := `{"status":"success","data":{"resultType":"vector","result":[]}}`
	tests := []struct {
		name     string
		status   int
		body     string
		postOnly int // status for a POST, if it differs
		wantType v1.ErrorType
		wantMsg  string
	}{
		{name: "ok", status: 200, body: ok},
		{name: "POST not allowed, GET is", status: 200, body: ok, postOnly: http.StatusMethodNotAllowed},
		{name: "rejected query", status: 400, body: `{"status":"error","errorType":"bad_data","error":"1:5: parse error"}`, wantType: v1.ErrBadData, wantMsg: "parse error"},
		{name: "execution error", status: 422, body: `{"status":"error","errorType":"execution","error":"too many samples"}`, wantType: v1.ErrExec, wantMsg: "too many samples"},
		{name: "timeout", status: 503, body: `{"status":"error","errorType":"timeout","error":"query timed out"}`, wantType: v1.ErrServer, wantMsg: "server error: 503: query timed out"},
		{name: "bad gateway", status: 502, body: "<html>bad gateway</html>", wantType: v1.ErrServer, wantMsg: "server error: 502"},
		{name: "forbidden", status: 403, body: "forbidden", wantType: v1.ErrClient, wantMsg: "client error: 403"},
		{name: "not JSON", status: 200, body: "<html>", wantType: v1.ErrBadResponse, wantMsg: "at byte 0"},
		{name: "400 saying success", status: 400, body: ok, wantType: v1.ErrBadResponse, wantMsg: "inconsistent"},
		{name: "unknown status", status: 200, body: `{"status":"maybe"}`, wantType: v1.ErrBadResponse, wantMsg: `status "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var methods []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				methods = append(methods, r.Method)
				if err := r.ParseForm(); err != nil || r.Form.Get("query") != "up" || r.Form.Get("time") != "1763726400.25" {
					http.Error(w, fmt.Sprintf("form %v: %v", r.Form, err), http.StatusTeapot)
					return
				}
				if r.Method == http.MethodPost && tt.postOnly != 0 {
					w.WriteHeader(tt.postOnly)
					return
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			client, err := Config{URL: srv.URL}.Client()
			if err != nil {
				t.Fatal(err)
			}
			at := time.Unix(1763726400, 250e6)
			res, err := do(context.Background(), client, "/api/v1/query", queryArgs("up", at))
			if tt.wantType == "" {
				if err != nil || res.kind != "vector" {
					t.Fatalf("do = %+v, %v", res, err)
				}
				if tt.postOnly != 0 && strings.Join(methods, ",") != "POST,GET" {
					t.Errorf("methods %v, want POST then GET", methods)
				}
				return
			}
			var apiErr *v1.Error
			if !errors.As(err, &apiErr) || apiErr.Type != tt.wantType || !strings.Contains(apiErr.Error(), tt.wantMsg) {
				t.Fatalf("err = %#v, want a %s error saying %q", err, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// BenchmarkDecode reads an answer the size of one latency shard of a
// 10,000-service mesh (110,000 series, 28 MB).
func BenchmarkDecode(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	n := 0
	for svc := range 10000 {
		for src := range 1 {
			for _, le := range []string{"0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "+Inf"} {
				if n > 0 {
					sb.WriteByte(',')
				}
				n++
				fmt.Fprintf(&sb, `{"metric":{"destination_service_name":"svc-%05d","destination_service_namespace":"team-%03d","destination_workload":"svc-%05d-v1","le":"%s","source_workload":"caller-%05d","source_workload_namespace":"team-%03d"},"value":[1795262400,"%d.125"]}`,
					svc, svc/50, svc, le, svc+src, svc/50, svc)
			}
		}
	}
	sb.WriteString(`]}}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := decode(body)
		if err != nil || len(a.series) != n {
			b.Fatalf("%d series, %v", len(a.series), err)
		}
	}
}
