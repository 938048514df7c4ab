package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	t.Setenv(rancherTokenEnv, "") // the "no Rancher token" case must not see the caller's
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantOut    string // substring of stdout
		wantStderr string // substring of stderr
	}{
		{"demo exits 0", []string{"demo"}, "", exitOK, "findings", ""},
		{"findings at error exit 3", []string{"analyze", "testdata/mesh.yaml"}, "", exitFindings, "IST0101", ""},
		{"fail-on none exits 0", []string{"analyze", "--fail-on", "none", "testdata/mesh.yaml"}, "", exitOK, "IST0101", ""},
		{"bad input wins over findings", []string{"analyze", "testdata/mesh.yaml", "testdata/broken.yaml"}, "", exitInput, "IST0101", "broken.yaml:8"},
		{"no path", []string{"analyze"}, "", exitInput, "", "no PATH given"},
		{"unknown --only", []string{"analyze", "--only", "IST9999", "testdata/mesh.yaml"}, "", exitInput, "", "neither an analyzer nor a code"},
		{"unknown format", []string{"analyze", "-o", "xml", "testdata/mesh.yaml"}, "", exitInput, "", "unknown output format"},
		{"unknown flag", []string{"analyze", "--frobnicate"}, "", exitInput, "", "unknown flag"},
		{"stdin", []string{"analyze", "-"}, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels:\n    istio-injection: enabled\n", exitOK, "No validation issues", ""},
		{"skip by code", []string{"analyze", "--skip", "IST0101", "testdata/mesh.yaml"}, "", exitOK, "", ""},
		{"namespace filter", []string{"analyze", "-n", "other", "testdata/mesh.yaml"}, "", exitOK, "No validation issues", ""},
		{"explain", []string{"explain", "ist0101"}, "", exitOK, "ReferencedResourceNotFound", ""},
		{"explain unknown", []string{"explain", "IST9999"}, "", exitInput, "", "unknown code"},
		{"analyzers", []string{"analyzers"}, "", exitOK, "schema.Validation", ""},
		{"duplicate across files", []string{"analyze", "--only", "MP0002", "testdata/mesh.yaml", "testdata/dup.yaml"}, "", exitFindings,
			"VirtualService shop/cart is defined twice: at testdata/mesh.yaml:20 and at testdata/dup.yaml:1", ""},
		{"live and files together", []string{"analyze", "--context", "x", "testdata/mesh.yaml"}, "", exitInput, "", "cannot be analyzed together"},
		{"rancher and kubeconfig", []string{"analyze", "--rancher-url", "https://r.example", "--context", "x"}, "", exitInput, "", "takes no --context"},
		{"project needs rancher", []string{"analyze", "--project", "Default", "--use-kube"}, "", exitInput, "", "need --rancher-url"},
		{"missing kubeconfig named", []string{"analyze", "--kubeconfig", "testdata/no-such-kubeconfig"}, "", exitInput, "", "kubeconfig testdata/no-such-kubeconfig"},
		{"unknown context", []string{"analyze", "--kubeconfig", "testdata/kubeconfig", "--context", "north"}, "", exitInput, "", `no context "north" (contexts: east)`},
		{"rancher without token", []string{"analyze", "--rancher-url", "https://r.example"}, "", exitInput, "", "no Rancher token"},
		{"rancher token file missing", []string{"analyze", "--rancher-url", "https://r.example", "--rancher-token-file", "testdata/nope"}, "", exitInput, "", "--rancher-token-file"},
		{"no live fix", []string{"analyze", "--use-kube", "--diff"}, "", exitInput, "", "not applied in place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, errOut)
			}
		})
	}
}

func TestJSONContract(t *testing.T) {
	code, out, _ := runCLI(t, "", "analyze", "-o", "json", "testdata/mesh.yaml", "testdata/broken.yaml")
	if code != exitInput {
		t.Errorf("exit %d, want %d", code, exitInput)
	}
	var rep struct {
		Findings []map[string]any `json:"findings"`
		Summary  map[string]any   `json:"summary"`
		Errors   []map[string]any `json:"inputErrors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, key := range []string{"code", "level", "resource", "message", "file", "line", "equivalents", "fixes"} {
		if _, ok := rep.Findings[0][key]; !ok {
			t.Errorf("finding lacks %q: %v", key, rep.Findings[0])
		}
	}
	f := rep.Findings[0]
	if f["code"] != "IST0101" || f["resource"] != "VirtualService shop/cart" || f["level"] != "Error" || f["line"] != float64(20) {
		t.Errorf("finding = %v", f)
	}
	if len(rep.Errors) != 1 || rep.Errors[0]["line"] != float64(8) {
		t.Errorf("input errors = %v", rep.Errors)
	}
	if rep.Summary["total"] != float64(len(rep.Findings)) {
		t.Errorf("summary = %v", rep.Summary)
	}
}

func TestSARIF(t *testing.T) {
	_, out, _ := runCLI(t, "", "analyze", "-o", "sarif", "testdata/mesh.yaml")
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
		t.Fatalf("sarif = %s", out)
	}
	r := log.Runs[0].Results[0]
	loc := r.Locations[0].PhysicalLocation
	if r.RuleID != "IST0101" || r.Level != "error" || loc.ArtifactLocation.URI != "testdata/mesh.yaml" || loc.Region.StartLine != 20 {
		t.Errorf("result = %+v", r)
	}
	if len(log.Runs[0].Tool.Driver.Rules) == 0 || log.Runs[0].Tool.Driver.Rules[0].ID != "IST0101" {
		t.Errorf("rules = %+v", log.Runs[0].Tool.Driver.Rules)
	}
}

func TestOutputFormats(t *testing.T) {
	for _, f := range []string{"text", "yaml", "markdown"} {
		t.Run(f, func(t *testing.T) {
			_, out, _ := runCLI(t, "", "analyze", "-o", f, "testdata/mesh.yaml")
			if !strings.Contains(out, "IST0101") || !strings.Contains(out, "VirtualService shop/cart") {
				t.Errorf("%s output lacks the finding:\n%s", f, out)
			}
			if strings.Contains(out, "quiet") {
				t.Errorf("suppressed finding shown:\n%s", out)
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("colour codes in %s output to a non-terminal", f)
			}
		})
	}
}

// TestChecksDocCurrent keeps docs/checks.md what `meshpilot analyzers -o
// markdown` prints; regenerate it with that command.
func TestChecksDocCurrent(t *testing.T) {
	code, out, errOut := runCLI(t, "", "analyzers", "-o", "markdown")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Error("docs/checks.md is stale: run 'go run ./cmd/meshpilot analyzers -o markdown > docs/checks.md'")
	}
}
