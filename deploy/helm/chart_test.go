// Package helm_test checks the meshpilot Helm chart (deploy/helm/meshpilot):
// it renders the chart with a helm built from the Go module proxy
// (hack/helm), checks its RBAC against the kinds meshpilot models, runs
// meshpilot's own analysis over the output, and applies it with
// `kubectl apply --dry-run=server` to a real API server (internal/testenv).
package helm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/internal/testenv"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

const (
	release   = "meshpilot"
	namespace = "meshpilot"
)

// scenario is one set of values the chart is rendered with.
type scenario struct {
	name    string
	args    []string // helm template flags
	secrets bool     // rbac.secrets
	istio   bool     // istio.enabled
	writeNS []string // rbac.write.namespaces when enabled
}

var scenarios = []scenario{
	{name: "defaults", secrets: true, istio: true},
	{
		name: "write-roles+no-secrets+no-istio",
		args: []string{"--set", "rbac.write.enabled=true", "--set", "rbac.write.namespaces={shop,payments}",
			"--set", "rbac.secrets=false", "--set", "istio.enabled=false"},
		writeNS: []string{"payments", "shop"},
	},
	{
		name: "one-namespace+policy+allowed-principal",
		args: []string{"--set", "watch.namespace=shop", "--set", "policy.enabled=true",
			"--set-file", "policy.content=../../examples/guardrails.yaml",
			"--set", "istio.allowPrincipals={cluster.local/ns/monitoring/sa/prometheus}",
			"--set", "extraArgs={--skip,MP1002}"},
		secrets: true, istio: true,
	},
}

// TestChartRBAC: the ClusterRole grants exactly get/list/watch on exactly the
// resources of mesh.Kinds() (Secrets only with rbac.secrets), and the write
// Roles exist only when enabled, in the listed namespaces, on the Istio kinds
// meshpilot proposes fixes to.
func TestChartRBAC(t *testing.T) {
	helm := helmBinary(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			objs := parse(t, render(t, helm, sc))

			want := map[string]bool{}
			for _, k := range mesh.Kinds() {
				if k.GroupKind == mesh.Secret && !sc.secrets {
					continue
				}
				want[groupResource(k.Group, k.Resource)] = true
			}
			roles := ofKind[rbacv1.ClusterRole](t, objs, "ClusterRole")
			if len(roles) != 1 {
				t.Fatalf("want one ClusterRole, got %d", len(roles))
			}
			got := grants(t, "ClusterRole "+roles[0].Name, roles[0].Rules, []string{"get", "list", "watch"})
			for gr := range want {
				if !got[gr] {
					t.Errorf("ClusterRole does not grant %s, which mesh.Kinds() lists: add it to templates/clusterrole.yaml", gr)
				}
			}
			for gr := range got {
				if !want[gr] {
					t.Errorf("ClusterRole grants %s, which meshpilot does not read (not in mesh.Kinds()%s)", gr,
						map[bool]string{true: "", false: ", or rbac.secrets=false"}[sc.secrets])
				}
			}
			t.Logf("ClusterRole: get/list/watch on %d resources", len(got))

			bindings := ofKind[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding")
			if len(bindings) != 1 || bindings[0].RoleRef.Name != roles[0].Name || !bindsServiceAccount(bindings[0].Subjects) {
				t.Errorf("want one ClusterRoleBinding of ClusterRole %s to ServiceAccount %s/%s, got %+v",
					roles[0].Name, namespace, release, bindings)
			}

			writeRoles(t, sc, objs)
		})
	}
}

// writeRoles checks the optional per-namespace Roles and RoleBindings.
func writeRoles(t *testing.T, sc scenario, objs []object) {
	t.Helper()
	want := map[string]bool{}
	for _, r := range []string{"virtualservices", "destinationrules", "sidecars", "serviceentries"} {
		want[groupResource(mesh.GroupNetworking, r)] = true
	}
	for _, r := range []string{"authorizationpolicies", "peerauthentications"} {
		want[groupResource(mesh.GroupSecurity, r)] = true
	}
	var roleNS, bindingNS []string
	for _, role := range ofKind[rbacv1.Role](t, objs, "Role") {
		roleNS = append(roleNS, role.Namespace)
		got := grants(t, "Role "+role.Namespace+"/"+role.Name, role.Rules, []string{"get", "list", "watch", "patch", "update"})
		if !equalSets(got, want) {
			t.Errorf("Role %s/%s grants %v, want exactly %v", role.Namespace, role.Name, keys(got), keys(want))
		}
	}
	for _, b := range ofKind[rbacv1.RoleBinding](t, objs, "RoleBinding") {
		bindingNS = append(bindingNS, b.Namespace)
		if b.RoleRef.Kind != "Role" || !bindsServiceAccount(b.Subjects) {
			t.Errorf("RoleBinding %s/%s: want a Role bound to ServiceAccount %s/%s, got %+v", b.Namespace, b.Name, namespace, release, b)
		}
	}
	slices.Sort(roleNS)
	slices.Sort(bindingNS)
	if !slices.Equal(roleNS, sc.writeNS) || !slices.Equal(bindingNS, sc.writeNS) {
		t.Errorf("write Roles in %v and RoleBindings in %v, want both exactly in %v", roleNS, bindingNS, sc.writeNS)
	}
}

