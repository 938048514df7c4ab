// Package testenv gives integration tests a real Kubernetes API server: a
// kube-apiserver and etcd built from the Go module proxy and started on
// loopback with TLS, token authentication and RBAC by hack/testenv, with the
// Istio and Gateway API CRDs installed.
//
// The first use on a machine builds the binaries (about six minutes, cached
// under .cache/testenv/); later starts take a few seconds. When the binaries
// cannot be built (no Go module proxy, no openssl), Start skips the test with a
// message saying why — except under CI=true, where it fails instead, so that a
// broken environment cannot turn the integration tests into silent skips.
//
// To reuse an environment started by hand (hack/testenv start DIR), set
// MESHPILOT_TESTENV_KUBECONFIG=DIR/kubeconfig; Start then neither builds nor
// starts anything and does not stop it afterwards.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ReuseEnv names the variable that points Start at a running environment's
// admin kubeconfig. Its folder's kubeconfig-limited is the limited identity.
const ReuseEnv = "MESHPILOT_TESTENV_KUBECONFIG"

// Env is a running test API server.
type Env struct {
	// Kubeconfig is an admin (system:masters) kubeconfig.
	Kubeconfig string
	// LimitedKubeconfig may read the mesh (core workloads, Istio, Gateway API)
	// but nothing else; listing Secrets is refused with 403.
	LimitedKubeconfig string
	// Dir holds the environment's certificates, tokens, logs and pid files.
	Dir string
	// BinDir holds kube-apiserver, etcd and kubectl (usable as KUBEBUILDER_ASSETS).
	BinDir string
	// Root is the meshpilot repository root.
	Root string
}

const (
	buildTimeout = 25 * time.Minute
	startTimeout = 3 * time.Minute
)

// Start builds (once per machine) and starts a test API server in t.TempDir(),
// and stops it when the test ends. See the package documentation for when it
// skips.
func Start(t testing.TB) *Env {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	script := filepath.Join(root, "hack", "testenv")

	if kc := os.Getenv(ReuseEnv); kc != "" {
		return reuse(t, root, script, kc)
	}

	for _, tool := range []string{"go", "openssl", "setsid"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, fmt.Sprintf("%s is not on PATH (hack/testenv needs it to build and start kube-apiserver)", tool), "")
		}
	}

	began := time.Now()
	out, err := run(t, buildTimeout, nil, script, "build")
	if err != nil {
		unavailable(t, fmt.Sprintf("hack/testenv build failed after %s: %v (the Go module proxy %q may be unreachable)",
			time.Since(began).Round(time.Second), err, goEnv("GOPROXY")), out)
	}
	built := time.Since(began)
	binDir, err := binDir(t, script)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}

	dir := t.TempDir()
	began = time.Now()
	env := []string{"MESHPILOT_TESTENV_OWNER_PID=" + strconv.Itoa(os.Getpid())}
	// Registered before starting, so that a half-started environment is stopped
	// too; after t.TempDir, so that it runs before the folder is removed.
	t.Cleanup(func() {
		if t.Failed() {
			for _, log := range []string{"kube-apiserver.log", "etcd.log"} {
				t.Logf("testenv: %s", tail(filepath.Join(dir, log), 20))
			}
		}
		if out, err := run(t, time.Minute, nil, script, "stop", dir); err != nil {
			t.Errorf("testenv: hack/testenv stop %s: %v\n%s", dir, err, out)
		}
	})
	out, err = run(t, startTimeout, env, script, "start", dir)
	if err != nil {
		t.Fatalf("testenv: hack/testenv start failed after %s: %v\n%s",
			time.Since(began).Round(time.Millisecond), err, out)
	}
	t.Logf("testenv: binaries ready in %s, API server started in %s (%s)",
		built.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), dir)
	return &Env{
		Kubeconfig:        filepath.Join(dir, "kubeconfig"),
		LimitedKubeconfig: filepath.Join(dir, "kubeconfig-limited"),
		Dir:               dir,
		BinDir:            binDir,
		Root:              root,
	}
}

func reuse(t testing.TB, root, script, kubeconfig string) *Env {
	t.Helper()
	if _, err := os.Stat(kubeconfig); err != nil {
		t.Fatalf("testenv: %s=%s: %v", ReuseEnv, kubeconfig, err)
	}
	dir := filepath.Dir(kubeconfig)
	limited := filepath.Join(dir, "kubeconfig-limited")
	if _, err := os.Stat(limited); err != nil {
		limited = ""
	}
	binDir, err := binDir(t, script)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Logf("testenv: reusing the API server of %s=%s", ReuseEnv, kubeconfig)
	return &Env{Kubeconfig: kubeconfig, LimitedKubeconfig: limited, Dir: dir, BinDir: binDir, Root: root}
}

// Kubectl runs the cached kubectl against the admin kubeconfig and returns
// its stdout and stderr.
func (e *Env) Kubectl(args ...string) (stdout, stderr string, err error) {
	return e.KubectlAs(e.Kubeconfig, args...)
}

// KubectlAs runs the cached kubectl with the given kubeconfig.
func (e *Env) KubectlAs(kubeconfig string, args ...string) (stdout, stderr string, err error) {
	kubectl := filepath.Join(e.BinDir, "kubectl")
	if _, statErr := os.Stat(kubectl); statErr != nil {
		if kubectl, err = exec.LookPath("kubectl"); err != nil {
			return "", "", fmt.Errorf("no kubectl in %s or on PATH (run hack/testenv build)", e.BinDir)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = e.Root
	var o, s bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &s
	err = cmd.Run()
	return o.String(), s.String(), err
}

// RepoRoot finds the meshpilot module root from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/meshpilot/meshpilot\n")) {
			if _, err := os.Stat(filepath.Join(d, "hack", "testenv")); err != nil {
				return "", fmt.Errorf("%s has no hack/testenv: %v", d, err)
			}
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no meshpilot go.mod above %s", dir)
		}
	}
}

// unavailable skips the test because the environment cannot be provided, or
// fails it under CI=true.
func unavailable(t testing.TB, why, output string) {
	t.Helper()
	msg := "\n" + strings.Repeat("!", 78) + "\n" +
		"testenv: NO REAL KUBERNETES API SERVER: " + why + "\n"
	if output != "" {
		msg += lastLines(output, 25) + "\n"
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%sCI=true: failing instead of skipping\n%s", msg, strings.Repeat("!", 78))
	}
	t.Skipf("%sSKIPPED (set CI=true to make this a failure)\n%s", msg, strings.Repeat("!", 78))
}

func binDir(t testing.TB, script string) (string, error) {
	out, err := run(t, time.Minute, nil, script, "bindir")
	if err != nil {
		return "", fmt.Errorf("hack/testenv bindir: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// run runs the script with combined output; stdout and stderr share one buffer
// so failure messages show the go/openssl/kubectl output in order.
func run(t testing.TB, timeout time.Duration, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Background children of the script get their own stdio; never wait on them.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return out.String(), err
}

func goEnv(key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	return fmt.Sprintf("last lines of %s:\n%s", path, lastLines(string(b), n))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
