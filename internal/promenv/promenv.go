// Package promenv gives tests and benchmarks a real Prometheus holding
// metrics they wrote: OpenMetrics text is backfilled into TSDB blocks with
// `promtool tsdb create-blocks-from openmetrics`, and a Prometheus with no
// scrape targets serves them on loopback.
//
// Backfill and Serve are usable from any program (a benchmark CLI); Start
// composes them for a test, stops the server when the test ends, and skips
// the test with the reason when prometheus or promtool is missing — except
// under CI=true, where it fails instead, so that a broken machine cannot turn
// the integration tests into silent skips. hack/prometheus installs both
// binaries (Debian's prometheus package).
//
// Servers are started so that they cannot outlive their parent: each is
// killed by the kernel when the process that started it exits (Pdeathsig),
// even if a test panics or times out before its cleanup runs.
package promenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Retention keeps backfilled data, however old, from being deleted: the
// default 15d would drop blocks from before then at the first compaction.
const Retention = "10y"

// Binaries finds prometheus and promtool on PATH or, failing that, in
// /usr/bin where Debian's package puts them.
func Binaries() (prometheus, promtool string, err error) {
	find := func(name string) (string, error) {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		p := filepath.Join("/usr/bin", name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
		return "", fmt.Errorf("%s is not on PATH nor in /usr/bin (run hack/prometheus install)", name)
	}
	if prometheus, err = find("prometheus"); err != nil {
		return "", "", err
	}
	if promtool, err = find("promtool"); err != nil {
		return "", "", err
	}
	return prometheus, promtool, nil
}

// BackfillOptions tune Backfill. The zero value is promtool's default.
type BackfillOptions struct {
	// MaxBlockDuration, when set, is passed as --max-block-duration. promtool
	// reads the whole input once per block, so data spanning days backfills
	// faster in longer blocks; Debian's promtool 2.42 lacks the flag, and
	// Backfill then fails rather than silently ignoring it.
	MaxBlockDuration time.Duration
}

// Backfill writes TSDB blocks for the OpenMetrics file into dataDir (created
// when missing). The file needs timestamps in seconds, samples of each
// series in time order, and "# EOF" at the end.
func Backfill(ctx context.Context, promtool, openMetrics, dataDir string, opts BackfillOptions) error {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	args := []string{"tsdb", "create-blocks-from", "openmetrics", "--quiet"}
	if opts.MaxBlockDuration > 0 {
		help, _ := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--help").CombinedOutput()
		if !bytes.Contains(help, []byte("--max-block-duration")) {
			return fmt.Errorf("backfill: %s does not support --max-block-duration", promtool)
		}
		args = append(args, "--max-block-duration="+opts.MaxBlockDuration.String())
	}
	args = append(args, openMetrics, dataDir)
	cmd := exec.CommandContext(ctx, promtool, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("backfill: promtool %s: %w\n%s", strings.Join(args, " "), err, lastLines(out.String(), 20))
	}
	return nil
}

// Server is a running Prometheus.
type Server struct {
	// URL is its base URL, http://127.0.0.1:<port>.
	URL string
	// Dir is the TSDB folder it serves.
	Dir string

	cmd       *exec.Cmd
	work      string // config and log
	exited    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// ServeOptions tune Serve. The zero value is fine.
type ServeOptions struct {
	// ReadyTimeout bounds the wait for /-/ready (default 60s).
	ReadyTimeout time.Duration
}

const startAttempts = 3

// Serve starts prometheus on a free loopback port over the TSDB in dataDir,
// with no scrape targets, and returns once it answers /-/ready. Its config
// and log go to a new folder beside dataDir. ctx bounds the start only; the
// server runs until Close or until this process exits.
func Serve(ctx context.Context, prometheus, dataDir string, opts ServeOptions) (*Server, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	// Config and log beside the data, so that whoever removes the data
	// removes them too, even if Close never runs.
	work, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dataDir)), "prometheus-")
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	config := filepath.Join(work, "prometheus.yml")
	// An hour's interval: there is nothing to scrape or evaluate.
	if err := os.WriteFile(config, []byte("global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\nscrape_configs: []\n"), 0o644); err != nil {
		os.RemoveAll(work)
		return nil, fmt.Errorf("serve: %w", err)
	}
	for attempt := 1; ; attempt++ {
		s, err := launch(ctx, prometheus, dataDir, work, config, opts.ReadyTimeout)
		if err == nil {
			return s, nil
		}
		// Another process may take the free port between our probe and
		// prometheus' bind.
		if attempt < startAttempts && errors.Is(err, errPortTaken) && ctx.Err() == nil {
			continue
		}
		os.RemoveAll(work)
		return nil, err
	}
}