// grants flattens rules to group/resource, failing on wildcards, resource
// names, non-resource URLs and any verb set other than verbs.
func grants(t *testing.T, what string, rules []rbacv1.PolicyRule, verbs []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for i, r := range rules {
		v := slices.Sorted(slices.Values(r.Verbs))
		if !slices.Equal(v, slices.Sorted(slices.Values(verbs))) {
			t.Errorf("%s rule %d: verbs %v, want exactly %v", what, i, r.Verbs, verbs)
		}
		if len(r.NonResourceURLs) > 0 || len(r.ResourceNames) > 0 {
			t.Errorf("%s rule %d: unexpected nonResourceURLs or resourceNames: %+v", what, i, r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if g == "*" || strings.Contains(res, "*") {
					t.Errorf("%s rule %d: wildcard in %q/%q", what, i, g, res)
				}
				gr := groupResource(g, res)
				if out[gr] {
					t.Errorf("%s grants %s twice", what, gr)
				}
				out[gr] = true
			}
		}
	}
	return out
}

// TestChartSecurity: the pod runs as a fixed non-root user with a read-only
// root file system, no privilege escalation, no capabilities and the
// RuntimeDefault seccomp profile, mounts its token, and probes the health port.
func TestChartSecurity(t *testing.T) {
	helm := helmBinary(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			objs := parse(t, render(t, helm, sc))
			deps := ofKind[appsv1.Deployment](t, objs, "Deployment")
			if len(deps) != 1 {
				t.Fatalf("want one Deployment, got %d", len(deps))
			}
			pod := deps[0].Spec.Template.Spec
			if pod.ServiceAccountName != release || pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken {
				t.Errorf("pod: serviceAccountName %q, automountServiceAccountToken %v; want %q and true",
					pod.ServiceAccountName, pod.AutomountServiceAccountToken, release)
			}
			psc := pod.SecurityContext
			if psc == nil || !isTrue(psc.RunAsNonRoot) || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
				psc.RunAsGroup == nil || *psc.RunAsGroup == 0 ||
				psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod securityContext %+v: want runAsNonRoot, a fixed non-zero UID and GID, seccomp RuntimeDefault", psc)
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			sc2 := c.SecurityContext
			if sc2 == nil || !isTrue(sc2.ReadOnlyRootFilesystem) || sc2.AllowPrivilegeEscalation == nil ||
				*sc2.AllowPrivilegeEscalation || sc2.Capabilities == nil || !slices.Equal(sc2.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
				len(sc2.Capabilities.Add) > 0 || isTrue(sc2.Privileged) {
				t.Errorf("container securityContext %+v: want readOnlyRootFilesystem, no privilege escalation, drop ALL", sc2)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() ||
				c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("container resources %+v: want cpu and memory requests and limits", c.Resources)
			}
			if !mountsEmptyDir(pod, c, "/tmp") {
				t.Errorf("container does not mount an emptyDir on /tmp")
			}
			for name, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || p.HTTPGet.Port.String() != "health" {
					t.Errorf("probe on %s: got %+v, want an HTTP GET on the health port", name, p)
				}
			}
			if len(c.Args) == 0 || c.Args[0] != "watch" || !slices.Contains(c.Args, "--health-addr") {
				t.Errorf("args %q: want watch ... --health-addr", c.Args)
			}
			if got := slices.Contains(c.Args, "--policy"); got != slices.Contains(sc.args, "policy.enabled=true") {
				t.Errorf("args %q: --policy present = %v, want it with policy.enabled", c.Args, got)
			}
			if n := len(ofKind[corev1.Service](t, objs, "Service")); n != 0 {
				t.Errorf("the chart renders %d Services; nothing calls meshpilot, so it needs none", n)
			}
			var istioObjs int
			for _, o := range objs {
				if strings.HasSuffix(o.APIVersion, ".istio.io/v1") {
					istioObjs++
				}
			}
			if want := map[bool]int{true: 2, false: 0}[sc.istio]; istioObjs != want {
				t.Errorf("%d Istio objects rendered, want %d (istio.enabled=%v)", istioObjs, want, sc.istio)
			}
		})
	}
}

