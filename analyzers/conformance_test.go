package analyzers_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/internal/conformance"
)

// minPassing is the bar: at least 100 of Istio's 104 cases.
const minPassing = 100

// TestIstioConformance scores every analyzer on Istio's own analyzer test
// table. The table lives in ../shared beside the checkout (CI has it); on a
// machine without it the test says so and skips, and only it.
func TestIstioConformance(t *testing.T) {
	dir := conformance.FindDir(".")
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("conformance cases not found (../shared/conformance/istio-analyzers or $MESHPILOT_CONFORMANCE_DIR); CI must run them")
		}
		t.Skip("SKIPPED: Istio conformance cases not found: ../shared/conformance/istio-analyzers is absent and $MESHPILOT_CONFORMANCE_DIR is unset")
	}
	cases, err := conformance.ReadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed, failed, allOn := 0, 0, 0
	var report strings.Builder
	for _, c := range cases {
		if conformance.RunAll(context.Background(), dir, c, analyzers.All()).Passed() {
			allOn++
		}
		r := conformance.Run(context.Background(), dir, c, analyzers.All())
		if r.Passed() {
			passed++
			continue
		}
		failed++
		fmt.Fprintf(&report, "case %s %q (%s):", c.Index, c.Name, c.Analyzer)
		if r.Err != nil {
			fmt.Fprintf(&report, " error: %v", r.Err)
		}
		if len(r.Missing) > 0 {
			fmt.Fprintf(&report, "\n    missing: %s", strings.Join(r.Missing, "; "))
		}
		if len(r.Extra) > 0 {
			fmt.Fprintf(&report, "\n    extra:   %s", strings.Join(r.Extra, "; "))
		}
		report.WriteString("\n")
	}
	t.Logf("failing cases:\n%s", report.String())
	t.Logf("with every analyzer on for every case (stricter than Istio's per-analyzer table): %d of %d pass", allOn, len(cases))
	fmt.Printf("conformance: %d passed, %d failed\n", passed, failed)
	if passed < minPassing {
		t.Errorf("conformance: %d of %d cases pass; need at least %d", passed, len(cases), minPassing)
	}
}

// TestValidateAll checks every registered analyzer is well formed and every
// code it reports is defined in analyzers/codes.
func TestValidateAll(t *testing.T) {
	if err := analysis.Validate(analyzers.All()); err != nil {
		t.Fatal(err)
	}
	for _, a := range analyzers.All() {
		for _, c := range a.Codes {
			if codes.Lookup(c.ID) != c {
				t.Errorf("analyzer %s reports %s, which analyzers/codes does not define as the same code", a.Name, c.ID)
			}
		}
	}
}

// TestEveryCodeHasTestdata checks that each code an analyzer declares is
// expected by a `# want` comment somewhere in its package's testdata.
func TestEveryCodeHasTestdata(t *testing.T) {
	for _, a := range analyzers.All() {
		pkg, _, _ := strings.Cut(a.Name, ".")
		wants := map[string]bool{}
		filepath.WalkDir(filepath.Join(pkg, "testdata"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return nil
			}
			data, _ := os.ReadFile(path)
			for _, line := range strings.Split(string(data), "\n") {
				_, want, ok := strings.Cut(line, "# want")
				if !ok {
					continue
				}
				for _, m := range wantCode.FindAllStringSubmatch(want, -1) {
					wants[m[1]] = true
				}
			}
			return nil
		})
		for _, c := range a.Codes {
			if !wants[c.ID] {
				t.Errorf("analyzer %s: no testdata in analyzers/%s/testdata expects %s", a.Name, pkg, c.ID)
			}
		}
	}
}

var wantCode = regexp.MustCompile(`"((?:IST|MP)[0-9]{4})"`)

// TestIstioAnalyzerTable checks the Istio → meshpilot analyzer table names
// real analyzers and covers every analyzer the conformance table exercises.
func TestIstioAnalyzerTable(t *testing.T) {
	names := map[string]bool{}
	for _, a := range analyzers.All() {
		names[a.Name] = true
	}
	for istio, ours := range conformance.IstioAnalyzers {
		for _, n := range ours {
			if !names[n] {
				t.Errorf("%s maps to unknown analyzer %s", istio, n)
			}
		}
	}
	dir := conformance.FindDir(".")
	if dir == "" {
		t.Skip("SKIPPED: conformance cases not found")
	}
	cases, err := conformance.ReadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if _, ok := conformance.IstioAnalyzers[c.Analyzer]; !ok {
			t.Errorf("case %s: Istio analyzer %s is not mapped", c.Index, c.Analyzer)
		}
	}
}
