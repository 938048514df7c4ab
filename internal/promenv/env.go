package promenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Env is a Prometheus serving backfilled data for one test.
type Env struct {
	// URL is the server's base URL, http://127.0.0.1:<port>.
	URL string
	// Dir is the TSDB folder, inside the test's t.TempDir().
	Dir string
	// Server is the running server (for Query).
	Server *Server
}

// Options tune Start. The zero value is fine.
type Options struct {
	// Backfill is passed to Backfill.
	Backfill BackfillOptions
	// Timeout bounds the backfill and the start together (default 10m).
	Timeout time.Duration
}

// Start writes openMetrics (OpenMetrics text, see Backfill) to t.TempDir(),
// backfills it, serves it, and stops the server when the test ends. It skips
// the test when prometheus or promtool is missing, or fails it under CI=true.
func Start(t testing.TB, openMetrics io.Reader, opts Options) *Env {
	t.Helper()
	prometheus, promtool := binaries(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.om")
	began := time.Now()
	if err := writeFile(path, openMetrics); err != nil {
		t.Fatalf("promenv: %v", err)
	}
	t.Logf("promenv: wrote %s in %s", describeFile(path), since(began))
	return start(t, prometheus, promtool, path, dir, opts)
}

// StartFile is Start for OpenMetrics already in a file.
func StartFile(t testing.TB, openMetrics string, opts Options) *Env {
	t.Helper()
	prometheus, promtool := binaries(t)
	return start(t, prometheus, promtool, openMetrics, t.TempDir(), opts)
}

func start(t testing.TB, prometheus, promtool, openMetrics, dir string, opts Options) *Env {
	t.Helper()
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	began := time.Now()
	if err := Backfill(ctx, promtool, openMetrics, data, opts.Backfill); err != nil {
		t.Fatalf("promenv: %v", err)
	}
	backfilled := since(began)
	began = time.Now()
	srv, err := Serve(ctx, prometheus, data, ServeOptions{})
	if err != nil {
		t.Fatalf("promenv: %v", err)
	}
	// After t.TempDir, so that it runs before the folder is removed; the
	// testing package runs cleanups after a panic too.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("promenv: last lines of the prometheus log:\n%s", srv.Log(20))
		}
		if err := srv.Close(); err != nil {
			t.Errorf("promenv: %v", err)
		}
	})
	t.Logf("promenv: backfilled %s in %s; prometheus %s ready in %s", describeFile(openMetrics), backfilled, srv.URL, since(began))
	return &Env{URL: srv.URL, Dir: data, Server: srv}
}

// Stop stops the server now rather than when the test ends.
func (e *Env) Stop() error { return e.Server.Close() }

// Query evaluates an instant query at time at.
func (e *Env) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	return e.Server.Query(ctx, query, at)
}

func binaries(t testing.TB) (prometheus, promtool string) {
	t.Helper()
	prometheus, promtool, err := Binaries()
	if err != nil {
		unavailable(t, err.Error())
	}
	return prometheus, promtool
}

// unavailable skips the test because Prometheus cannot be provided, or fails
// it under CI=true.
func unavailable(t testing.TB, why string) {
	t.Helper()
	bar := strings.Repeat("!", 78)
	msg := "\n" + bar + "\npromenv: NO PROMETHEUS: " + why + "\n"
	if os.Getenv("CI") == "true" {
		t.Fatalf("%sCI=true: failing instead of skipping\n%s", msg, bar)
	}
	t.Skipf("%sSKIPPED (set CI=true to make this a failure)\n%s", msg, bar)
}

func writeFile(path string, r io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func describeFile(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return path
	}
	return fmt.Sprintf("%s (%.1f MB)", filepath.Base(path), float64(fi.Size())/1e6)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
