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
// MESHPILOT_TESTENV_KUBECONFIG=DIR/kubeconfig; the first Start of each test
// then neither builds nor starts anything and does not stop it afterwards.
//
// A test may call Start more than once to get several API servers (each in
// its own folder, with its own ports, etcd and credentials), and Stop one of
// them early to see what its clients do when it goes away.
package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	// Server is the API server's URL, https://127.0.0.1:<port>.
	Server string
	// Reused is true for an environment started by hand and named by
	// MESHPILOT_TESTENV_KUBECONFIG: Stop leaves it running.
	Reused bool

	script   string
	stopOnce sync.Once
	stopErr  error
}

const (
	buildTimeout   = 25 * time.Minute
	startTimeout   = 3 * time.Minute
	stopTimeout    = time.Minute
	kubectlTimeout = 2 * time.Minute
)

// reusedBy records the tests that already hold the reused environment, so
// that their next Start starts a server of their own.
var reusedBy sync.Map // testing.TB -> struct{}

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
		if _, taken := reusedBy.LoadOrStore(t, struct{}{}); !taken {
			t.Cleanup(func() { reusedBy.Delete(t) })
			return reuse(t, root, script, kc)
		}
		t.Logf("testenv: this test already uses %s=%s; starting another API server", ReuseEnv, kc)
	}

	for _, tool := range []string{"go", "openssl", "setsid"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, fmt.Sprintf("%s is not on PATH (hack/testenv needs it to build and start kube-apiserver)", tool), "")
		}
	}

	began := time.Now()
	out, err := run(buildTimeout, nil, script, "build")
	if err != nil {
		unavailable(t, fmt.Sprintf("hack/testenv build failed after %s: %v (the Go module proxy %q may be unreachable)",
			time.Since(began).Round(time.Second), err, goEnv("GOPROXY")), out)
	}
	built := time.Since(began)
	binDir, err := binDir(script)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}

	dir := t.TempDir()
	e := &Env{
		Kubeconfig:        filepath.Join(dir, "kubeconfig"),
		LimitedKubeconfig: filepath.Join(dir, "kubeconfig-limited"),
		Dir:               dir,
		BinDir:            binDir,
		Root:              root,
		script:            script,
	}
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
		if err := e.Stop(); err != nil {
			t.Errorf("%v", err)
		}
	})
	out, err = run(startTimeout, env, script, "start", dir)
	if err != nil {
		t.Fatalf("testenv: hack/testenv start failed after %s: %v\n%s",
			time.Since(began).Round(time.Millisecond), err, out)
	}
	e.Server = readEnvFile(dir)["TESTENV_SERVER"]
	t.Logf("testenv: binaries ready in %s, API server %s started in %s (%s)",
		built.Round(time.Millisecond), e.Server, time.Since(began).Round(time.Millisecond), dir)
	return e
}

// Stop stops the API server and etcd now rather than when the test ends.
// It is idempotent, and the test's cleanup then has nothing left to do. A
// reused environment (Reused) is left running and Stop returns an error.
func (e *Env) Stop() error {
	if e.Reused {
		return fmt.Errorf("testenv: not stopping the API server of %s=%s: it was started by hand", ReuseEnv, e.Kubeconfig)
	}
	e.stopOnce.Do(func() {
		if out, err := run(stopTimeout, nil, e.script, "stop", e.Dir); err != nil {
			e.stopErr = fmt.Errorf("testenv: hack/testenv stop %s: %v\n%s", e.Dir, err, out)
		}
	})
	return e.stopErr
}

// readEnvFile reads the KEY=value lines hack/testenv writes to DIR/env.
func readEnvFile(dir string) map[string]string {
	vars := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		return vars
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	return vars
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
	binDir, err := binDir(script)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Logf("testenv: reusing the API server of %s=%s", ReuseEnv, kubeconfig)
	return &Env{Kubeconfig: kubeconfig, LimitedKubeconfig: limited, Dir: dir, BinDir: binDir, Root: root,
		Server: readEnvFile(dir)["TESTENV_SERVER"], Reused: true, script: script}
}

// Kubectl runs the cached kubectl against the admin kubeconfig and returns
// its stdout and stderr.
func (e *Env) Kubectl(args ...string) (stdout, stderr string, err error) {
	return e.KubectlAs(e.Kubeconfig, args...)
}

// KubectlAs runs the cached kubectl with the given kubeconfig, for at most
// two minutes.
func (e *Env) KubectlAs(kubeconfig string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	return e.kubectl(ctx, kubeconfig, nil, args...)
}

