package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// This file asks Prometheus's query API and reads its JSON answers.
//
// client_golang's v1 API decodes an answer twice (json-iterator, then
// encoding/json for every sample) into a map per series: on a mesh of
// 10,000 services its five answers (165 MB of JSON) took 7.9 s of CPU,
// more than Prometheus spent on either latency shard, on a machine where
// both share the cores; read here, 1.5 s. The answers here are read in one pass into label pairs whose
// strings are interned (a workload's name is one string however many
// series name it). The transport, authentication and error types are
// still client_golang's (api.Client, v1.Error).

// label is one label pair of a series.
type label struct{ name, value string }

// labels are a series' labels in the order Prometheus sent them; there
// are few (the query's "by" list), so a scan finds one.
type labels []label

// get returns the value of a label, or "" if the series lacks it.
func (ls labels) get(name string) string {
	v, _ := ls.lookup(name)
	return v
}

func (ls labels) lookup(name string) (string, bool) {
	for _, l := range ls {
		if l.name == name {
			return l.value, true
		}
	}
	return "", false
}

// point is one sample: milliseconds since the epoch and a value.
type point struct {
	t int64
	v float64
}

func (p point) time() time.Time { return time.UnixMilli(p.t) }

// series is one series of an answer: a vector's has one point (value), a
// matrix's many (values).
type series struct {
	labels labels
	value  point
	values []point
}

// result is what a query answered.
type result struct {
	// kind is Prometheus's resultType: vector, matrix, scalar or string.
	kind     string
	series   []series
	warnings v1.Warnings
}

// queryArgs are the form arguments of an instant query at t.
func queryArgs(query string, t time.Time) url.Values {
	return url.Values{"query": {query}, "time": {formatTime(t)}}
}

// rangeArgs are the form arguments of a range query.
func rangeArgs(query string, start, end time.Time, step time.Duration) url.Values {
	return url.Values{
		"query": {query},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', -1, 64)
}

// do sends a query to an endpoint of the API (/api/v1/query or
// /api/v1/query_range) and reads the answer. Like client_golang, it POSTs
// the form (a query can be long) and falls back to GET when the server
// says the method is not allowed. Errors are *v1.Error as client_golang
// reports them, so that callers tell a rejected query (bad_data,
// execution) from a server that could not be asked (client, server).
func do(ctx context.Context, client api.Client, endpoint string, args url.Values) (result, error) {
	u := client.URL(endpoint, nil)
	encoded := args.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(encoded))
	if err != nil {
		return result{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Idempotent: the transport may retry it on a broken connection.
	req.Header["Idempotency-Key"] = nil
	resp, body, err := client.Do(ctx, req)
	if err == nil && (resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		u.RawQuery = encoded
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil); err != nil {
			return result{}, err
		}
		resp, body, err = client.Do(ctx, req)
	}
	if err != nil {
		return result{}, err
	}
	code := resp.StatusCode
	// 400 and 422 are Prometheus rejecting the query, with a JSON body
	// saying why; any other failure is the server's or the way to it.
	rejected := code == http.StatusBadRequest || code == http.StatusUnprocessableEntity
	if code/100 != 2 && !rejected {
		typ, msg := v1.ErrBadResponse, fmt.Sprintf("bad response code %d", code)
		switch code / 100 {
		case 4:
			typ, msg = v1.ErrClient, fmt.Sprintf("client error: %d", code)
		case 5:
			typ, msg = v1.ErrServer, fmt.Sprintf("server error: %d", code)
		}
		// Prometheus answers a query that timed out (503) or was
		// cancelled with the API's JSON: its reason is the message.
		if a, err := decode(body); err == nil && a.status == "error" && a.errMsg != "" {
			msg += ": " + a.errMsg
		}
		return result{}, &v1.Error{Type: typ, Msg: msg, Detail: string(body)}
	}
	a, err := decode(body)
	if err != nil {
		return result{}, &v1.Error{Type: v1.ErrBadResponse, Msg: err.Error()}
	}
	if a.status == "error" {
		return result{warnings: a.warnings}, &v1.Error{Type: v1.ErrorType(a.errorType), Msg: a.errMsg}
	}
	if rejected {
		return result{}, &v1.Error{Type: v1.ErrBadResponse, Msg: "inconsistent body for response code"}
	}
	if a.status != "success" {
		return result{}, &v1.Error{Type: v1.ErrBadResponse, Msg: fmt.Sprintf("answer with status %q", a.status)}
	}
	return a.result, nil
}

// apiAnswer is the envelope of every answer of the query API.
type apiAnswer struct {
	status, errorType, errMsg string
	result
}

// decode reads an answer of the query API.
func decode(body []byte) (apiAnswer, error) {
	d := decoder{buf: body, strings: map[string]string{}}
	var a apiAnswer
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "status":
			s, err := d.str()
			a.status = s
			return err
		case "errorType":
			s, err := d.str()
			a.errorType = s
			return err
		case "error":
			s, err := d.str()
			a.errMsg = s
			return err
		case "warnings":
			return d.array(func() error {
				s, err := d.str()
				a.warnings = append(a.warnings, s)
				return err
			})
		case "data":
			return d.object(func(key []byte) error {
				switch string(key) {
				case "resultType":
					s, err := d.str()
					a.kind = s
					return err
				case "result":
					return d.results(&a.result)
				}
				return d.skip()
			})
		}
		return d.skip()
	})
	if err == nil {
		d.space()
		if d.pos < len(d.buf) {
			err = d.errorf("data after the answer")
		}
	}
	return a, err
}

