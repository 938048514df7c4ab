package accesslog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultTextFormat is Istio's default TEXT access log format
// (meshConfig.accessLogFile without accessLogFormat), the one text lines
// are read in. Lines may carry more fields after ROUTE_NAME; they are
// ignored.
const DefaultTextFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ` +
	`%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% ` +
	`"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% ` +
	`%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ` +
	`"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% ` +
	`%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% ` +
	`%REQUESTED_SERVER_NAME% %ROUTE_NAME%` + "\n"

// Positions of the fields after [START_TIME] in DefaultTextFormat.
const (
	fRequest = iota
	fCode
	fFlags
	fCodeDetails
	fTermination
	fFailureReason
	fBytesReceived
	fBytesSent
	fDuration
	fUpstreamServiceTime
	fForwardedFor
	fUserAgent
	fRequestID
	fAuthority
	fUpstreamHost
	fUpstreamCluster
	fUpstreamLocal
	fDownstreamLocal
	fDownstreamRemote
	fServerName
	fRoute
	nFields
)

// quotedFields marks the fields DefaultTextFormat writes between quotes;
// checking them tells a default-format line from a custom one.
const quotedFields uint64 = 1<<fRequest | 1<<fFailureReason | 1<<fForwardedFor | 1<<fUserAgent |
	1<<fRequestID | 1<<fAuthority | 1<<fUpstreamHost

// entry is one access log line. Envoy's "-" (no value) and JSON null read
// as "".
type entry struct {
	Start                  time.Time
	Method, Path, Protocol string
	Code                   int
	Flags                  string
	BytesReceived          uint64
	BytesSent              uint64
	Duration               float64 // milliseconds; -1 when the line has none
	Authority              string
	UpstreamHost           string
	UpstreamCluster        string
	UpstreamLocal          string
	DownstreamLocal        string
	DownstreamRemote       string
	ServerName             string
	Route                  string
}

// tcp reports a TCP connection: Envoy's TCP proxy logs no protocol.
func (e *entry) tcp() bool { return e.Protocol == "" }

type lineKind uint8

const (
	otherLine  lineKind = iota // proxy or agent log, blank: not an access log entry
	accessLine                 // an access log entry, read or malformed
)

// parseLine reads one line of a log file. pod is the pod named by a
// kubectl logs --prefix. err is set only for lines of kind accessLine that
// could not be read.
func parseLine(line string) (e entry, pod string, kind lineKind, err error) {
	line = strings.TrimRight(line, "\r\n")
	pod, line = cutPodPrefix(line)
	line = cutTimestamp(line)
	switch {
	case textLike(line):
		e, err = parseText(line)
	case jsonLike(line):
		e, err = parseJSON(line)
	default:
		return entry{}, pod, otherLine, nil
	}
	return e, pod, accessLine, err
}

// cutPodPrefix removes the "[pod/NAME/CONTAINER] " that kubectl logs
// --prefix writes.
func cutPodPrefix(line string) (pod, rest string) {
	if !strings.HasPrefix(line, "[pod/") {
		return "", line
	}
	end := strings.Index(line, "] ")
	if end < 0 {
		return "", line
	}
	pod, _, _ = strings.Cut(line[len("[pod/"):end], "/")
	return pod, line[end+2:]
}

// cutTimestamp removes the RFC 3339 time kubectl logs --timestamps writes
// before an access log entry.
func cutTimestamp(line string) string {
	if line == "" || line[0] < '0' || line[0] > '9' {
		return line
	}
	ts, rest, ok := strings.Cut(line, " ")
	if !ok || rest == "" || (rest[0] != '[' && rest[0] != '{') {
		return line
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return line
	}
	return rest
}

// textLike tells a text access log entry, "[2026-11-21T10:00:00.000Z] ...",
// from Envoy's own "[2026-11-21 10:00:00.000][15][info] ..." and from
// pilot-agent's "2026-11-21T10:00:00.000000Z\tinfo\t...".
func textLike(line string) bool {
	if len(line) < 2 || line[0] != '[' || line[1] < '0' || line[1] > '9' {
		return false
	}
	end := strings.IndexByte(line, ']')
	return end < 0 || end+1 == len(line) || line[end+1] != '['
}