// TestChartAnalysis runs meshpilot's own analysis over the rendered chart,
// as `helm template ... | meshpilot analyze -` does: no input error and no
// Error finding; Warnings and Info are logged.
func TestChartAnalysis(t *testing.T) {
	helm := helmBinary(t)
	schemas, err := crd.Load()
	if err != nil {
		t.Fatalf("crd.Load: %v", err)
	}
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		t.Fatalf("analysis.Select: %v", err)
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			out := render(t, helm, sc)
			ctx := context.Background()
			res, err := files.LoadBytes(ctx, []files.Named{{Name: "helm-template-" + sc.name + ".yaml", Data: out}},
				files.Options{Schemas: schemas})
			if err != nil {
				t.Fatalf("files.LoadBytes: %v", err)
			}
			for _, p := range res.Problems {
				t.Errorf("input error: %s", p.Error())
			}
			for _, n := range res.Notices {
				t.Logf("note: %s", n.Error())
			}
			findings, err := analysis.Run(ctx, res.Snapshot(mesh.Options{}), sel, analysis.Options{})
			if err != nil {
				t.Fatalf("analysis.Run: %v", err)
			}
			byLevel := map[analysis.Level]int{}
			for _, f := range findings {
				byLevel[f.Level]++
				line := fmt.Sprintf("%s [%s] (%s line %d) %s", f.Level, f.Code, f.Resource, f.Line, f.Message)
				if f.Level >= analysis.Error {
					t.Errorf("%s", line)
				} else {
					t.Logf("%s", line)
				}
			}
			t.Logf("%s: %d objects rendered, %d modeled by meshpilot (not modeled: %v); %d analyzers: %d errors, %d warnings, %d info",
				sc.name, len(parse(t, out)), len(res.Objects), res.Unmodeled, len(sel.Analyzers),
				byLevel[analysis.Error], byLevel[analysis.Warning], byLevel[analysis.Info])
		})
	}
}

// TestChartServerDryRun applies every rendering with `kubectl apply
// --dry-run=server` to a real kube-apiserver with the Istio CRDs, in a
// namespace that enforces the Pod Security "restricted" profile.
func TestChartServerDryRun(t *testing.T) {
	helm := helmBinary(t)
	env := testenv.Start(t)
	// Real namespaces: a dry run cannot create an object in a namespace that
	// does not exist. The release namespace warns on anything the restricted
	// profile refuses (a Deployment is only warned about, never refused).
	ns := `apiVersion: v1
kind: Namespace
metadata:
  name: ` + namespace + `
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`
	for _, n := range []string{"shop", "payments"} {
		ns += "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + n + "\n"
	}
	if out, errOut, err := env.Kubectl("apply", "-f", writeTemp(t, "namespaces.yaml", []byte(ns))); err != nil {
		t.Fatalf("kubectl apply namespaces: %v\n%s%s", err, out, errOut)
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			rendered := render(t, helm, sc)
			file := writeTemp(t, "rendered.yaml", rendered)
			out, errOut, err := env.Kubectl("apply", "--dry-run=server", "-f", file)
			if err != nil {
				t.Fatalf("kubectl apply --dry-run=server: %v\n%s%s", err, out, errOut)
			}
			if strings.Contains(errOut, "PodSecurity") || strings.Contains(errOut, "Warning") {
				t.Errorf("kubectl apply --dry-run=server warned:\n%s", errOut)
			}
			applied := strings.Count(out, "(server dry run)")
			if want := len(parse(t, rendered)); applied != want {
				t.Errorf("the API server accepted %d objects, want all %d rendered:\n%s", applied, want, out)
			}
			t.Logf("%s: the API server accepted all %d objects (dry run)", sc.name, applied)
		})
	}
}

// TestChartRejectsBadValues: the chart refuses incoherent values instead of
// rendering something that quietly does nothing.
func TestChartRejectsBadValues(t *testing.T) {
	helm := helmBinary(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"write without namespaces", []string{"--set", "rbac.write.enabled=true"}, "rbac.write.namespaces is empty"},
		{"policy without content", []string{"--set", "policy.enabled=true"}, "set policy.content"},
		{"unknown value", []string{"--set", "rbac.secret=false"}, "secret"},
		{"bad level", []string{"--set", "watch.minLevel=loud"}, "minLevel"},
		{"existing account without name", []string{"--set", "serviceAccount.create=false"}, "serviceAccount.name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runHelm(t, helm, append([]string{"template", release, chartDir(t), "--namespace", namespace}, tc.args...)...)
			if err == nil {
				t.Fatalf("helm template %v succeeded; want an error mentioning %q", tc.args, tc.want)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("helm template %v: error does not mention %q:\n%s", tc.args, tc.want, out)
			}
		})
	}
}

