package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/fix"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth"
)

// copyTestdata copies testdata/fix into a temporary folder, with mode.
func copyTestdata(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/fix")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata/fix", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type jsonFinding struct {
	Code, Resource, Message string
	Fixes                   []analysis.Fix
}

func findingsOf(t *testing.T, dir string) []jsonFinding {
	t.Helper()
	_, out, errOut := runCLI(t, "", "analyze", "-o", "json", "--fail-on", "none", dir)
	var rep struct{ Findings []jsonFinding }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s\n%s", err, out, errOut)
	}
	return rep.Findings
}

// TestFixEndToEnd fixes a copy of testdata/fix: the fixed findings are gone,
// no finding is new, and only the renamed lines changed.
func TestFixEndToEnd(t *testing.T) {
	dir := copyTestdata(t, 0o640)
	before := findingsOf(t, dir)
	code, out, errOut := runCLI(t, "", "fix", "--only", "IST0118", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{`fixed IST0118 Service shop/frontend (` + dir + `/shop.yaml:9): name port 80 "http-web"`,
		`Renames port "web" (80) of Service shop/frontend to "http-web"`, "3 fixes applied to 1 files; 0 skipped."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	after := findingsOf(t, dir)
	fixed := 0
	left := map[string]int{}
	for _, f := range after {
		left[f.Code+" "+f.Resource+" "+f.Message]++
	}
	for _, f := range before {
		key := f.Code + " " + f.Resource + " " + f.Message
		if left[key] > 0 {
			left[key]--
			continue
		}
		if f.Code != "IST0118" || len(f.Fixes) == 0 {
			t.Errorf("finding gone though not fixed: %s", key)
		}
		fixed++
	}
	for key, n := range left {
		if n > 0 {
			t.Errorf("new finding after the fix: %s", key)
		}
	}
	if fixed != 3 {
		t.Errorf("%d findings fixed, want 3", fixed)
	}
	orig, _ := os.ReadFile("testdata/fix/shop.yaml")
	now, _ := os.ReadFile(filepath.Join(dir, "shop.yaml"))
	if removed, added := fix.ChangedLines(orig, now); removed != 3 || added != 3 {
		t.Errorf("the diff removes %d and adds %d lines, want 3 and 3:\n%s", removed, added, fix.Diff("shop.yaml", orig, now))
	}
	for _, want := range []string{"  - name: http-web   # served by nginx\n", `  - name: "https-secure"` + "\n", "  - {name: http-api, port: 80}\n"} {
		if !strings.Contains(string(now), want) {
			t.Errorf("fixed file lacks %q:\n%s", want, now)
		}
	}
	if untouched, _ := os.ReadFile(filepath.Join(dir, "workloads.yaml")); !sameFile(t, "testdata/fix/workloads.yaml", untouched) {
		t.Error("workloads.yaml changed")
	}
	if info, err := os.Stat(filepath.Join(dir, "shop.yaml")); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("mode after the fix: %v, %v; want 0640", info.Mode(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	// Fixing again finds nothing to do.
	if code, out, _ := runCLI(t, "", "fix", "--only", "IST0118", dir); code != exitOK || !strings.Contains(out, "0 fixes applied to 0 files") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
}

func sameFile(t *testing.T, path string, data []byte) bool {
	t.Helper()
	orig, err := os.ReadFile(path)
	return err == nil && string(orig) == string(data)
}

func TestFixDryRunWritesNothing(t *testing.T) {
	dir := copyTestdata(t, 0o644)
	code, out, errOut := runCLI(t, "", "fix", "--dry-run", "--only", "IST0118", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"would fix IST0118", "--- " + dir + "/shop.yaml\n+++ " + dir + "/shop.yaml\n",
		"-  - name: web   # served by nginx\n+  - name: http-web   # served by nginx\n", "3 fixes would be applied (dry run: nothing written)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "shop.yaml")); !sameFile(t, "testdata/fix/shop.yaml", now) {
		t.Error("--dry-run changed shop.yaml")
	}
}

func TestAnalyzeDiff(t *testing.T) {
	code, out, errOut := runCLI(t, "", "analyze", "--diff", "--only", "IST0118", "testdata/fix")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	report, diffs, ok := strings.Cut(out, "\nfix for ")
	if !ok || !strings.Contains(report, "4 findings") {
		t.Fatalf("want the report, then the fixes:\n%s", out)
	}
	for _, want := range []string{
		`IST0118 Service shop/cart (testdata/fix/shop.yaml:25): name port 80 "http-api"`,
		"@@ -30,6 +30,6 @@\n spec:\n   selector: {app: cart}\n   ports:\n-  - {name: api, port: 80}\n+  - {name: http-api, port: 80}\n   - name: admin # 8080 is ambiguous: no fix\n     port: 8080\n",
		"    Renames port \"secure\" (443) of Service shop/frontend to \"https-secure\"",
	} {
		if !strings.Contains(diffs, want) {
			t.Errorf("diffs lack %q:\n%s", want, diffs)
		}
	}
	if strings.Count(out, "\n--- testdata/fix/shop.yaml\n") != 3 {
		t.Errorf("want one diff per fixable finding (3):\n%s", out)
	}
	if code, _, errOut := runCLI(t, "", "analyze", "--diff", "-o", "json", "testdata/fix"); code != exitInput || !strings.Contains(errOut, "--diff needs text output") {
		t.Errorf("--diff -o json: exit %d, %s", code, errOut)
	}
}

func TestFixStdinIsSkipped(t *testing.T) {
	stdin, _ := os.ReadFile("testdata/fix/shop.yaml")
	code, out, errOut := runCLI(t, string(stdin), "fix", "--only", "IST0118", "-")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "skipped: IST0118 Service shop/frontend (<stdin>:9): the object was read from standard input") ||
		!strings.Contains(out, "0 fixes applied to 0 files; 3 skipped.") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestFixInputErrorsExit2AndFixTheRest(t *testing.T) {
	dir := copyTestdata(t, 0o644)
	broken, _ := os.ReadFile("testdata/broken.yaml")
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), broken, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "fix", "--only", "IST0118", dir)
	if code != exitInput || !strings.Contains(out, "3 fixes applied") || !strings.Contains(errOut, "broken.yaml:8") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestFixConflicts plans fixes by hand: of two fixes editing the same path
// (or one inside the other, or a list another shortens) the first wins and
// the other is reported; fixes to one object apply together even when an
// earlier one moves the lines of a later object.
func TestFixConflicts(t *testing.T) {
	src := []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: shop\nspec:\n  ports:\n  - name: x\n    port: 1\n  - name: y\n    port: 2\n" +
		"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: shop\nspec:\n  ports:\n  - name: z\n    port: 3\n")
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "svc.yaml", Data: src}}, files.Options{})
	if err != nil || len(res.Objects) != 2 {
		t.Fatalf("load: %v, %d objects", err, len(res.Objects))
	}
	a := res.Objects[0]
	finding := func(code string, edits ...analysis.Edit) analysis.Finding {
		f := analysis.Finding{Code: code, File: "svc.yaml", Resource: "Service shop/a", Line: a.Source.Line, Object: a}
		f.Fixes = []analysis.Fix{{Message: code, Edits: edits}}
		return f
	}
	an := &analyzed{snap: res.Snapshot(mesh.Options{}), read: func(string) ([]byte, error) { return src, nil }, findings: []analysis.Finding{
		finding("A1", analysis.Edit{Path: "/metadata/labels", Value: map[string]any{"app": "a", "tier": "web"}}),
		finding("A2", analysis.Edit{Path: "/metadata/labels/app", Value: "other"}),                            // inside A1's
		finding("A3", analysis.Edit{Path: "/spec/ports/0", Delete: true}),                                     // shifts A4's list
		finding("A4", analysis.Edit{Path: "/spec/ports/1/name", Value: "http-y"}),                             // conflicts with A3
		finding("A5", analysis.Edit{Resource: "Service shop/b", Path: "/spec/ports/0/name", Value: "http-z"}), // another object
		finding("A6", analysis.Edit{Path: "/spec/type", Value: "ClusterIP"}),
	}}
	plans, skipped := planFixes(an, 0)
	var got []string
	for _, p := range plans {
		got = append(got, p.finding.Code)
	}
	if strings.Join(got, ",") != "A1,A3,A5,A6" {
		t.Errorf("planned %v, want A1,A3,A5,A6", got)
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0].reason, "conflicts with the fix of A1") ||
		!strings.Contains(skipped[1].reason, "conflicts with the fix of A3") {
		t.Errorf("skipped: %+v", skipped)
	}
	set := newFileSet(an.read, plans)
	for _, p := range plans {
		if err := set.apply(p); err != nil {
			t.Fatalf("%s: %v", p.finding.Code, err)
		}
	}
	want := "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: shop\n  labels:\n    app: a\n    tier: web\nspec:\n  ports:\n  - name: y\n    port: 2\n  type: ClusterIP\n" +
		"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: shop\nspec:\n  ports:\n  - name: http-z\n    port: 3\n"
	if got := string(set.cur["svc.yaml"]); got != want {
		t.Errorf("result differs:\n%s", fix.Diff("svc.yaml", []byte(want), []byte(got)))
	}
}