// jsonLike tells a JSON access log entry from the JSON lines of a proxy
// run with --log_as_json.
func jsonLike(line string) bool {
	return strings.HasPrefix(line, "{") && strings.Contains(line, `"start_time"`)
}

func parseText(line string) (entry, error) {
	var e entry
	end := strings.IndexByte(line, ']')
	if end < 0 {
		return e, errors.New("no ] after START_TIME")
	}
	t, err := parseTime(line[1:end])
	if err != nil {
		return e, err
	}
	e.Start = t
	f, quoted, err := splitFields(line[end+1:])
	if err != nil {
		return e, err
	}
	if len(f) < nFields {
		return e, fmt.Errorf("%d fields after START_TIME, want %d: not Istio's default access log format", len(f), nFields)
	}
	if q := quoted & (1<<nFields - 1); q != quotedFields {
		return e, fmt.Errorf("field %d is quoted where Istio's default access log format has it bare, or bare where quoted", badQuote(q)+2)
	}
	req := strings.Fields(f[fRequest])
	if len(req) < 3 {
		return e, fmt.Errorf("request %q: want METHOD PATH PROTOCOL", f[fRequest])
	}
	e.Method, e.Protocol = dash(req[0]), dash(req[len(req)-1])
	e.Path = dash(strings.Join(req[1:len(req)-1], " "))
	if e.Code, err = parseCode(f[fCode]); err != nil {
		return e, err
	}
	if e.BytesReceived, err = parseCount("BYTES_RECEIVED", f[fBytesReceived]); err != nil {
		return e, err
	}
	if e.BytesSent, err = parseCount("BYTES_SENT", f[fBytesSent]); err != nil {
		return e, err
	}
	if e.Duration, err = parseDuration(f[fDuration]); err != nil {
		return e, err
	}
	e.Flags = dash(f[fFlags])
	e.Authority, e.UpstreamHost, e.UpstreamCluster = dash(f[fAuthority]), dash(f[fUpstreamHost]), dash(f[fUpstreamCluster])
	e.UpstreamLocal, e.DownstreamLocal, e.DownstreamRemote = dash(f[fUpstreamLocal]), dash(f[fDownstreamLocal]), dash(f[fDownstreamRemote])
	e.ServerName, e.Route = dash(f[fServerName]), dash(f[fRoute])
	return e, nil
}

// badQuote gives the first field whose quoting differs from the default
// format's.
func badQuote(q uint64) int {
	for i := range nFields {
		if q&(1<<i) != quotedFields&(1<<i) {
			return i
		}
	}
	return 0
}

// splitFields splits the text after [START_TIME] into its space-separated
// fields. A field in quotes runs to the next quote followed by a space or
// the end of the line, since Envoy does not escape quotes inside values.
// Bit i of quoted is set when field i was quoted.
func splitFields(s string) (fields []string, quoted uint64, err error) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return fields, quoted, nil
		}
		if s[0] != '"' {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			fields = append(fields, s[:end])
			s = s[end:]
			continue
		}
		end := closingQuote(s)
		if end < 0 {
			return nil, 0, fmt.Errorf("field %d: unterminated quote", len(fields)+2)
		}
		if len(fields) < 64 {
			quoted |= 1 << len(fields)
		}
		fields = append(fields, s[1:end])
		s = s[end+1:]
	}
}

func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '"' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\t') {
			return i
		}
	}
	return -1
}

// jsonEntry holds the keys of Istio's default JSON access log
// (meshConfig.accessLogEncoding: JSON).
type jsonEntry struct {
	StartTime        jsonValue `json:"start_time"`
	Method           jsonValue `json:"method"`
	Path             jsonValue `json:"path"`
	Protocol         jsonValue `json:"protocol"`
	ResponseCode     jsonValue `json:"response_code"`
	ResponseFlags    jsonValue `json:"response_flags"`
	BytesReceived    jsonValue `json:"bytes_received"`
	BytesSent        jsonValue `json:"bytes_sent"`
	Duration         jsonValue `json:"duration"`
	Authority        jsonValue `json:"authority"`
	UpstreamHost     jsonValue `json:"upstream_host"`
	UpstreamCluster  jsonValue `json:"upstream_cluster"`
	UpstreamLocal    jsonValue `json:"upstream_local_address"`
	DownstreamLocal  jsonValue `json:"downstream_local_address"`
	DownstreamRemote jsonValue `json:"downstream_remote_address"`
	ServerName       jsonValue `json:"requested_server_name"`
	Route            jsonValue `json:"route_name"`
}

