package fix_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/fix"
)

// FuzzApply applies one edit to arbitrary bytes: Apply must never panic, and
// an edit it accepts must leave an object that a second identical set
// leaves unchanged. The seed corpus is testdata/fuzz/FuzzApply plus the
// apply cases.
func FuzzApply(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/apply/*")
	for _, dir := range dirs {
		src, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
		if err != nil {
			continue
		}
		var tc applyCase
		data, _ := os.ReadFile(filepath.Join(dir, "edits.json"))
		if json.Unmarshal(data, &tc) != nil || len(tc.Edits) == 0 {
			continue
		}
		e := tc.Edits[0]
		value, _ := json.Marshal(e.Value)
		f.Add(src, tc.Line, e.Path, string(value), e.Delete)
	}
	f.Fuzz(func(t *testing.T, src []byte, line int, path, value string, del bool) {
		var v any = value
		d := json.NewDecoder(bytes.NewReader([]byte(value)))
		d.UseNumber()
		var parsed any
		if d.Decode(&parsed) == nil {
			v = parsed
		}
		e := analysis.Edit{Path: path, Value: v, Delete: del}
		out, err := fix.Apply(src, line, []analysis.Edit{e})
		if err != nil || del || len(path) == 0 || path[len(path)-1] == '-' {
			return
		}
		again, err := fix.Apply(out, line, []analysis.Edit{e})
		if err != nil {
			t.Fatalf("a second identical set failed: %v\nafter the first:\n%s", err, out)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("a second identical set changed the file again:\n%s", fix.Diff("x", out, again))
		}
	})
}
