package overhead

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

func load(t *testing.T, name string) *mesh.Snapshot {
	t.Helper()
	res, err := files.Load(context.Background(), []string{filepath.Join("testdata", name)}, files.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Fatalf("input error: %s", p.Error())
	}
	return res.Snapshot(mesh.Options{})
}

// row is what a test checks of one namespace.
type row struct {
	ns                     string
	workloads, pods        int
	with, without, ambient int
	cpu, mem               string
	cpuSources, memSources map[Source]int
	candidate              string
	blockers               []string
	missing                []string // "Kind/name: reason"
}

func project(n Namespace) row {
	r := row{ns: n.Name, workloads: n.Workloads, pods: n.Pods, with: n.WithProxy, without: n.WithoutProxy,
		ambient: n.Ambient, cpu: n.ProxyCPU.Quantity, mem: n.ProxyMemory.Quantity,
		cpuSources: n.ProxyCPU.Sources, memSources: n.ProxyMemory.Sources,
		candidate: n.AmbientCandidate, blockers: n.AmbientBlockers}
	for _, m := range n.MissingProxy {
		r.missing = append(r.missing, m.Kind+"/"+m.Name+": "+m.Reason)
	}
	return r
}

func TestCompute(t *testing.T) {
	tests := []struct {
		file string
		want []row
	}{
		{"sources.yaml", []row{{
			ns: "app", workloads: 6, pods: 9, with: 6, without: 3,
			cpu: "410m", mem: "1512Mi",
			cpuSources: map[Source]int{SourceInjector: 4, SourceAnnotation: 1, SourceContainer: 1},
			memSources: map[Source]int{SourceInjector: 3, SourceAnnotation: 2, SourceContainer: 1},
			candidate:  CandidateYes,
			missing: []string{
				"Pod/uninjected: no istio-proxy container: the pod was created before injection was enabled or bypassed the injector; restart it",
				"Deployment/opted-out: opts out with label sidecar.istio.io/inject=false",
			},
		}}},
		{"modes.yaml", []row{
			{ns: "amb", workloads: 2, pods: 5, without: 1, ambient: 4, cpu: "0", mem: "0", candidate: CandidateYes},
			{ns: "plain", workloads: 1, pods: 2, without: 2, cpu: "0", mem: "0", candidate: CandidateYes},
			{ns: "rev", workloads: 2, pods: 5, with: 5, cpu: "500m", mem: "640Mi",
				cpuSources: map[Source]int{SourceDefault: 5}, memSources: map[Source]int{SourceDefault: 5}, candidate: CandidateYes},
		}},
		{"optin.yaml", []row{
			{ns: "plain", workloads: 2, pods: 3, with: 2, without: 1, cpu: "200m", mem: "256Mi",
				cpuSources: map[Source]int{SourceDefault: 2}, memSources: map[Source]int{SourceDefault: 2}, candidate: CandidateYes},
		}},
		{"ambient.yaml", []row{
			{ns: "a", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateNo,
				blockers: []string{"VirtualService client/faulty: HTTP routes with fault injection for host svc-a.a.svc.cluster.local"}},
			{ns: "b", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateYes},
			{ns: "c", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateNo,
				blockers: []string{"AuthorizationPolicy c/paths uses L7 attributes (paths, when request.headers[x-tenant])"}},
			{ns: "client", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateYes},
			{ns: "d", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateNo,
				blockers: []string{"RequestAuthentication d/jwt validates JWTs"}},
			{ns: "e", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateNo,
				blockers: []string{"EnvoyFilter e/lua patches the proxy", "WasmPlugin e/auth extends the proxy"}},
			{ns: "f", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateNo,
				blockers: []string{"Telemetry f/logs configures access logging"}},
		}},
		{"root.yaml", []row{
			{ns: "x", workloads: 1, pods: 1, without: 1, cpu: "0", mem: "0", candidate: CandidateNo,
				blockers: []string{"Telemetry istio-system/mesh-default configures tracing (root namespace: applies mesh-wide)"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep := Compute(load(t, tt.file))
			var got []row
			for _, n := range rep.Namespaces {
				got = append(got, project(n))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d namespaces, want %d:\n%+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("namespace %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
			// Totals add up the namespaces.
			var pods, with, without, amb int
			var cpu, mem int64
			for _, n := range rep.Namespaces {
				pods += n.Pods
				with += n.WithProxy
				without += n.WithoutProxy
				amb += n.Ambient
				cpu += n.ProxyCPU.Value
				mem += n.ProxyMemory.Value
				if n.WithProxy+n.WithoutProxy+n.Ambient != n.Pods {
					t.Errorf("%s: %d+%d+%d pods != %d", n.Name, n.WithProxy, n.WithoutProxy, n.Ambient, n.Pods)
				}
			}
			tot := rep.Total
			if tot.Pods != pods || tot.WithProxy != with || tot.WithoutProxy != without || tot.Ambient != amb ||
				tot.ProxyCPU.Value != cpu || tot.ProxyMemory.Value != mem {
				t.Errorf("totals %+v do not add up", tot)
			}
		})
	}
}

func TestInjectorReported(t *testing.T) {
	rep := Compute(load(t, "sources.yaml"))
	if rep.Injector != "istio-system/istio-sidecar-injector" || rep.InjectorCPU != "50m" || rep.InjectorMemory != "64Mi" {
		t.Errorf("injector = %q %q %q", rep.Injector, rep.InjectorCPU, rep.InjectorMemory)
	}
}