// jsonValue is a string, a number or null: Envoy writes numeric operators
// as JSON numbers and values it does not have as null.
type jsonValue string

func (v *jsonValue) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*v = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = jsonValue(s)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*v = jsonValue(b)
	default:
		return fmt.Errorf("got %s, want a string or a number", b)
	}
	return nil
}

func (v jsonValue) str() string { return dash(string(v)) }

func parseJSON(line string) (entry, error) {
	var j jsonEntry
	var e entry
	if err := json.Unmarshal([]byte(line), &j); err != nil {
		return e, fmt.Errorf("invalid JSON: %w", err)
	}
	t, err := parseTime(j.StartTime.str())
	if err != nil {
		return e, err
	}
	e.Start = t
	if e.Code, err = parseCode(j.ResponseCode.str()); err != nil {
		return e, err
	}
	if e.BytesReceived, err = parseCount("bytes_received", j.BytesReceived.str()); err != nil {
		return e, err
	}
	if e.BytesSent, err = parseCount("bytes_sent", j.BytesSent.str()); err != nil {
		return e, err
	}
	if e.Duration, err = parseDuration(j.Duration.str()); err != nil {
		return e, err
	}
	e.Method, e.Path, e.Protocol = j.Method.str(), j.Path.str(), j.Protocol.str()
	e.Flags = j.ResponseFlags.str()
	e.Authority, e.UpstreamHost, e.UpstreamCluster = j.Authority.str(), j.UpstreamHost.str(), j.UpstreamCluster.str()
	e.UpstreamLocal, e.DownstreamLocal, e.DownstreamRemote = j.UpstreamLocal.str(), j.DownstreamLocal.str(), j.DownstreamRemote.str()
	e.ServerName, e.Route = j.ServerName.str(), j.Route.str()
	return e, nil
}

// dash reads Envoy's "-" for "no value" as "".
func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("START_TIME %q is not an RFC 3339 time", s)
	}
	// Beyond these, times do not fit the nanoseconds the profiles keep.
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, fmt.Errorf("START_TIME %q is out of range", s)
	}
	return t.UTC(), nil
}

// parseCode reads RESPONSE_CODE; 0, or no value, is "no response".
func parseCode(s string) (int, error) {
	if s == "" || s == "-" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 999 {
		return 0, fmt.Errorf("RESPONSE_CODE %q is not an HTTP status", s)
	}
	return n, nil
}

func parseCount(name, s string) (uint64, error) {
	if s == "" || s == "-" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a byte count", name, s)
	}
	return n, nil
}

func parseDuration(s string) (float64, error) {
	if s == "" || s == "-" {
		return -1, nil
	}
	ms, err := strconv.ParseFloat(s, 64)
	if err != nil || ms < 0 || math.IsInf(ms, 0) || math.IsNaN(ms) {
		return 0, fmt.Errorf("DURATION %q is not a number of milliseconds", s)
	}
	return ms, nil
}

// grpcPath reports whether path names a gRPC method, /package.Service/Method:
// two segments, the first holding a dot, both of identifier characters.
func grpcPath(path string) bool {
	path, _, _ = strings.Cut(path, "?")
	svc, method, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || !strings.HasPrefix(path, "/") || !strings.Contains(svc, ".") || method == "" {
		return false
	}
	return identifier(svc, true) && identifier(method, false)
}

func identifier(s string, dots bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case c == '.' && dots:
		default:
			return false
		}
	}
	return true
}

// protocol gives the request_protocol Istio would report for an HTTP
// entry: "grpc" for a POST over HTTP/2 (or HTTP/3) to a path shaped as
// /package.Service/Method — the access log has no content-type, so the
// path is the tell — and "http" otherwise.
func (e *entry) protocol() string {
	if e.Method == "POST" && (e.Protocol == "HTTP/2" || e.Protocol == "HTTP/3") && grpcPath(e.Path) {
		return "grpc"
	}
	return "http"
}
