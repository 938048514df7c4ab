package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshpilot/meshpilot/internal/testenv"
	"github.com/meshpilot/meshpilot/report"
	"github.com/meshpilot/meshpilot/source/rancher/ranchertest"
)

const rancherToken = "token-abcde:s3cr3tv4lue"

// twoClusters starts two real API servers holding the demo mesh, each
// namespace annotated with its Rancher project as Rancher does, and a fake
// Rancher in front of them. onRequest, when set, sees every request.
func twoClusters(t *testing.T, onRequest func(*ranchertest.Server, *http.Request)) (srv *ranchertest.Server, caFile string) {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED in -short: starts two real kube-apiservers")
	}
	east, west := testenv.Start(t), testenv.Start(t)
	for _, c := range []struct {
		env         *testenv.Env
		id          string
		annotations map[string]string
	}{
		{east, "c-east1", map[string]string{"shop": "c-east1:p-shop", "payments": "c-east1:p-pay"}},
		{west, "c-west1", map[string]string{"shop": "c-west1:p-shop"}},
	} {
		if out, errOut, err := c.env.Kubectl("apply", "--server-side", "--field-manager=meshpilot-test", "-f", filepath.Join(c.env.Root, "demo", "mesh")); err != nil {
			t.Fatalf("apply demo: %v\n%s%s", err, out, errOut)
		}
		for ns, project := range c.annotations {
			if out, errOut, err := c.env.Kubectl("annotate", "namespace", ns, "field.cattle.io/projectId="+project); err != nil {
				t.Fatalf("annotate: %v\n%s%s", err, out, errOut)
			}
		}
		if err := c.env.BindUser("u-abcde", "cluster-admin"); err != nil {
			t.Fatal(err)
		}
	}
	// The west cluster serves reviews on another port: IST0170 across them.
	if out, errOut, err := west.Kubectl("patch", "service", "reviews", "-n", "shop", "--type=json",
		"-p", `[{"op":"replace","path":"/spec/ports/0/port","value":9081}]`); err != nil {
		t.Fatalf("patch: %v\n%s%s", err, out, errOut)
	}
	ce, err := ranchertest.ClusterFromKubeconfig("c-east1", "east", east.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cw, err := ranchertest.ClusterFromKubeconfig("c-west1", "west", west.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	opts := ranchertest.Options{
		TLS:      true,
		Clusters: []ranchertest.Cluster{ce, cw},
		Projects: []ranchertest.Project{
			{ID: "c-east1:p-shop", Name: "Shop", ClusterID: "c-east1"},
			{ID: "c-east1:p-pay", Name: "Payments", ClusterID: "c-east1"},
			{ID: "c-west1:p-shop", Name: "Storefront", ClusterID: "c-west1"},
		},
		Tokens: []ranchertest.Token{{Value: rancherToken, User: "u-abcde"}},
	}
	if onRequest != nil {
		opts.OnRequest = func(r *http.Request) { onRequest(srv, r) }
	}
	srv = ranchertest.NewServer(opts)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "rancher-ca.pem")
	if err := os.WriteFile(caFile, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(rancherTokenEnv, rancherToken)
	return srv, caFile
}

type jsonReport struct {
	Findings []struct {
		Code, Resource, Cluster, Project, Namespace, File string
	} `json:"findings"`
	ClusterErrors []report.ClusterError `json:"clusterErrors"`
	Summary       struct{ Clusters, Objects int }
}

// TestRancherTwoClusters reads two real clusters through Rancher's proxy:
// findings of both, each with its project, the cross-cluster check over
// both; then one cluster goes unreachable after the clusters were listed,
// and the other is still analyzed.
func TestRancherTwoClusters(t *testing.T) {
	var breakWest atomic.Bool
	srv, ca := twoClusters(t, func(s *ranchertest.Server, r *http.Request) {
		// After listing clusters the CLI lists projects: cut west there.
		if breakWest.Load() && r.URL.Path == "/v3/projects" {
			s.SetUnreachable("c-west1", true)
		}
	})
	args := []string{"analyze", "--rancher-url", srv.URL, "--rancher-ca-file", ca, "--fail-on", "none"}

	code, out, errOut := runCLI(t, "", append(args, "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, "s3cr3tv4lue") {
		t.Error("the Rancher token's secret reached the output")
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Summary.Clusters != 2 {
		t.Errorf("summary counts %d clusters, want 2", rep.Summary.Clusters)
	}
	byCluster := map[string]int{}
	projects := map[string]bool{}
	var crossCluster bool
	for _, f := range rep.Findings {
		byCluster[f.Cluster]++
		if f.File != "" {
			t.Errorf("live finding %s %s names file %q", f.Code, f.Resource, f.File)
		}
		if f.Project != "" {
			projects[f.Cluster+"/"+f.Project+"/"+f.Namespace] = true
		}
		if f.Code == "IST0170" && f.Resource == "Service shop/reviews" {
			crossCluster = true
		}
	}
	if byCluster["east"] == 0 || byCluster["west"] == 0 {
		t.Errorf("findings by cluster %v, want both east and west", byCluster)
	}
	for _, want := range []string{"east/Shop/shop", "east/Payments/payments", "west/Storefront/shop"} {
		if !projects[want] {
			t.Errorf("no finding in cluster/project/namespace %s (have %v)", want, projects)
		}
	}
	if !crossCluster {
		t.Error("no IST0170 on Service shop/reviews, whose port differs between east and west")
	}

	// Text groups by cluster, then project, then namespace.
	_, text, _ := runCLI(t, "", args...)
	for _, want := range []string{"cluster east:\n  project Payments:\n    namespace payments:", "cluster west:\n  project Storefront:\n    namespace shop:"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}

	// One project: the Payments namespace of east only.
	_, out, errOut = runCLI(t, "", append(args, "-o", "json", "--project", "c-east1:p-pay")...)
	rep = jsonReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s%s", err, out, errOut)
	}
	if len(rep.Findings) == 0 {
		t.Error("--project c-east1:p-pay: no findings")
	}
	for _, f := range rep.Findings {
		if f.Cluster != "east" || f.Project != "Payments" {
			t.Errorf("--project c-east1:p-pay reported %s %s in %s/%s", f.Code, f.Resource, f.Cluster, f.Project)
		}
	}

	// West goes unreachable mid-run: reported, east still analyzed, exit 2.
	breakWest.Store(true)
	code, out, errOut = runCLI(t, "", append(args, "-o", "json")...)
	if code != exitInput {
		t.Errorf("exit %d with a cluster unreachable, want %d\n%s", code, exitInput, errOut)
	}
	rep = jsonReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(rep.ClusterErrors) != 1 || rep.ClusterErrors[0].Cluster != "west" || !strings.Contains(rep.ClusterErrors[0].Message, "cluster agent disconnected") {
		t.Errorf("cluster errors %+v, want west's 'cluster agent disconnected'", rep.ClusterErrors)
	}
	byCluster = map[string]int{}
	for _, f := range rep.Findings {
		byCluster[f.Cluster]++
	}
	if byCluster["east"] == 0 || byCluster["west"] != 0 {
		t.Errorf("findings by cluster %v with west unreachable, want east's only", byCluster)
	}
	if !strings.Contains(errOut, "west") || !strings.Contains(errOut, "the other clusters are still analyzed") {
		t.Errorf("stderr does not report west:\n%s", errOut)
	}
}