// decoder reads JSON from a buffer in one pass. It knows the shapes of the
// query API's answers and skips any field it does not use.
type decoder struct {
	buf []byte
	pos int
	// strings interns what it reads: label names and values repeat in
	// every series.
	strings map[string]string
	depth   int
	// arena holds the labels of all series, each series a slice of it:
	// one allocation for many series instead of a few for each.
	arena []label
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("answer is not the query API's JSON: at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) space() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte that is not white space, or 0 at the end.
func (d *decoder) peek() byte {
	d.space()
	if d.pos >= len(d.buf) {
		return 0
	}
	return d.buf[d.pos]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		if d.pos >= len(d.buf) {
			return d.errorf("want %q, the answer ends", c)
		}
		return d.errorf("want %q, got %q", c, d.buf[d.pos])
	}
	d.pos++
	return nil
}

// null consumes a JSON null if one is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && bytes.HasPrefix(d.buf[d.pos:], []byte("null")) {
		d.pos += 4
		return true
	}
	return false
}

// object reads an object, calling field for each key with the decoder
// before its value, which field must consume. The key is only valid
// during the call. A null is an empty object.
func (d *decoder) object(field func(key []byte) error) error {
	return d.sequence('{', '}', "an object", func() error {
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		return field(key)
	})
}

// array reads an array, calling elem for each element. A null is an
// empty array.
func (d *decoder) array(elem func() error) error {
	return d.sequence('[', ']', "an array", elem)
}

// sequence reads what left and right enclose, items separated by commas,
// calling item for each; a null is an empty one. what names it in errors.
func (d *decoder) sequence(left, right byte, what string, item func() error) error {
	if d.null() {
		return nil
	}
	if err := d.expect(left); err != nil {
		return err
	}
	if d.peek() == right {
		d.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case right:
			d.pos++
			return nil
		default:
			if d.pos >= len(d.buf) {
				return d.errorf("the answer ends inside %s", what)
			}
			return d.errorf("want ',' or %q in %s", right, what)
		}
	}
}

// rawString reads a string and returns its bytes, unescaped: a slice of
// the buffer when the string has no escapes (most do not), else a copy.
func (d *decoder) rawString() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start := d.pos
	for i := start; i < len(d.buf); i++ {
		switch c := d.buf[i]; {
		case c == '"':
			d.pos = i + 1
			return d.buf[start:i], nil
		case c == '\\':
			return d.escaped(start - 1)
		case c < 0x20:
			d.pos = i
			return nil, d.errorf("control character in a string")
		}
	}
	d.pos = len(d.buf)
	return nil, d.errorf("unterminated string")
}