func (e *Env) kubectl(ctx context.Context, kubeconfig string, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	cmd := e.Command(ctx, kubeconfig, args...)
	var o, s bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &o, &s
	err = cmd.Run()
	return o.String(), s.String(), err
}

// Command is the cached kubectl (or, without it, the one on PATH) with the
// given kubeconfig and args, killed when ctx ends. It is for streams the
// caller reads as they come, such as kubectl get --watch, and for
// kubeconfigs of other servers (a proxy in front of this one). Discovery is
// cached in Dir, not in the user's home.
func (e *Env) Command(ctx context.Context, kubeconfig string, args ...string) *exec.Cmd {
	kubectl := filepath.Join(e.BinDir, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		if p, err := exec.LookPath("kubectl"); err == nil {
			kubectl = p
		}
	}
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = e.Root
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(e.Dir, "kubectl-cache"))
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// LimitedRole is the ClusterRole of the limited identity, created in every
// environment: read the mesh (namespaces, core workloads, Istio, Gateway
// API, CRDs), not Secrets.
const LimitedRole = "meshpilot-testenv-limited"

// BindUser grants user the ClusterRole clusterRole in the whole cluster,
// with a ClusterRoleBinding applied by the admin; binding again changes
// nothing. Behind Rancher's proxy (source/rancher/ranchertest) the user to
// bind is the Rancher user id the proxy impersonates, such as u-abc12.
//
// The roles that work: cluster-admin, LimitedRole, the system: roles, and
// roles the test creates. The built-in admin, edit and view are aggregated
// roles whose rules kube-controller-manager fills in; it does not run here,
// so they grant nothing and BindUser refuses them.
func (e *Env) BindUser(user, clusterRole string) error {
	return e.bind("User", user, clusterRole)
}

// BindGroup is BindUser for a group, such as a Rancher group principal
// without its "local://" prefix.
func (e *Env) BindGroup(group, clusterRole string) error {
	return e.bind("Group", group, clusterRole)
}

func (e *Env) bind(kind, subject, clusterRole string) error {
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	out, errOut, err := e.kubectl(ctx, e.Kubeconfig, nil, "get", "clusterrole", clusterRole, "-o", "json")
	if err != nil {
		return fmt.Errorf("testenv: bind %s %s to ClusterRole %s: %v: %s", kind, subject, clusterRole, err, strings.TrimSpace(errOut))
	}
	var role struct {
		AggregationRule *struct{} `json:"aggregationRule"`
		Rules           []any     `json:"rules"`
	}
	if err := json.Unmarshal([]byte(out), &role); err != nil {
		return fmt.Errorf("testenv: ClusterRole %s: %w", clusterRole, err)
	}
	if role.AggregationRule != nil && len(role.Rules) == 0 {
		return fmt.Errorf("testenv: bind %s %s: ClusterRole %s is aggregated and has no rules, because kube-controller-manager, which aggregates them, does not run in testenv; bind %s, cluster-admin or a role of your own",
			kind, subject, clusterRole, LimitedRole)
	}
	sum := sha256.Sum256([]byte(kind + "\x00" + subject + "\x00" + clusterRole))
	name := fmt.Sprintf("meshpilot-testenv-%s-%s-%s-%x", strings.ToLower(kind), dnsLabel(subject), dnsLabel(clusterRole), sum[:4])
	binding, err := json.Marshal(map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       "ClusterRoleBinding",
		"metadata":   map[string]any{"name": name},
		"roleRef":    map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": clusterRole},
		"subjects":   []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}},
	})
	if err != nil {
		return err
	}
	if _, errOut, err := e.kubectl(ctx, e.Kubeconfig, bytes.NewReader(binding),
		"apply", "--server-side", "--field-manager=testenv", "-f", "-"); err != nil {
		return fmt.Errorf("testenv: bind %s %s to ClusterRole %s: %v: %s", kind, subject, clusterRole, err, strings.TrimSpace(errOut))
	}
	return nil
}

// dnsLabel keeps the characters of s that an object name may hold.
func dnsLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
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

func binDir(script string) (string, error) {
	out, err := run(time.Minute, nil, script, "bindir")
	if err != nil {
		return "", fmt.Errorf("hack/testenv bindir: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// run runs the script with combined output; stdout and stderr share one buffer
// so failure messages show the go/openssl/kubectl output in order.
func run(timeout time.Duration, env []string, name string, args ...string) (string, error) {
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
