package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/promenv"
	"github.com/meshpilot/meshpilot/internal/testenv"
	"github.com/meshpilot/meshpilot/source/rancher/ranchertest"
	synth "github.com/meshpilot/meshpilot/synth/traffic"
)

// TestRancherMonitoring reads a cluster's traffic from rancher-monitoring's
// Prometheus through Rancher's service proxy (--rancher-monitoring): a
// real API server holding the synthetic mesh authorizes the proxy, a real
// Prometheus serves the mesh's series. An identity allowed to use the
// proxy gets exactly the planted traffic findings; one with testenv's limited
// read-only role, which has no services/proxy, gets the configuration findings and
// a warning naming the permission it lacks.
func TestRancherMonitoring(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: starts a real kube-apiserver and Prometheus")
	}
	m, err := synth.Generate(synth.Options{Services: 30, Seed: 3, End: time.Now().Truncate(time.Minute), Window: time.Hour, Scrape: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var om bytes.Buffer
	if err := m.WriteOpenMetrics(&om); err != nil {
		t.Fatal(err)
	}
	prom := promenv.Start(t, &om, promenv.Options{})

	env := testenv.Start(t)
	manifest := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := os.WriteFile(manifest, m.YAML, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := env.Kubectl("apply", "--server-side", "--field-manager=meshpilot-test", "-f", manifest); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := env.Kubectl("annotate", "namespace", "team-000", "field.cattle.io/projectId=c-one:p-team"); err != nil {
		t.Fatalf("annotate: %v\n%s%s", err, out, errOut)
	}
	if err := env.BindUser("u-admin", "cluster-admin"); err != nil {
		t.Fatal(err)
	}
	if err := env.BindUser("u-viewer", "meshpilot-testenv-limited"); err != nil {
		t.Fatal(err)
	}
	c, err := ranchertest.ClusterFromKubeconfig("c-one", "one", env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	srv := ranchertest.NewServer(ranchertest.Options{
		Clusters: []ranchertest.Cluster{c},
		Projects: []ranchertest.Project{{ID: "c-one:p-team", Name: "Team Zero", ClusterID: "c-one"}},
		Tokens: []ranchertest.Token{
			{Value: "token-admin:s3cr3t", User: "u-admin"},
			{Value: "token-viewer:s3cr3t", User: "u-viewer"},
		},
		Services: map[string]string{"c-one/cattle-monitoring-system/http:rancher-monitoring-prometheus:9090": prom.URL},
	})
	t.Cleanup(srv.Close)
	args := []string{"analyze", "--rancher-url", srv.URL, "--rancher-monitoring", "--window", "1h", "--resolution", "5m", "--fail-on", "none", "-o", "json"}

	t.Setenv(rancherTokenEnv, "token-admin:s3cr3t")
	code, out, errOut := runCLI(t, "", args...)
	if code != exitOK {
		t.Fatalf("admin: exit %d\n%s", code, errOut)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var got []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Code, "MP60") {
			got = append(got, f.Code+" "+f.Resource)
			if f.Cluster != "one" {
				t.Errorf("%s %s: cluster %q, want one", f.Code, f.Resource, f.Cluster)
			}
		}
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(m.Truth, "\n") {
		t.Errorf("traffic findings through Rancher differ from the planted defects\n got: %v\nwant: %v\nstderr: %s", got, m.Truth, errOut)
	}

	// meshpilot traffic through the same proxy: services grouped by the
	// Rancher project of their namespace.
	code, out, errOut = runCLI(t, "", "traffic", "--rancher-url", srv.URL, "--cluster", "c-one", "--rancher-monitoring", "--window", "1h", "-o", "json")
	if code != exitOK {
		t.Fatalf("traffic: exit %d\n%s", code, errOut)
	}
	var graph struct {
		Services []struct{ Cluster, Project, Namespace, Name string } `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &graph); err != nil {
		t.Fatalf("traffic json: %v", err)
	}
	inProject := 0
	for _, sv := range graph.Services {
		if sv.Namespace == "team-000" {
			if sv.Project != "Team Zero" || sv.Cluster != "one" {
				t.Errorf("traffic: %s/%s in project %q of cluster %q, want Team Zero of one", sv.Namespace, sv.Name, sv.Project, sv.Cluster)
			}
			inProject++
		}
	}
	if inProject == 0 {
		t.Errorf("traffic: no service of team-000 in %d services", len(graph.Services))
	}
	testTrafficClusters(t, env.Kubeconfig, prom.URL, len(graph.Services))

	t.Setenv(rancherTokenEnv, "token-viewer:s3cr3t")
	code, out, errOut = runCLI(t, "", args...)
	if code != exitOK {
		t.Fatalf("viewer: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "services/proxy") || !strings.Contains(errOut, "without the checks against traffic") {
		t.Errorf("viewer: no warning naming services/proxy:\n%s", errOut)
	}
	if strings.Contains(out, `"MP60`) || !strings.Contains(out, `"code"`) {
		t.Errorf("viewer: want configuration findings only:\n%.2000s", out)
	}
	if strings.Contains(out+errOut, "s3cr3t") {
		t.Error("a token's secret reached the output")
	}
}

// testTrafficClusters: meshpilot traffic across two Rancher clusters (one
// API server and one Prometheus behind both, which Rancher cannot tell
// apart) shows each cluster's services side by side, each from its own
// rancher-monitoring; --project narrows it to the project's namespaces;
// one --prometheus-url cannot stand for two clusters.
func testTrafficClusters(t *testing.T, kubeconfig, promURL string, perCluster int) {
	var clusters []ranchertest.Cluster
	for _, id := range []string{"c-one", "c-two"} {
		c, err := ranchertest.ClusterFromKubeconfig(id, strings.TrimPrefix(id, "c-"), kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, c)
	}
	srv := ranchertest.NewServer(ranchertest.Options{
		Clusters: clusters,
		Projects: []ranchertest.Project{{ID: "c-one:p-team", Name: "Team Zero", ClusterID: "c-one"}},
		Tokens:   []ranchertest.Token{{Value: "token-admin:s3cr3t", User: "u-admin"}},
		Services: map[string]string{
			"c-one/cattle-monitoring-system/http:rancher-monitoring-prometheus:9090": promURL,
			"c-two/cattle-monitoring-system/http:rancher-monitoring-prometheus:9090": promURL,
		},
	})
	defer srv.Close()
	t.Setenv(rancherTokenEnv, "token-admin:s3cr3t")
	traffic := func(args ...string) (map[string]int, map[string]string) {
		t.Helper()
		code, out, errOut := runCLI(t, "", append([]string{"traffic", "--rancher-url", srv.URL, "--rancher-monitoring", "--window", "1h", "-o", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("traffic %v: exit %d\n%s", args, code, errOut)
		}
		var graph struct {
			Source   string                                               `json:"source"`
			Services []struct{ Cluster, Project, Namespace, Name string } `json:"services"`
		}
		if err := json.Unmarshal([]byte(out), &graph); err != nil {
			t.Fatalf("traffic json: %v", err)
		}
		perCl, projects := map[string]int{}, map[string]string{}
		for _, sv := range graph.Services {
			perCl[sv.Cluster]++
			projects[sv.Cluster+"/"+sv.Namespace] = sv.Project
		}
		return perCl, projects
	}

	perCl, projects := traffic()
	if perCl["one"] != perCluster || perCl["two"] != perCluster || len(perCl) != 2 {
		t.Errorf("services per cluster %v, want %d in each of one and two", perCl, perCluster)
	}
	if projects["one/team-000"] != "Team Zero" || projects["two/team-000"] != "" {
		t.Errorf("projects %v: team-000 is in Team Zero of cluster one only", projects)
	}

	perCl, projects = traffic("--project", "Team Zero")
	if len(perCl) != 1 || perCl["one"] == 0 || perCl["one"] >= perCluster {
		t.Errorf("--project: services per cluster %v, want some of one's only", perCl)
	}
	for ns, p := range projects {
		if p != "Team Zero" {
			t.Errorf("--project: %s in project %q", ns, p)
		}
	}

	code, _, errOut := runCLI(t, "", "traffic", "--rancher-url", srv.URL, "--rancher-monitoring", "--cluster", "two", "--project", "Team Zero")
	if code != exitInput || !strings.Contains(errOut, "--project Team Zero is in cluster c-one, which --cluster leaves out") {
		t.Errorf("--project outside --cluster: exit %d\n%s", code, errOut)
	}

	code, _, errOut = runCLI(t, "", "traffic", "--rancher-url", srv.URL, "--prometheus-url", promURL, "-o", "json")
	if code != exitInput || !strings.Contains(errOut, "give exactly one --cluster") {
		t.Errorf("--prometheus-url with two clusters: exit %d\n%s", code, errOut)
	}

	// A cluster Rancher cannot reach: the other is shown, and the exit
	// code says not all were.
	srv.SetUnreachable("c-two", true)
	code, out, errOut := runCLI(t, "", "traffic", "--rancher-url", srv.URL, "--rancher-monitoring", "--window", "1h", "-o", "json")
	if code != exitInput || !strings.Contains(errOut, "1 of 2 clusters could not be read") || !strings.Contains(out, `"cluster": "one"`) || strings.Contains(out, `"cluster": "two"`) {
		t.Errorf("with c-two unreachable: exit %d, want %d with cluster one shown\nstderr: %s\nstdout: %.600s", code, exitInput, errOut, out)
	}
}
