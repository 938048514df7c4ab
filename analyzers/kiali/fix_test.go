package kiali

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/fix"
)

// TestFixes applies each fix of the VirtualService checks to its testdata
// file and re-analyzes: the finding must be gone and none may appear.
func TestFixes(t *testing.T) {
	src := filepath.Join("testdata", "virtualservice", "routes.yaml")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	before := analysistest.Findings(t, src, VirtualService)
	tried := 0
	for _, f := range before {
		if len(f.Fixes) == 0 {
			continue
		}
		tried++
		fixed, err := fix.Apply(data, f.Line, f.Fixes[0].Edits)
		if err != nil {
			t.Errorf("%s %s: %v", f.Code, f.Resource, err)
			continue
		}
		out := filepath.Join(t.TempDir(), "fixed.yaml")
		if err := os.WriteFile(out, fixed, 0o644); err != nil {
			t.Fatal(err)
		}
		after := analysistest.Findings(t, out, VirtualService)
		count := func(fs []analysis.Finding) map[string]int {
			m := map[string]int{}
			for _, x := range fs {
				m[x.Code+" "+x.Resource+" "+x.Message]++
			}
			return m
		}
		was, now := count(before), count(after)
		key := f.Code + " " + f.Resource + " " + f.Message
		if now[key] >= was[key] {
			t.Errorf("fix %q did not remove: %s", f.Fixes[0].Message, key)
		}
		for k, n := range now {
			if n > was[k] {
				t.Errorf("fix %q introduced: %s", f.Fixes[0].Message, k)
			}
		}
	}
	if tried < 2 {
		t.Errorf("only %d findings with fixes in %s", tried, src)
	}
}
