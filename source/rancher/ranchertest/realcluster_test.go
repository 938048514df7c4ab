package ranchertest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/testenv"
	"github.com/meshpilot/meshpilot/source/rancher/ranchertest"
)

// TestRealClusters puts the Rancher proxy in front of two real
// kube-apiservers and drives them with kubectl through kubeconfigs the way
// Rancher generates them (server <rancher>/k8s/clusters/<id>, Rancher's CA,
// the Rancher token). The downstream RBAC binds the Rancher user ids and
// groups the proxy impersonates, as Rancher's role bindings do.
func TestRealClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: starts two real kube-apiservers")
	}
	a := testenv.Start(t)
	b := testenv.Start(t)
	for _, env := range []*testenv.Env{a, b} {
		if err := env.BindGroup("g-ops", "cluster-admin"); err != nil { // u-adm01, through its group
			t.Fatal(err)
		}
		// Reads namespaces and workloads, not Secrets.
		if err := env.BindUser("u-view1", testenv.LimitedRole); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := ranchertest.ClusterFromKubeconfig("c-a", "alpha", a.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := ranchertest.ClusterFromKubeconfig("c-b", "beta", b.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	s := ranchertest.NewServer(ranchertest.Options{Clusters: []ranchertest.Cluster{ca, cb}, Tokens: testTokens, TLS: true})
	t.Cleanup(s.Close) // before the API servers stop: cleanups run last first

	dir := t.TempDir()
	kubeconfig := func(cluster, token string) string {
		name, _, _ := strings.Cut(token, ":")
		path := filepath.Join(dir, cluster+"-"+name)
		if err := os.WriteFile(path, s.Kubeconfig(cluster, token), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	adminA, adminB := kubeconfig("c-a", adminTok), kubeconfig("c-b", adminTok)
	viewerA, viewerB := kubeconfig("c-a", viewerTok), kubeconfig("c-b", viewerTok)

	// kubectl through the proxy; a's kubectl, since b is stopped at the end.
	kubectl := func(kc string, args ...string) (stdout, stderr string, err error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := a.Command(ctx, kc, append([]string{"--request-timeout=20s"}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}
	mustKubectl := func(env *testenv.Env, args ...string) {
		t.Helper()
		if _, errOut, err := env.Kubectl(args...); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
	}
	namespaces := func(kc string) []string {
		t.Helper()
		out, errOut, err := kubectl(kc, "get", "namespaces", "-o", "name")
		if err != nil {
			t.Fatalf("kubectl get namespaces through the proxy: %v\n%s", err, errOut)
		}
		return strings.Fields(out)
	}

	t.Run("each cluster's namespaces", func(t *testing.T) {
		mustKubectl(a, "create", "namespace", "only-in-a")
		mustKubectl(b, "create", "namespace", "only-in-b")
		inA, inB := namespaces(adminA), namespaces(adminB)
		if !slices.Contains(inA, "namespace/only-in-a") || slices.Contains(inA, "namespace/only-in-b") {
			t.Errorf("c-a through the proxy: %v", inA)
		}
		if !slices.Contains(inB, "namespace/only-in-b") || slices.Contains(inB, "namespace/only-in-a") {
			t.Errorf("c-b through the proxy: %v", inB)
		}
	})

	t.Run("the API server sees the Rancher user", func(t *testing.T) {
		out, errOut, err := kubectl(adminA, "auth", "whoami", "-o", "json")
		if err != nil {
			t.Fatalf("kubectl auth whoami: %v\n%s", err, errOut)
		}
		var review struct {
			Status struct {
				UserInfo struct {
					Username string
					Groups   []string
					Extra    map[string][]string
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &review); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		u := review.Status.UserInfo
		wantGroups := []string{"g-ops", "github_team://42", "system:authenticated", "system:cattle:authenticated"}
		if u.Username != "u-adm01" || !slices.Equal(u.Groups, wantGroups) ||
			!slices.Equal(u.Extra["requesttokenid"], []string{"token-adm01"}) ||
			!slices.Equal(u.Extra["principalid"], []string{"local://u-adm01"}) ||
			!slices.Equal(u.Extra["username"], []string{"admin"}) || len(u.Extra["requesthost"]) != 1 {
			t.Errorf("whoami through the proxy: %+v", u)
		}
	})

	t.Run("the user's RBAC applies downstream", func(t *testing.T) {
		if _, errOut, err := kubectl(viewerA, "get", "pods", "-A"); err != nil {
			t.Errorf("the viewer may list pods: %v\n%s", err, errOut)
		}
		_, errOut, err := kubectl(viewerA, "get", "secrets", "-A")
		if err == nil || !strings.Contains(errOut, `Error from server (Forbidden): secrets is forbidden: User "u-view1" cannot list resource "secrets"`) {
			t.Errorf("the viewer listing secrets: err %v, want the API server's 403 naming u-view1:\n%s", err, errOut)
		}
	})

	t.Run("a member of one cluster gets Rancher's 403 on the other", func(t *testing.T) {
		// u-view1 has a role in c-b too: Rancher refuses before the
		// request gets there.
		_, errOut, err := kubectl(viewerB, "get", "--raw", "/api/v1/namespaces")
		want := `clusters.management.cattle.io \"c-b\" is forbidden: User \"u-view1\" cannot get resource \"clusters\"`
		if err == nil || !strings.Contains(errOut, "Error from server (Forbidden)") || !strings.Contains(errOut, want) {
			t.Errorf("err %v, want Rancher's 403:\n%s", err, errOut)
		}
		t.Logf("kubectl says: %s", strings.TrimSpace(errOut))
	})

	t.Run("kubectl get --watch streams", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := a.Command(ctx, adminA, "get", "namespaces", "--watch-only", "-o", "name")
		events := watchLines(t, cmd).lines
		// Namespaces keep coming until one is seen: the first may predate the
		// watch.
		for i := 0; ; i++ {
			mustKubectl(a, "create", "namespace", fmt.Sprintf("watched-%d", i))
			select {
			case line := <-events:
				if !strings.HasPrefix(line, "namespace/watched-") {
					t.Fatalf("watch: %q", line)
				}
				t.Logf("watch through the proxy: %s after %d namespaces", line, i+1)
				return
			case <-time.After(time.Second):
			case <-ctx.Done():
				t.Fatal("no watch event through the proxy")
			}
		}
	})

	t.Run("an unreachable cluster fails at once, the other works", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := a.Command(ctx, adminB, "get", "namespaces", "--watch", "-o", "name")
		w := watchLines(t, cmd)
		select {
		case <-w.lines:
		case <-ctx.Done():
			t.Fatal("no namespaces from c-b")
		}

		began := time.Now()
		s.SetUnreachable("c-b", true)
		_, errOut, err := kubectl(adminB, "get", "--raw", "/api/v1/namespaces")
		if err == nil || !strings.Contains(errOut, `Error from server (InternalError): an error on the server ("cluster agent disconnected")`) ||
			time.Since(began) > 10*time.Second {
			t.Errorf("c-b unreachable: err %v after %s:\n%s", err, time.Since(began), errOut)
		}
		if status, _, body := get(t, s.Client(), s.URL+"/k8s/clusters/c-b/api", adminTok); status != 500 || body != "cluster agent disconnected" {
			t.Errorf("c-b unreachable: %d %q", status, body)
		}
		if ns := namespaces(adminA); !slices.Contains(ns, "namespace/only-in-a") {
			t.Errorf("c-a while c-b is unreachable: %v", ns)
		}
		// The watch through the lost tunnel ended.
		if err := w.wait(15 * time.Second); err != nil {
			t.Errorf("kubectl get --watch on c-b: %v", err)
		} else {
			t.Logf("kubectl get --watch on c-b ended (%v) %s after the tunnel went: %s",
				w.err, time.Since(began).Round(time.Millisecond), strings.TrimSpace(w.stderr.String()))
		}

		s.SetUnreachable("c-b", false)
		if ns := namespaces(adminB); !slices.Contains(ns, "namespace/only-in-b") {
			t.Errorf("c-b reconnected: %v", ns)
		}
	})

	t.Run("a stopped API server fails at once, the other works", func(t *testing.T) {
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		_, errOut, err := kubectl(adminB, "get", "--raw", "/api/v1/namespaces")
		if err == nil || !strings.Contains(errOut, "connect: connection refused") || time.Since(began) > 10*time.Second {
			t.Errorf("c-b stopped: err %v after %s:\n%s", err, time.Since(began), errOut)
		}
		t.Logf("kubectl says: %s", strings.TrimSpace(errOut))
		if status, _, _ := get(t, s.Client(), s.URL+"/k8s/clusters/c-b/api", adminTok); status != 500 {
			t.Errorf("c-b stopped: status %d, want Rancher's 500", status)
		}
		if ns := namespaces(adminA); !slices.Contains(ns, "namespace/only-in-a") {
			t.Errorf("c-a while c-b is stopped: %v", ns)
		}
	})
}

// watch is a running command whose stdout lines arrive on lines.
type watch struct {
	lines  chan string
	done   chan struct{}
	err    error // of cmd.Wait, once done is closed
	stderr bytes.Buffer
}

// watchLines starts cmd (bound to a context that ends it) and passes its
// stdout on line by line; the test's cleanup waits for it.
func watchLines(t *testing.T, cmd *exec.Cmd) *watch {
	t.Helper()
	w := &watch{lines: make(chan string, 1000), done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case w.lines <- sc.Text():
			default: // nobody is reading any more
			}
		}
		w.err = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-w.done
	})
	return w
}

// wait waits for the command to end by itself.
func (w *watch) wait(timeout time.Duration) error {
	select {
	case <-w.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("still running after %s", timeout)
	}
}
