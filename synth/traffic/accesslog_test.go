package traffic_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/source/accesslog"
	"github.com/meshpilot/meshpilot/synth/traffic"
)

// logLine matches one line of accesslog.DefaultTextFormat: every
// %OPERATOR% a value without spaces or quotes, START_TIME inside its
// brackets. It checks the writer against the format string itself, not
// against the reader's parser.
var logLine, logFields = func() (*regexp.Regexp, []string) {
	format := strings.TrimSuffix(accesslog.DefaultTextFormat, "\n")
	op := regexp.MustCompile(`%[^%]+%`)
	var expr strings.Builder
	var names []string
	last := 0
	for _, loc := range op.FindAllStringIndex(format, -1) {
		expr.WriteString(regexp.QuoteMeta(format[last:loc[0]]))
		names = append(names, strings.Trim(format[loc[0]:loc[1]], "%"))
		expr.WriteString(`([^" \]]+)`)
		last = loc[1]
	}
	expr.WriteString(regexp.QuoteMeta(format[last:]))
	return regexp.MustCompile("^" + expr.String() + "$"), names
}()

// logEntry is a line's values by operator ("UPSTREAM_CLUSTER_RAW",
// "REQ(X-REQUEST-ID)"), with the file's workload.
type logEntry map[string]string

func (e logEntry) inbound() bool { return strings.HasPrefix(e["UPSTREAM_CLUSTER_RAW"], "inbound|") }