// escaped reads a string with escapes that starts at the quote at
// d.buf[quote], with encoding/json's rules.
func (d *decoder) escaped(quote int) ([]byte, error) {
	end := quote + 1
	for end < len(d.buf) && d.buf[end] != '"' {
		if d.buf[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(d.buf) {
		d.pos = len(d.buf)
		return nil, d.errorf("unterminated string")
	}
	var s string
	if err := json.Unmarshal(d.buf[quote:end+1], &s); err != nil {
		d.pos = quote
		return nil, d.errorf("bad string: %v", err)
	}
	d.pos = end + 1
	return []byte(s), nil
}

// str reads a string, interned.
func (d *decoder) str() (string, error) {
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	return d.intern(b), nil
}

// number reads a JSON number (-?int frac? exp?), no laxer than the
// grammar.
func (d *decoder) number() (float64, error) {
	d.space()
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.buf) && d.buf[d.pos] >= '0' && d.buf[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	fail := func() (float64, error) {
		d.pos = start
		return 0, d.errorf("want a number")
	}
	if d.pos < len(d.buf) && d.buf[d.pos] == '-' {
		d.pos++
	}
	if n := digits(); n == 0 || n > 1 && d.buf[d.pos-n] == '0' {
		return fail()
	}
	if d.pos < len(d.buf) && d.buf[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return fail()
		}
	}
	if d.pos < len(d.buf) && (d.buf[d.pos] == 'e' || d.buf[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.buf) && (d.buf[d.pos] == '+' || d.buf[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return fail()
		}
	}
	f, err := strconv.ParseFloat(string(d.buf[start:d.pos]), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fail()
	}
	return f, nil
}

// point reads a sample, [<seconds>, "<value>"].
func (d *decoder) point() (point, error) {
	var p point
	if err := d.expect('['); err != nil {
		return p, err
	}
	sec, err := d.number()
	if err != nil {
		return p, err
	}
	if math.IsNaN(sec) || math.IsInf(sec, 0) || math.Abs(sec) > 1e15 {
		return p, d.errorf("timestamp %v out of range", sec)
	}
	p.t = int64(math.Round(sec * 1000))
	if err := d.expect(','); err != nil {
		return p, err
	}
	b, err := d.rawString()
	if err != nil {
		return p, err
	}
	if p.v, err = strconv.ParseFloat(string(b), 64); err != nil {
		return p, d.errorf("sample value %q is not a number", b)
	}
	return p, d.expect(']')
}

// results reads data.result: the series of a vector or matrix, or the one
// sample of a scalar (a string result is skipped).
func (d *decoder) results(r *result) error {
	if d.null() {
		return nil
	}
	if d.peek() != '[' {
		return d.expect('[')
	}
	// A scalar or string starts with a number, the series with objects.
	open := d.pos
	d.pos++
	first := d.peek()
	d.pos = open
	if first != '{' && first != ']' {
		// A scalar or string: [<time>, "<value>"].
		p, err := d.point()
		if err != nil {
			return err
		}
		r.series = append(r.series, series{value: p})
		return nil
	}
	return d.array(func() error {
		var s series
		err := d.object(func(key []byte) error {
			switch string(key) {
			case "metric":
				if cap(d.arena)-len(d.arena) < 64 {
					d.arena = make([]label, 0, 4096)
				}
				start := len(d.arena)
				err := d.object(func(name []byte) error {
					n := d.intern(name)
					v, err := d.str()
					d.arena = append(d.arena, label{n, v})
					return err
				})
				// A series with more labels than the room left grows the
				// arena by a copy, which keeps start where it was.
				s.labels = d.arena[start:len(d.arena):len(d.arena)]
				return err
			case "value":
				p, err := d.point()
				s.value = p
				return err
			case "values":
				return d.array(func() error {
					p, err := d.point()
					s.values = append(s.values, p)
					return err
				})
			}
			// Native histograms ("histogram", "histograms"): Istio's
			// are classic, and the queries sum their buckets.
			return d.skip()
		})
		r.series = append(r.series, s)
		return err
	})
}

func (d *decoder) intern(b []byte) string {
	if s, ok := d.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strings[s] = s
	return s
}

// maxDepth bounds the nesting of values skipped, so that no answer can
// exhaust the stack.
const maxDepth = 64

// skip consumes one value of any kind.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{' || c == '[':
		if d.depth++; d.depth > maxDepth {
			return d.errorf("values nested deeper than %d", maxDepth)
		}
		defer func() { d.depth-- }()
		if c == '{' {
			return d.object(func([]byte) error { return d.skip() })
		}
		return d.array(d.skip)
	case c == '"':
		_, err := d.rawString()
		return err
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(d.buf[d.pos:], []byte(lit)) {
				d.pos += len(lit)
				return nil
			}
		}
		return d.errorf("unknown literal")
	case d.pos >= len(d.buf):
		return d.errorf("want a value, the answer ends")
	default:
		_, err := d.number()
		return err
	}
}
