package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/internal/testenv"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/source/kube"
)

// live starts a real API server, applies the demo mesh and the fixtures of
// testdata/live, and returns it.
func live(t *testing.T) *testenv.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED in -short: starts a real kube-apiserver")
	}
	env := testenv.Start(t)
	fixtures, err := filepath.Abs(filepath.Join("testdata", "live"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(env.Root, "demo", "mesh"), fixtures} {
		out, errOut, err := env.Kubectl("apply", "--server-side", "--field-manager=meshpilot-test", "-f", dir)
		if err != nil {
			t.Fatalf("kubectl apply -f %s: %v\n%s%s", dir, err, out, errOut)
		}
	}
	return env
}

func read(t *testing.T, kubeconfig string, opts kube.Options) *kube.Result {
	t.Helper()
	cfg, name, err := kube.Target{Kubeconfig: kubeconfig}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Cluster == "" {
		opts.Cluster = name
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := kube.Load(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("kube.Load: %v", err)
	}
	for _, p := range res.Problems {
		t.Errorf("problem: %s", p.Error())
	}
	return res
}

func analyze(t *testing.T, snap *mesh.Snapshot) []analysis.Finding {
	t.Helper()
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := analysis.Run(context.Background(), snap, sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// lines renders findings without where they came from: a file and line, or
// a cluster.
func lines(fs []analysis.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s [%s]: %s", f.Code, f.Level, f.Resource, f.Message))
	}
	slices.Sort(out)
	return out
}

func diff(a, b []string) (onlyA, onlyB []string) {
	in := func(l []string, s string) bool { _, ok := slices.BinarySearch(l, s); return ok }
	for _, s := range a {
		if !in(b, s) {
			onlyA = append(onlyA, s)
		}
	}
	for _, s := range b {
		if !in(a, s) {
			onlyB = append(onlyB, s)
		}
	}
	return onlyA, onlyB
}

func loadFiles(t *testing.T, inputs []files.Named) *files.Result {
	t.Helper()
	res, err := files.LoadBytes(context.Background(), inputs, files.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Fatalf("file problem: %s", p.Error())
	}
	return res
}

// systemNamespaces are the namespaces every API server creates: the same
// objects as the cluster holds include them.
const systemNamespaces = `
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-public}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-node-lease}
`

func fixtureInputs(t *testing.T) []files.Named {
	t.Helper()
	inputs := append(demo.Inputs(), files.Named{Name: "system-namespaces.yaml", Data: []byte(systemNamespaces)})
	paths, _ := filepath.Glob(filepath.Join("testdata", "live", "*.yaml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, files.Named{Name: p, Data: b})
	}
	return inputs
}

// TestLiveMatchesFiles is the equivalence the live source owes: the demo
// mesh and the fixtures applied to a real API server and read back give the
// same findings as the same YAML read from files, and the same findings as
// the objects dumped with kubectl get -o yaml.
func TestLiveMatchesFiles(t *testing.T) {
	env := live(t)
	res := read(t, env.Kubeconfig, kube.Options{Cluster: "east"})
	if len(res.Lost()) > 0 {
		t.Fatalf("admin lost kinds: %+v", res.Lost())
	}
	liveFindings := analyze(t, res.Snapshot(mesh.Options{}))
	if len(liveFindings) == 0 {
		t.Fatal("no findings from the live cluster; the demo has planted problems")
	}
	for _, f := range liveFindings {
		if f.Object != nil && (f.Cluster != "east" || f.File != "" || f.Line != 0) {
			t.Errorf("finding %s on %s carries file %q line %d cluster %q; want cluster east and no file", f.Code, f.Resource, f.File, f.Line, f.Cluster)
		}
	}
	got := lines(liveFindings)

	fromFiles := lines(analyze(t, loadFiles(t, fixtureInputs(t)).Snapshot(mesh.Options{})))
	if onlyLive, onlyFiles := diff(got, fromFiles); len(onlyLive)+len(onlyFiles) > 0 {
		t.Errorf("live and file findings differ:\nonly live:\n  %s\nonly files:\n  %s",
			strings.Join(onlyLive, "\n  "), strings.Join(onlyFiles, "\n  "))
	}

	// The same objects as kubectl hands them out.
	kinds := make([]string, 0)
	for _, k := range mesh.Kinds() {
		if k.GroupKind == mesh.Secret {
			continue // compared as metadata below: a dump would carry data
		}
		kinds = append(kinds, k.GroupResource())
	}
	slices.Sort(kinds)
	var dump strings.Builder
	for _, k := range kinds {
		out, _, err := env.Kubectl("get", k, "-A", "-o", "yaml", "--ignore-not-found")
		if err != nil {
			continue // not installed (Inference Extension)
		}
		dump.WriteString(out)
		dump.WriteString("\n---\n")
	}
	dumped := loadFiles(t, []files.Named{{Name: "dump.yaml", Data: []byte(dump.String())}})
	var objs []*mesh.Object
	for _, o := range dumped.Objects {
		o.Source = mesh.Source{Cluster: "east"} // live: the stand-in ingress does not apply
		objs = append(objs, o)
	}
	for _, o := range res.Objects {
		if o.GroupKind == mesh.Secret {
			objs = append(objs, o)
		}
	}
	fromDump := lines(analyze(t, mesh.New(objs, mesh.Options{})))
	if onlyLive, onlyDump := diff(got, fromDump); len(onlyLive)+len(onlyDump) > 0 {
		t.Errorf("live and kubectl-dump findings differ:\nonly live:\n  %s\nonly dump:\n  %s",
			strings.Join(onlyLive, "\n  "), strings.Join(onlyDump, "\n  "))
	}
	t.Logf("%d objects, %d findings, %d list requests", len(res.Objects), len(liveFindings), res.ListRequests)
}

// TestLiveDetails shares one API server: pagination, metadata-only Secrets,
// kinds not installed, and an identity RBAC limits.
func TestLiveDetails(t *testing.T) {
	env := live(t)
	full := read(t, env.Kubeconfig, kube.Options{Cluster: "east"})

	t.Run("pagination", func(t *testing.T) {
		paged := read(t, env.Kubeconfig, kube.Options{Cluster: "east", PageSize: 2})
		if paged.ListRequests <= full.ListRequests {
			t.Errorf("page size 2 made %d list requests, no more than the default's %d", paged.ListRequests, full.ListRequests)
		}
		if a, b := refs(paged.Objects), refs(full.Objects); !slices.Equal(a, b) {
			t.Errorf("paged read differs:\n%v\nwant\n%v", a, b)
		}
	})

	t.Run("secrets are metadata only", func(t *testing.T) {
		var found bool
		for _, o := range full.Objects {
			if o.GroupKind != mesh.Secret {
				continue
			}
			info, ok := o.Obj.(*mesh.SecretInfo)
			if !ok || !info.MetadataOnly || len(info.Keys) > 0 || info.Type != "" || info.Cert != nil {
				t.Errorf("secret %s: %+v, want metadata only", o.Ref(), o.Obj)
			}
			if o.Meta.Namespace == "edge" && o.Meta.Name == "api-token" {
				found = true
				if o.Labels()["team"] != "edge" {
					t.Errorf("secret metadata lost its labels: %v", o.Labels())
				}
				for k, v := range o.Annotations() {
					if strings.Contains(v, "do-not-read-me") {
						t.Errorf("secret data reached meshpilot through annotation %s", k)
					}
				}
			}
		}
		if !found {
			t.Error("secret edge/api-token not read")
		}
	})

	t.Run("kinds not installed are skipped quietly", func(t *testing.T) {
		// The Inference Extension CRDs are not installed here.
		var inference []string
		for _, s := range full.Skipped {
			if s.Reason == kube.NotInstalled && strings.Contains(s.Resource, "inference") {
				inference = append(inference, s.Resource)
			}
		}
		if len(inference) == 0 {
			t.Errorf("no Inference Extension kind reported as not installed: %+v", full.Skipped)
		}
		if len(full.Lost()) != 0 {
			t.Errorf("admin lost kinds: %+v", full.Lost())
		}
		if !full.IstioCRDs {
			t.Error("Istio CRDs not detected")
		}
		// A CRD removed: its kind goes quiet, the rest is read.
		out, errOut, err := env.Kubectl("delete", "crd", "tcproutes.gateway.networking.k8s.io", "--wait=true")
		if err != nil {
			t.Fatalf("kubectl delete crd: %v\n%s%s", err, out, errOut)
		}
		t.Cleanup(func() { // the environment may be shared (testenv.ReuseEnv)
			crd := filepath.Join(env.Root, "crd", "data", "gateway.networking.k8s.io_tcproutes.yaml")
			if out, errOut, err := env.Kubectl("apply", "--server-side", "-f", crd); err != nil {
				t.Errorf("restore the TCPRoute CRD: %v\n%s%s", err, out, errOut)
			}
		})
		deadline := time.Now().Add(30 * time.Second)
		for {
			res := read(t, env.Kubeconfig, kube.Options{Cluster: "east"})
			if skippedAs(res, "tcproutes.gateway.networking.k8s.io") == kube.NotInstalled {
				// Every object but the CRD itself is still read.
				if len(res.Lost()) != 0 || len(res.Objects) != len(full.Objects)-1 {
					t.Errorf("after deleting the TCPRoute CRD: lost %+v, %d objects (want %d)", res.Lost(), len(res.Objects), len(full.Objects)-1)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("TCPRoute still served 30s after its CRD was deleted")
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	t.Run("rbac-limited identity", func(t *testing.T) {
		res := read(t, env.LimitedKubeconfig, kube.Options{Cluster: "east"})
		if skippedAs(res, "secrets") != kube.Forbidden {
			t.Fatalf("secrets not reported forbidden: %+v", res.Skipped)
		}
		for _, o := range res.Objects {
			if o.GroupKind == mesh.Secret {
				t.Errorf("limited identity read secret %s", o.Ref())
			}
		}
		// Which checks lost precision: the analyzers that read Secrets.
		sel, err := analysis.Select(analyzers.All(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var lost []string
		_, err = analysis.Run(context.Background(), res.Snapshot(mesh.Options{}), sel, analysis.Options{
			Reads: func(a *analysis.Analyzer, kinds []mesh.GroupKind) {
				if slices.Contains(kinds, mesh.Secret) {
					lost = append(lost, a.Name)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(lost, func(n string) bool { return strings.HasPrefix(n, "gateway.") }) {
			t.Errorf("the gateway analyzer (credentialName → Secret) is not among those that read Secrets: %v", lost)
		}
	})
}

func skippedAs(res *kube.Result, resource string) kube.Reason {
	for _, s := range res.Skipped {
		if s.Resource == resource {
			return s.Reason
		}
	}
	return ""
}

func refs(objs []*mesh.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GroupKind.String() + " " + o.Ref().String()
	}
	return out
}
