package accesslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Options say how to read the logs. All fields are optional.
type Options struct {
	// Cluster names the cluster of every workload and service.
	Cluster string
	// Step is the resolution of the per-service profiles; 0 means the
	// logs' time span divided by 60, rounded to a minute, at least 1m.
	Step time.Duration
	// PodWorkload maps a pod name (namespace may be empty when unknown) to
	// its workload; nil or false means unknown.
	PodWorkload func(namespace, pod string) (telemetry.Workload, bool)
	// IPWorkload maps a pod IP to its workload (from Pod status.podIP in
	// the mesh snapshot); nil or false means unknown. Pod IPs are also
	// learned from the logs of proxies whose workload is known.
	IPWorkload func(ip string) (telemetry.Workload, bool)
	// ServiceOf maps a host as found in an upstream cluster name or an
	// :authority ("reviews.shop.svc.cluster.local", "reviews",
	// "api.example.com") to a service; nil or false derives the service
	// from the FQDN NAME.NAMESPACE.svc.DOMAIN, else Service{Name: host,
	// Host: host}.
	ServiceOf func(host string) (telemetry.Service, bool)
}

const (
	// maxLine bounds one line; longer ones are reported and skipped.
	maxLine = 1 << 20
	// maxShown bounds the malformed lines reported one by one per file.
	maxShown = 5
	// checkEvery is how many lines are read between context checks.
	checkEvery = 1024
)

// Read reads the access logs of inputs into a traffic graph.
//
// The window runs from the earliest START_TIME in any input to one step
// after the latest. A file that cannot be read, or that holds no access log
// entry the reader understands, is an error naming it; lines that look like
// access log entries but cannot be read become notices naming file and
// line, and the rest of the file is still read.
func Read(ctx context.Context, inputs []Input, opts Options) (*telemetry.Graph, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no access log files to read")
	}
	r := newReader(opts)
	for _, in := range inputs {
		if err := r.readFile(ctx, in); err != nil {
			return nil, err
		}
	}
	if r.entries == 0 && len(r.empty) > 0 {
		return nil, errors.New(r.empty[0])
	}
	r.notices = append(r.notices, r.empty...)
	if r.skipped > 0 {
		r.notices = append(r.notices, fmt.Sprintf("access logs: skipped %s that are not access log entries (proxy and agent logs)", plural(r.skipped, "line", "lines")))
	}
	return r.graph("access logs: " + plural(len(inputs), "file", "files")), nil
}

// fileStats is what one file held, for its notices.
type fileStats struct {
	path      string
	lines     int
	entries   int
	skipped   int
	malformed int
	external  map[string]int // PassthroughCluster, BlackHoleCluster, no cluster
	ignored   map[string]int // clusters that carry no service traffic
	anonymous int            // entries whose proxy's workload is unknown
	// firstProblem is the first unreadable line, for the error when no
	// line could be read.
	firstProblem string
}

func (r *reader) readFile(ctx context.Context, in Input) error {
	if in.Path == "" {
		return errors.New("access log input without a file")
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return fmt.Errorf("read access log: %w", err)
	}
	defer f.Close()
	fs := &fileStats{path: in.Path, external: map[string]int{}, ignored: map[string]int{}}
	br := bufio.NewReaderSize(f, maxLine)
	line := 0
	for {
		line++
		if line%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("read access log %s: %w", in.Path, err)
			}
		}
		text, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read access log %s:%d: %w", in.Path, line, err)
		}
		if err == nil || text != "" || tooLong {
			fs.lines = line
		}
		if text != "" || tooLong {
			r.line(in, fs, line, text, tooLong)
		}
		if err != nil {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read access log %s: %w", in.Path, err)
	}
	if fs.entries == 0 {
		if fs.malformed > 0 || len(r.empty) == maxEmpty {
			return noEntries(fs)
		}
		// An idle proxy logs nothing: a notice, unless no file has
		// entries at all (Read).
		r.empty = append(r.empty, noEntries(fs).Error())
		return nil
	}
	r.entries += fs.entries
	r.fileNotices(fs)
	return nil
}

// maxEmpty bounds the files without entries a read accepts as idle
// proxies before it takes them for a wrong input.
const maxEmpty = 1000

func noEntries(fs *fileStats) error {
	if fs.malformed > 0 {
		return fmt.Errorf("%s: none of its %d access log lines could be read, first: %s (only Istio's default TEXT and JSON formats are read)", fs.path, fs.malformed, fs.firstProblem)
	}
	return fmt.Errorf("%s: no Envoy access log entries among its %d lines (%d other log lines): is access logging on (meshConfig.accessLogFile or a Telemetry resource), and is this the istio-proxy container's log?", fs.path, fs.lines, fs.skipped)
}

// readLine reads one line without its end. A line longer than the
// reader's buffer is consumed and reported as tooLong, with its start.
func readLine(br *bufio.Reader) (line string, tooLong bool, err error) {
	b, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return strings.TrimRight(string(b), "\r\n"), false, err
	}
	head := string(b[:min(len(b), 256)])
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = br.ReadSlice('\n')
	}
	return head, true, err
}

func (r *reader) line(in Input, fs *fileStats, n int, text string, tooLong bool) {
	e, pod, kind, err := parseLine(text)
	switch {
	case tooLong && kind == accessLine:
		r.malformed(fs, n, fmt.Errorf("line longer than %d bytes", maxLine))
	case tooLong || kind == otherLine:
		fs.skipped++
		r.skipped++
	case err != nil:
		r.malformed(fs, n, err)
	default:
		fs.entries++
		r.add(&e, pod, in, fs)
	}
}

func (r *reader) malformed(fs *fileStats, line int, err error) {
	fs.malformed++
	msg := fmt.Sprintf("%s:%d: unreadable access log line: %v", fs.path, line, err)
	if fs.firstProblem == "" {
		fs.firstProblem = msg
	}
	if fs.malformed <= maxShown {
		r.notices = append(r.notices, msg)
	}
}

func (r *reader) fileNotices(fs *fileStats) {
	if fs.malformed > maxShown {
		r.notices = append(r.notices, fmt.Sprintf("%s: %d unreadable access log lines in all, the first %d shown", fs.path, fs.malformed, maxShown))
	}
	if n := total(fs.external); n > 0 {
		r.notices = append(r.notices, fmt.Sprintf("%s: %s went to no service of the mesh (%s): counted under their :authority host", fs.path, plural(n, "entry", "entries"), counts(fs.external)))
	}
	if n := total(fs.ignored); n > 0 {
		r.notices = append(r.notices, fmt.Sprintf("%s: left out %s to clusters that carry no service traffic (%s)", fs.path, plural(n, "entry", "entries"), counts(fs.ignored)))
	}
	if fs.anonymous > 0 {
		r.notices = append(r.notices, fmt.Sprintf("%s: the workload of the proxy is unknown for %s: give the file as NAMESPACE/WORKLOAD=%s, or keep the pod names of kubectl logs --prefix", fs.path, plural(fs.anonymous, "entry", "entries"), fs.path))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// counts renders m as "a: 2, b: 1", sorted by name.
func counts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
