package testenv_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/internal/testenv"
)

// TestAPIServer applies the whole demo mesh to a real kube-apiserver (with the
// Istio CRDs the script installs) and checks that the API server holds its
// VirtualServices and that the limited identity cannot list Secrets.
func TestAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: builds and starts a real kube-apiserver")
	}
	env := testenv.Start(t)

	// Server version: the binaries carry the Kubernetes version, not v0.0.0.
	out, errOut, err := env.Kubectl("version", "-o", "json")
	if err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, `"gitVersion": "v1.`) || strings.Contains(out, "v0.0.0") {
		t.Errorf("kubectl version does not report a v1.x server and client:\n%s", out)
	}

	demo := filepath.Join(env.Root, "demo", "mesh")
	files, err := filepath.Glob(filepath.Join(demo, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no demo/mesh/*.yaml files (%v)", err)
	}
	want := demoVirtualServices(t, files)
	if len(want) == 0 {
		t.Fatalf("demo/mesh has no VirtualService")
	}

	// kubectl applies a folder's files in name order: namespaces (00-) first.
	out, errOut, err = env.Kubectl("apply", "--server-side", "--field-manager=meshpilot-test", "-f", demo)
	if err != nil {
		t.Fatalf("kubectl apply --server-side -f demo/mesh: %v\n%s%s", err, out, errOut)
	}
	t.Logf("applied %d objects from %d files", strings.Count(out, "serverside-applied"), len(files))

	out, errOut, err = env.Kubectl("get", "virtualservices", "-A", "-o", "name")
	if err != nil {
		t.Fatalf("kubectl get virtualservices: %v\n%s", err, errOut)
	}
	var got []string
	for _, l := range strings.Fields(out) {
		got = append(got, strings.TrimPrefix(l, "virtualservice.networking.istio.io/"))
	}
	slices.Sort(got)
	var wantNames []string
	for _, nn := range want {
		wantNames = append(wantNames, nn[strings.Index(nn, "/")+1:])
	}
	slices.Sort(wantNames)
	if !slices.Equal(got, wantNames) {
		t.Errorf("kubectl get virtualservices -A -o name = %v, want the demo's %v", got, wantNames)
	}
	// The same, namespace-qualified.
	out, errOut, err = env.Kubectl("get", "virtualservices", "-A", "-o",
		`jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}`)
	if err != nil {
		t.Fatalf("kubectl get virtualservices: %v\n%s", err, errOut)
	}
	got = strings.Fields(out)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("VirtualServices in the API server = %v, want %v", got, want)
	}

	// The limited identity reads the mesh but is refused Secrets with 403.
	if env.LimitedKubeconfig == "" {
		t.Fatalf("no limited kubeconfig in %s", env.Dir)
	}
	if _, errOut, err := env.KubectlAs(env.LimitedKubeconfig, "get", "virtualservices", "-A", "-o", "name"); err != nil {
		t.Errorf("limited identity cannot list VirtualServices: %v\n%s", err, errOut)
	}
	_, errOut, err = env.KubectlAs(env.LimitedKubeconfig, "get", "secrets", "-A", "-v=6")
	if err == nil {
		t.Fatalf("limited identity listed Secrets; want 403 Forbidden")
	}
	if !strings.Contains(errOut, "403 Forbidden") || !strings.Contains(errOut, `cannot list resource "secrets"`) {
		t.Errorf("listing Secrets as the limited identity: want a 403 Forbidden, got:\n%s", lastLines(errOut))
	}
	// And the admin can.
	if _, errOut, err := env.Kubectl("get", "secrets", "-A"); err != nil {
		t.Errorf("admin cannot list Secrets: %v\n%s", err, errOut)
	}
}

// demoVirtualServices returns namespace/name of every VirtualService in files.
func demoVirtualServices(t *testing.T, files []string) []string {
	t.Helper()
	var vs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var obj struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name      string `yaml:"name"`
					Namespace string `yaml:"namespace"`
				} `yaml:"metadata"`
			}
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if obj.Kind == "VirtualService" {
				ns := obj.Metadata.Namespace
				if ns == "" {
					ns = "default"
				}
				vs = append(vs, ns+"/"+obj.Metadata.Name)
			}
		}
	}
	slices.Sort(vs)
	return vs
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// TestTwoServers: a test may hold several API servers, reuse one started by
// hand, bind users and groups to roles, and stop a server early.
func TestTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: builds and starts real kube-apiservers")
	}
	a := testenv.Start(t)
	t.Run("second", func(t *testing.T) {
		// The first Start of a test reuses MESHPILOT_TESTENV_KUBECONFIG's
		// server and leaves it running; the next one starts its own.
		t.Setenv(testenv.ReuseEnv, a.Kubeconfig)
		r := testenv.Start(t)
		if !r.Reused || r.Server != a.Server || r.Stop() == nil {
			t.Fatalf("reused env %+v: want a's server, not stoppable", r)
		}
		b := testenv.Start(t)
		if b.Reused || b.Server == "" || b.Server == a.Server || b.Dir == a.Dir {
			t.Fatalf("second env %s in %s, first %s in %s", b.Server, b.Dir, a.Server, a.Dir)
		}

		if _, errOut, err := b.Kubectl("create", "namespace", "only-in-b"); err != nil {
			t.Fatalf("%v: %s", err, errOut)
		}
		if _, _, err := a.Kubectl("get", "namespace", "only-in-b"); err == nil {
			t.Errorf("namespace only-in-b of the second server is in the first")
		}

		canI := func(args ...string) string {
			t.Helper()
			out, _, _ := b.Kubectl(append([]string{"auth", "can-i"}, args...)...)
			return strings.TrimSpace(out)
		}
		if got := canI("list", "pods", "--as", "u-abc12"); got != "no" {
			t.Fatalf("before BindUser: can-i list pods = %q", got)
		}
		if err := b.BindUser("u-abc12", testenv.LimitedRole); err != nil {
			t.Fatal(err)
		}
		if err := b.BindUser("u-abc12", testenv.LimitedRole); err != nil {
			t.Fatalf("binding again: %v", err)
		}
		if err := b.BindGroup("g-ops", "cluster-admin"); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ args, want string }{
			{"list pods --as u-abc12", "yes"},
			{"list secrets --as u-abc12", "no"},
			{"list secrets --as u-other --as-group g-ops", "yes"},
		} {
			if got := canI(strings.Fields(tt.args)...); got != tt.want {
				t.Errorf("can-i %s = %q, want %q", tt.args, got, tt.want)
			}
		}
		if err := b.BindUser("u-abc12", "view"); err == nil || !strings.Contains(err.Error(), "aggregated") {
			t.Errorf("binding the aggregated view role: err = %v, want a refusal", err)
		}

		began := time.Now()
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := b.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		t.Logf("stopped in %s", time.Since(began).Round(time.Millisecond))
		if _, errOut, err := b.Kubectl("--request-timeout=5s", "get", "--raw", "/readyz"); err == nil || !strings.Contains(errOut, "refused") {
			t.Errorf("after Stop: err %v: %s", err, errOut)
		}
		if _, errOut, err := a.Kubectl("get", "--raw", "/readyz"); err != nil {
			t.Errorf("the first server after the second stopped: %v: %s", err, errOut)
		}
	})
}
