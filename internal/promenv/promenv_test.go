package promenv_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/promenv"
)

// counter writes one counter series rising by 60 a minute for an hour
// before end.
func counter(end time.Time) string {
	var b strings.Builder
	b.WriteString("# TYPE demo_requests counter\n")
	for i := 0; i <= 60; i++ {
		fmt.Fprintf(&b, "demo_requests_total{job=\"x\"} %d %d\n", 1000+60*i, end.Add(time.Duration(i-60)*time.Minute).Unix())
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func TestStartQueryStop(t *testing.T) {
	// A week back: older than Prometheus' default retention of 15d would be
	// too, but the point is data far from now.
	end := time.Now().Add(-7 * 24 * time.Hour).Truncate(time.Minute)
	env := promenv.Start(t, strings.NewReader(counter(end)), promenv.Options{})
	ctx := context.Background()
	got, err := env.Query(ctx, `sum(increase(demo_requests_total[1h]))`, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 3600 {
		t.Fatalf("increase over 1h = %+v, want 3600", got)
	}
	if _, err := env.Query(ctx, `sum(`, end); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("bad query: err = %v, want bad_data", err)
	}
	pid := env.Server.PID()
	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := env.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("prometheus (pid %d) still runs after Stop", pid)
	}
}

func TestBackfillRejectsBadInput(t *testing.T) {
	_, promtool, err := promenv.Binaries()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.om")
	if err := os.WriteFile(bad, []byte("demo_total{ 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = promenv.Backfill(context.Background(), promtool, bad, filepath.Join(dir, "data"), promenv.BackfillOptions{})
	if err == nil {
		t.Fatal("backfill of malformed input succeeded")
	}
	t.Logf("%v", err)
}

// TestNoOrphanOnExit starts a server in a child test process that exits
// without any cleanup, as a test binary killed by -timeout does, and checks
// that the server goes with it.
func TestNoOrphanOnExit(t *testing.T) {
	if os.Getenv("PROMENV_ORPHAN_CHILD") == "1" {
		prometheus, promtool, err := promenv.Binaries()
		if err != nil {
			t.Skip(err)
		}
		dir, _ := os.MkdirTemp("", "promenv-orphan-")
		om := filepath.Join(dir, "m.om")
		os.WriteFile(om, []byte(counter(time.Now())), 0o644)
		ctx := context.Background()
		if err := promenv.Backfill(ctx, promtool, om, filepath.Join(dir, "data"), promenv.BackfillOptions{}); err != nil {
			t.Fatal(err)
		}
		srv, err := promenv.Serve(ctx, prometheus, filepath.Join(dir, "data"), promenv.ServeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("PID=%d DIR=%s\n", srv.PID(), dir)
		os.Exit(0) // no Close, no cleanup
	}
	if _, _, err := promenv.Binaries(); err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoOrphanOnExit$", "-test.v")
	cmd.Env = append(os.Environ(), "PROMENV_ORPHAN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var pid int
	var dir string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "PID=") {
			fmt.Sscanf(line, "PID=%d DIR=%s", &pid, &dir)
		}
	}
	if pid == 0 {
		t.Fatalf("child printed no PID:\n%s", out)
	}
	defer os.RemoveAll(dir)
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("prometheus (pid %d) outlived the process that started it", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
