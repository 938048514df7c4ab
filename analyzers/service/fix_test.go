package service_test

import (
	"os"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/service"
	"github.com/meshpilot/meshpilot/fix"
)

// TestPortNameFixes checks which ports get a rename and that applying it
// to the file removes the finding.
func TestPortNameFixes(t *testing.T) {
	const file = "testdata/portname/fixes.yaml"
	want := map[string]string{ // port description → new name ("" for no fix)
		`port "web" (80)`:               "http-web",
		`port "secure" (443)`:           "https-secure",
		`port "alt" (8081)`:             "http-alt",
		`port "admin" (8080)`:           "",
		`port "averyverylongname" (80)`: "",
		`unnamed port 80`:               "http",
	}
	fs := analysistest.Findings(t, file, service.PortName)
	if len(fs) != len(want) {
		t.Fatalf("got %d findings, want %d", len(fs), len(want))
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		name, port := "", describe(t, f, want)
		if len(f.Fixes) > 0 {
			edits := f.Fixes[0].Edits
			if len(edits) != 1 || edits[0].Resource != f.Resource {
				t.Fatalf("%s: unexpected edits %+v", port, edits)
			}
			name, _ = edits[0].Value.(string)
			if src, err = fix.Apply(src, f.Line, edits); err != nil {
				t.Fatalf("%s: %v", port, err)
			}
		}
		if name != want[port] {
			t.Errorf("%s: fix names it %q, want %q", port, name, want[port])
		}
	}
	fixed := t.TempDir() + "/fixed.yaml"
	if err := os.WriteFile(fixed, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if left := analysistest.Findings(t, fixed, service.PortName); len(left) != 2 {
		t.Errorf("after the fixes %d findings are left, want 2 (admin and the long name): %v", len(left), left)
	}
}

func describe(t *testing.T, f analysis.Finding, want map[string]string) string {
	t.Helper()
	for port := range want {
		if strings.Contains(f.Message, port) {
			return port
		}
	}
	t.Fatalf("unexpected finding %s", f.Message)
	return ""
}