var errPortTaken = errors.New("port taken")

func launch(ctx context.Context, prometheus, dataDir, work, config string, readyTimeout time.Duration) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	logPath := filepath.Join(work, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	defer logFile.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(prometheus,
		"--config.file="+config,
		"--storage.tsdb.path="+dataDir,
		"--storage.tsdb.retention.time="+Retention,
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startOrphanProof(cmd); err != nil {
		return nil, fmt.Errorf("serve: start %s: %w", prometheus, err)
	}
	s := &Server{URL: "http://" + addr, Dir: dataDir, cmd: cmd, work: work, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx, readyTimeout); err != nil {
		s.stop()
		log := s.Log(30)
		if strings.Contains(log, "address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return nil, fmt.Errorf("serve: %w\n%s", err, log)
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("prometheus exited during startup: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready at %s after %s: %w", s.URL, timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops the server (SIGTERM, then SIGKILL after 5s), waits for it and
// removes its config and log. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.stop()
		os.RemoveAll(s.work)
	})
	return s.closeErr
}

func (s *Server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	// Its own process group: also whatever it might have started.
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("prometheus (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
	}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns the last n lines of the server's log.
func (s *Server) Log(n int) string {
	b, err := os.ReadFile(filepath.Join(s.work, "prometheus.log"))
	if err != nil {
		return fmt.Sprintf("(no prometheus log: %v)", err)
	}
	return lastLines(string(b), n)
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// Query evaluates an instant PromQL query at time at through the HTTP API.
// Scalar results come back as one sample without labels.
func (s *Server) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	return Query(ctx, s.URL, query, at)
}

// Query evaluates an instant query against the Prometheus at base.
func Query(ctx context.Context, base, query string, at time.Time) ([]Sample, error) {
	form := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', -1, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: HTTP %d: %w", query, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %s", query, body.ErrorType, body.Error)
	}
	switch body.Data.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		out := make([]Sample, 0, len(vec))
		for _, v := range vec {
			f, err := sampleValue(v.Value)
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", query, err)
			}
			out = append(out, Sample{Metric: v.Metric, Value: f})
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		f, err := sampleValue(v)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		return []Sample{{Value: f}}, nil
	}
	return nil, fmt.Errorf("query %q: result type %q, want a vector or a scalar", query, body.Data.ResultType)
}

func sampleValue(v [2]any) (float64, error) {
	s, ok := v[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", v[1])
	}
	return strconv.ParseFloat(s, 64)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The kernel sends Pdeathsig when the thread that started the child exits,
// not the process; Go may retire threads. All servers are therefore started
// from one goroutine locked to its thread for the life of the process.
var (
	spawnOnce sync.Once
	spawnReq  chan spawnCall
)

type spawnCall struct {
	cmd  *exec.Cmd
	done chan error
}

func startOrphanProof(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReq = make(chan spawnCall)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for c := range spawnReq {
				c.done <- c.cmd.Start()
			}
		}()
	})
	c := spawnCall{cmd: cmd, done: make(chan error, 1)}
	spawnReq <- c
	return <-c.done
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