// TestFixDemo applies every fix meshpilot offers on the demo mesh with
// `meshpilot fix`, then re-analyzes (see checkFixesHold).
func TestFixDemo(t *testing.T) {
	inputs := map[string][]byte{}
	for _, in := range demo.Inputs() {
		inputs[filepath.Base(in.Name)] = in.Data
	}
	checkFixesHold(t, inputs)
}

// TestFixSynthetic does the same on the synthetic generator's output, whose
// planted retry-budget defects carry fixes.
func TestFixSynthetic(t *testing.T) {
	m := synth.Generate(synth.Options{Services: 80, DefectEvery: 5, Seed: 5})
	checkFixesHold(t, map[string][]byte{"mesh.yaml": m.YAML})
}

// checkFixesHold writes inputs to a folder, applies every fix with
// `meshpilot fix`, and re-analyzes: each fixed finding must be gone, no
// finding may appear, and files may change only by the lines the fixes
// touch (a scalar replaced or a key added: at most two lines per fix).
func checkFixesHold(t *testing.T, inputs map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	before := map[string][]byte{}
	for name, data := range inputs {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before[path] = data
	}
	analyzeJSON := func() (all map[string]int, fixable []string) {
		_, out, _ := runCLI(t, "", "analyze", "-o", "json", "--fail-on", "none", dir)
		var rep struct {
			Findings []struct {
				Code, Resource string
				Fixes          []json.RawMessage
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("analyze: %v", err)
		}
		all = map[string]int{}
		for _, f := range rep.Findings {
			k := f.Code + " " + f.Resource
			all[k]++
			if len(f.Fixes) > 0 {
				fixable = append(fixable, k)
			}
		}
		return all, fixable
	}
	was, fixable := analyzeJSON()
	if len(fixable) == 0 {
		t.Fatal("no fix offered")
	}
	if code, _, errOut := runCLI(t, "", "fix", dir); code != exitOK {
		t.Fatalf("fix: exit %d: %s", code, errOut)
	}
	now, _ := analyzeJSON()
	for _, k := range fixable {
		was[k]--
		if now[k] > was[k] {
			t.Errorf("fixed finding still reported: %s", k)
		}
	}
	for k, n := range now {
		if n > max(was[k], 0) && !contains(fixable, k) {
			t.Errorf("new finding after fixing: %s", k)
		}
	}
	changed := 0
	for path, old := range before {
		cur, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		removed, added := fix.ChangedLines(old, cur)
		changed += removed + added
	}
	if changed == 0 || changed > 2*len(fixable) {
		t.Errorf("%d lines changed for %d fixes", changed, len(fixable))
	}
}

// TestFixAlternative applies a finding's second fix when asked, and rejects
// a nonsensical choice.
func TestFixAlternative(t *testing.T) {
	dir := t.TempDir()
	var shop []byte
	for _, in := range demo.Inputs() {
		if filepath.Base(in.Name) == "20-shop.yaml" {
			shop = in.Data
		}
	}
	file := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(file, shop, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCLI(t, "", "fix", "--alternative", "0", dir); code != exitInput {
		t.Errorf("--alternative 0: exit %d, want %d", code, exitInput)
	}
	code, out, errOut := runCLI(t, "", "fix", "--alternative", "2", "--only", "MP1003", dir)
	if code != exitOK || !strings.Contains(out, "raise the timeout to 5s") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	got, _ := os.ReadFile(file)
	if removed, added := fix.ChangedLines(shop, got); removed != 1 || added != 1 || !strings.Contains(string(got), "    timeout: 5s\n") {
		t.Errorf("changed -%d +%d lines", removed, added)
	}
}