// TestChartLint: helm lint --strict passes with every scenario's values.
func TestChartLint(t *testing.T) {
	helm := helmBinary(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir(t), "--namespace", namespace}, sc.args...)
			if out, err := runHelm(t, helm, args...); err != nil {
				t.Errorf("helm lint --strict: %v\n%s", err, out)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// helm

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
	helmOut  string
	helmTook time.Duration
)

// helmBinary builds helm once per test binary (hack/helm path; cached in
// .cache/helm) and returns its path. When helm cannot be built the test is
// skipped, or fails under CI=true.
func helmBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED in -short: builds helm from the Go module proxy (hack/helm)")
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatalf("%v", err)
	}
	helmOnce.Do(func() {
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		if _, err := exec.LookPath("go"); err != nil {
			helmErr = fmt.Errorf("go is not on PATH: %w", err)
			return
		}
		cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "helm"), "path")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		helmErr = cmd.Run()
		helmTook = time.Since(began)
		helmOut = stderr.String()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			helmErr = fmt.Errorf("timed out after 20m: %w", helmErr)
		}
		helmPath = strings.TrimSpace(stdout.String())
	})
	if helmErr != nil {
		unavailable(t, fmt.Sprintf("hack/helm path failed after %s: %v (the Go module proxy %q may be unreachable)",
			helmTook.Round(time.Second), helmErr, goEnv("GOPROXY")), helmOut)
	}
	return helmPath
}

// unavailable skips the test because helm cannot be built, or fails it under
// CI=true, as internal/testenv does for the API server.
func unavailable(t *testing.T, why, output string) {
	t.Helper()
	msg := "\n" + strings.Repeat("!", 78) + "\n" + "helm: NO HELM BINARY: " + why + "\n"
	if output != "" {
		msg += lastLines(output, 25) + "\n"
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%sCI=true: failing instead of skipping\n%s", msg, strings.Repeat("!", 78))
	}
	t.Skipf("%sSKIPPED (set CI=true to make this a failure)\n%s", msg, strings.Repeat("!", 78))
}

func chartDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("meshpilot")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// helmCmd is helm with its caches and configuration in a temporary folder, so
// that the user's repositories and plugins play no part.
func helmCmd(ctx context.Context, t *testing.T, helm string, args ...string) *exec.Cmd {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, helm, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	return cmd
}

// runHelm runs helm and returns its stdout and stderr together.
func runHelm(t *testing.T, helm string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := helmCmd(ctx, t, helm, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// render runs helm template for a scenario and returns its stdout.
func render(t *testing.T, helm string, sc scenario) []byte {
	t.Helper()
	args := append([]string{"template", release, chartDir(t), "--namespace", namespace}, sc.args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := helmCmd(ctx, t, helm, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// ---------------------------------------------------------------------------
// rendered objects

type object struct {
	APIVersion string
	Kind       string
	raw        map[string]any
}

func parse(t *testing.T, rendered []byte) []object {
	t.Helper()
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(rendered))
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("rendered YAML: %v", err)
		}
		if m == nil {
			continue
		}
		o := object{raw: m}
		o.APIVersion, _ = m["apiVersion"].(string)
		o.Kind, _ = m["kind"].(string)
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatalf("helm template rendered no object")
	}
	return objs
}

// ofKind decodes the objects of a kind into their Kubernetes type.
func ofKind[T any](t *testing.T, objs []object, kind string) []T {
	t.Helper()
	var out []T
	for _, o := range objs {
		if o.Kind != kind {
			continue
		}
		b, err := sigsyaml.Marshal(o.raw)
		if err != nil {
			t.Fatal(err)
		}
		var v T
		if err := sigsyaml.UnmarshalStrict(b, &v); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		out = append(out, v)
	}
	return out
}

func groupResource(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

func bindsServiceAccount(subjects []rbacv1.Subject) bool {
	return len(subjects) == 1 && subjects[0].Kind == "ServiceAccount" &&
		subjects[0].Name == release && subjects[0].Namespace == namespace
}

func mountsEmptyDir(pod corev1.PodSpec, c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil {
				return true
			}
		}
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func goEnv(key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
