package fix_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/fix"
)

var update = flag.Bool("update", false, "rewrite the golden want.yaml files")

// applyCase is a testdata/apply/<name>/edits.json file.
type applyCase struct {
	Line  int             `json:"line"`
	Edits []analysis.Edit `json:"edits"`
	// Error, when set, is a substring of the expected error; there is no
	// want.yaml then.
	Error string `json:"error,omitempty"`
}

// TestApply runs every testdata/apply/<name>: input.yaml and edits.json
// give want.yaml (or the error edits.json names).
func TestApply(t *testing.T) {
	dirs, err := filepath.Glob("testdata/apply/*")
	if err != nil || len(dirs) == 0 {
		t.Fatal("no testdata/apply cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var tc applyCase
			data, err := os.ReadFile(filepath.Join(dir, "edits.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &tc); err != nil {
				t.Fatalf("edits.json: %v", err)
			}
			got, err := fix.Apply(input, tc.Line, tc.Edits)
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("got error %v, want one containing %q", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			golden := filepath.Join(dir, "want.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("Apply differs from %s:\n%s", golden, fix.Diff(golden, want, got))
			}
		})
	}
}

func TestErrorNamesFileLineAndPath(t *testing.T) {
	src := []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n")
	_, err := fix.Apply(src, 1, []analysis.Edit{{Path: "/kind/x", Value: "y"}})
	var fe *fix.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *fix.Error", err)
	}
	fe.File = "svc.yaml"
	if want := `svc.yaml:2: /kind/x: the path goes through scalar "Service"`; fe.Error() != want {
		t.Errorf("got %q, want %q", fe.Error(), want)
	}
}