// readLogs writes the mesh's access logs and reads every line back with
// logLine, failing on any line it does not match.
func readLogs(t *testing.T, m *traffic.Mesh, o traffic.AccessLogOptions) ([]traffic.LogFile, []logEntry) {
	t.Helper()
	files, err := m.WriteAccessLogs(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	var out []logEntry
	for _, f := range files {
		fh, err := os.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		n := 0
		for sc.Scan() {
			n++
			v := logLine.FindStringSubmatch(sc.Text())
			if v == nil {
				t.Fatalf("%s:%d does not match the default format: %s", f.Path, n, sc.Text())
			}
			e := logEntry{"workload": f.Workload}
			for i, name := range logFields {
				e[name] = v[i+1]
			}
			out = append(out, e)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if n != f.Lines {
			t.Errorf("%s: %d lines, LogFile says %d", f.Path, n, f.Lines)
		}
	}
	return files, out
}

// TestAccessLogFormat checks that every line is in the default format and
// that the reader reads all of them without a notice.
func TestAccessLogFormat(t *testing.T) {
	m := generate(t, traffic.Options{Services: 30, PerNamespace: 10, DefectEvery: 3, Seed: 3})
	files, entries := readLogs(t, m, traffic.AccessLogOptions{PerService: 300})
	var inputs []accesslog.Input
	for _, f := range files {
		in, err := accesslog.ParseInput(f.Arg())
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	g, err := accesslog.Read(context.Background(), inputs, accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Notices {
		t.Errorf("notice: %s", n)
	}
	tcp := 0
	for _, e := range entries {
		if e["REQ(:METHOD)"] != "-" {
			continue
		}
		tcp++
		if e["PROTOCOL"] != "-" || e["RESPONSE_CODE"] != "0" || e["BYTES_RECEIVED"] == "0" || e["BYTES_SENT"] == "0" {
			t.Errorf("TCP entry %v", e)
		}
	}
	if tcp == 0 {
		t.Error("no TCP entry")
	}
}

// TestAccessLogEnds pairs the two ends of every call by request ID: the
// same code and addresses at both, UO only at the caller, outside callers
// and their plaintext only at the server, Istio's SNI over mTLS.
func TestAccessLogEnds(t *testing.T) {
	m := generate(t, traffic.Options{Seed: 1})
	_, entries := readLogs(t, m, traffic.AccessLogOptions{PerService: 200})
	type pair struct{ out, in logEntry }
	calls := map[string]*pair{}
	conns := map[string]int{} // TCP: the caller's connection, +1 at the caller, -1 at the server
	for _, e := range entries {
		if e["REQ(:METHOD)"] == "-" {
			if e.inbound() {
				conns[e["DOWNSTREAM_LOCAL_ADDRESS"]+" from "+e["DOWNSTREAM_REMOTE_ADDRESS"]]--
				if !strings.HasPrefix(e["REQUESTED_SERVER_NAME"], "outbound_.8080_._.") {
					t.Errorf("TCP connection without mTLS: %v", e)
				}
			} else {
				conns[e["UPSTREAM_HOST"]+" from "+e["UPSTREAM_LOCAL_ADDRESS"]]++
			}
			continue
		}
		id := e["REQ(X-REQUEST-ID)"]
		p := calls[id]
		if p == nil {
			p = &pair{}
			calls[id] = p
		}
		if e.inbound() {
			p.in = e
		} else {
			p.out = e
		}
	}
	for c, n := range conns {
		if n != 0 {
			t.Errorf("TCP connection to %s: %+d more at the caller than at the server", c, n)
		}
	}
	outside, uo, plain := 0, 0, 0
	for id, p := range calls {
		switch {
		case p.out == nil:
			if !strings.HasPrefix(p.in["DOWNSTREAM_REMOTE_ADDRESS"], "192.168.") || p.in["REQUESTED_SERVER_NAME"] != "-" {
				t.Errorf("%s: inbound entry without an outbound one: %v", id, p.in)
			}
			outside++
		case p.out["RESPONSE_FLAGS"] == "UO":
			if p.in != nil || p.out["UPSTREAM_LOCAL_ADDRESS"] != "-" || p.out["RESPONSE_CODE"] != "503" {
				t.Errorf("%s: UO reached the server or has an upstream connection: %v %v", id, p.out, p.in)
			}
			uo++
		case p.in == nil:
			t.Errorf("%s: outbound entry without an inbound one: %v", id, p.out)
		default:
			plain += checkEnds(t, id, p.out, p.in)
		}
	}
	if outside == 0 || uo == 0 || plain == 0 {
		t.Errorf("%d calls from outside, %d UO, %d plaintext; want some of each", outside, uo, plain)
	}
}

// checkEnds checks the two entries of one call; it returns 1 for a call in
// plaintext.
func checkEnds(t *testing.T, id string, out, in logEntry) int {
	t.Helper()
	for _, f := range []string{"RESPONSE_CODE", "RESPONSE_FLAGS", "DURATION", "REQ(:AUTHORITY)", "UPSTREAM_HOST"} {
		if out[f] != in[f] {
			t.Errorf("%s: %s %q at the caller, %q at the server", id, f, out[f], in[f])
		}
	}
	if out["UPSTREAM_LOCAL_ADDRESS"] != in["DOWNSTREAM_REMOTE_ADDRESS"] || out["UPSTREAM_HOST"] != in["DOWNSTREAM_LOCAL_ADDRESS"] {
		t.Errorf("%s: the caller connected from %s to %s, the server saw %s to %s", id,
			out["UPSTREAM_LOCAL_ADDRESS"], out["UPSTREAM_HOST"], in["DOWNSTREAM_REMOTE_ADDRESS"], in["DOWNSTREAM_LOCAL_ADDRESS"])
	}
	// outbound|8080|SUBSET|HOST at the caller, outbound_.8080_.SUBSET_.HOST
	// at the server over mTLS.
	parts := strings.Split(out["UPSTREAM_CLUSTER_RAW"], "|")
	if in["UPSTREAM_CLUSTER_RAW"] != "inbound|8080||" || len(parts) != 4 || parts[1] != "8080" {
		t.Errorf("%s: clusters %s and %s", id, out["UPSTREAM_CLUSTER_RAW"], in["UPSTREAM_CLUSTER_RAW"])
	}
	if sni := in["REQUESTED_SERVER_NAME"]; sni != "-" {
		if want := "outbound_.8080_." + parts[2] + "_." + parts[3]; sni != want {
			t.Errorf("%s: SNI %s, want %s", id, sni, want)
		}
		return 0
	}
	return 1
}

func TestAccessLogDeterministic(t *testing.T) {
	o := traffic.Options{Services: 20, Seed: 7}
	digest := func(m *traffic.Mesh) [32]byte {
		files, err := m.WriteAccessLogs(t.TempDir(), traffic.AccessLogOptions{PerService: 200})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, f := range files {
			b, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			h.Write([]byte(f.Workload))
			h.Write(b)
		}
		var out [32]byte
		copy(out[:], h.Sum(nil))
		return out
	}
	a, b := digest(generate(t, o)), digest(generate(t, o))
	if a != b {
		t.Error("same seed, different access logs")
	}
	o.Seed = 8
	if digest(generate(t, o)) == a {
		t.Error("another seed, same access logs")
	}
}

// TestAccessLogCounts counts each service's requests at the servers (UO
// never reach them) against its logged share of the truth, and the 5xx
// ratios over time against the true shapes: flat for deterministic
// failures, at the burst ratio only inside the bursts for error spikes.
func TestAccessLogCounts(t *testing.T) {
	m := generate(t, traffic.Options{Seed: 1})
	o := traffic.AccessLogOptions{}
	_, entries := readLogs(t, m, o)
	byWorkload := map[string]string{} // "ns/svc-v1" -> "ns/svc"
	for _, s := range m.Services {
		for _, w := range s.Workloads {
			byWorkload[s.Namespace+"/"+w] = s.Ref()
		}
	}
	type span struct{ n, errs float64 }
	count := map[string]float64{}
	minutes := map[string]map[int64]*span{}
	for _, e := range entries {
		if !e.inbound() {
			continue
		}
		ref := byWorkload[e["workload"]]
		count[ref]++
		at, err := time.Parse(time.RFC3339Nano, e["START_TIME"])
		if err != nil {
			t.Fatal(err)
		}
		if minutes[ref] == nil {
			minutes[ref] = map[int64]*span{}
		}
		k := at.Sub(m.Start).Milliseconds() / 60_000
		if minutes[ref][k] == nil {
			minutes[ref][k] = &span{}
		}
		minutes[ref][k].n++
		if code, _ := strconv.Atoi(e["RESPONSE_CODE"]); code >= 500 {
			minutes[ref][k].errs++
		}
	}
	win := m.End.Sub(m.Start).Seconds()
	for _, s := range m.Services {
		share := m.LogShare(s, o)
		if want := share * s.RPS * win; math.Abs(count[s.Ref()]-want) > 0.02*want {
			t.Errorf("%s: %.0f requests logged by its servers, want %.0f (share %.3f)", s.Ref(), count[s.Ref()], want, share)
		}
		if s.Protocol == "http" && len(s.Callers) > 0 && count[s.Ref()] < min(s.RPS*win, 1900) {
			t.Errorf("%s: %.0f requests logged of %.0f", s.Ref(), count[s.Ref()], s.RPS*win)
		}
		for k, sp := range minutes[s.Ref()] {
			r := sp.errs / sp.n
			at := m.Start.Add(time.Duration(k) * time.Minute)
			switch {
			case s.Defect == traffic.DefectFailures && math.Abs(r-s.ErrorRatio) > 0.12:
				t.Errorf("%s: 5xx ratio %.2f at %s, want a flat %.2f", s.Ref(), r, at, s.ErrorRatio)
			case s.Defect == traffic.DefectSpikes && inBurst(s.Bursts, at) != (r >= 0.1):
				t.Errorf("%s: 5xx ratio %.2f at %s, bursts %v", s.Ref(), r, at, s.Bursts)
			}
		}
	}
}

func inBurst(bursts []traffic.Burst, t time.Time) bool {
	for _, b := range bursts {
		if !t.Before(b.Start) && t.Before(b.End) {
			return true
		}
	}
	return false
}

func TestAccessLogSize(t *testing.T) {
	m := generate(t, traffic.Options{Seed: 1})
	began := time.Now()
	files, err := m.WriteAccessLogs(t.TempDir(), traffic.AccessLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var lines int
	var size int64
	for _, f := range files {
		lines += f.Lines
		size += f.Bytes
	}
	t.Logf("%d services: %d files, %d lines, %.1f MB in %s", len(m.Services), len(files), lines, float64(size)/1e6, time.Since(began).Round(time.Millisecond))
	if size > 60e6 {
		t.Errorf("%.1f MB of access logs for the default mesh, want at most 60", float64(size)/1e6)
	}
}
