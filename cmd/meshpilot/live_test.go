package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/internal/testenv"
)

// TestAnalyzeLive runs analyze against a real API server through a
// kubeconfig: as admin, the demo's findings come from the cluster; as the
// RBAC-limited identity, one warning names what it could not read and the
// checks that lost precision, and the rest is still analyzed.
func TestAnalyzeLive(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: starts a real kube-apiserver")
	}
	env := testenv.Start(t)
	if out, errOut, err := env.Kubectl("apply", "--server-side", "--field-manager=meshpilot-test", "-f", filepath.Join(env.Root, "demo", "mesh")); err != nil {
		t.Fatalf("apply demo: %v\n%s%s", err, out, errOut)
	}

	code, out, errOut := runCLI(t, "", "analyze", "--kubeconfig", env.Kubeconfig, "--cluster-name", "east", "-o", "json")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (the demo has errors)\n%s", code, exitFindings, errOut)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Summary.Clusters != 1 || len(rep.Findings) == 0 {
		t.Errorf("summary %+v with %d findings, want 1 cluster and the demo's findings", rep.Summary, len(rep.Findings))
	}
	for _, f := range rep.Findings {
		if f.Cluster != "east" || f.File != "" {
			t.Errorf("finding %s %s: cluster %q file %q, want cluster east and no file", f.Code, f.Resource, f.Cluster, f.File)
		}
	}
	if strings.Contains(errOut, "warning:") {
		t.Errorf("admin read everything, yet:\n%s", errOut)
	}

	code, out, errOut = runCLI(t, "", "analyze", "--kubeconfig", env.LimitedKubeconfig, "-n", "shop")
	if code != exitFindings {
		t.Fatalf("limited identity: exit %d, want %d\n%s", code, exitFindings, errOut)
	}
	if n := strings.Count(errOut, "warning:"); n != 1 {
		t.Errorf("%d warnings, want exactly one:\n%s", n, errOut)
	}
	for _, want := range []string{"secrets in shop (forbidden)", "Checks that lost precision:", "gateway.Secret (IST0101, IST0161)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("warning lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "namespace shop:") || strings.Contains(out, "namespace payments:") {
		t.Errorf("-n shop: want findings of shop only:\n%s", out)
	}
}
