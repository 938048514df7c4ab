package files

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/internal/yamlconv"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and
// every problem must name the input and a line inside it.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "load", "*"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Namespace, metadata: {name: x}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Limits: yamlconv.Limits{MaxDepth: 50, MaxNodes: 100_000}}
		res, err := LoadBytes(context.Background(), []Named{{Name: "fuzz.yaml", Data: data}}, opts)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		lines := bytes.Count(data, []byte{'\n'}) + 1
		for _, p := range res.Problems {
			if p.File != "fuzz.yaml" {
				t.Errorf("problem names %q", p.File)
			}
			if p.Line < 0 || p.Line > lines {
				t.Errorf("problem line %d outside the input's %d lines: %v", p.Line, lines, p)
			}
		}
		for _, o := range res.Objects {
			if o.Meta == nil || o.Obj == nil || o.Meta.Name == "" {
				t.Errorf("incomplete object %+v", o)
			}
			if o.Source.Line < 1 || o.Source.Line > lines {
				t.Errorf("object line %d outside the input's %d lines", o.Source.Line, lines)
			}
		}
	})
}

// FuzzSplitDocuments checks that cutting a stream into documents loses and
// reorders nothing but bare markers and a BOM, and that line numbers add up.
func FuzzSplitDocuments(f *testing.F) {
	f.Add([]byte("a: 1\n---\nb: 2\n"))
	f.Add([]byte("--- # c\r\na: 1\r\n--- |\n text\n"))
	f.Add([]byte("\xef\xbb\xbf---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		lines := strings.Split(string(body), "\n")
		var rebuilt strings.Builder
		for _, c := range splitDocuments(data) {
			if c.line < 1 || c.line > len(lines) {
				t.Fatalf("chunk line %d out of range", c.line)
			}
			want := strings.Join(lines[c.line-1:], "\n")
			if !strings.HasPrefix(want, string(c.data)) {
				t.Fatalf("chunk at line %d is not the text there: %q", c.line, c.data)
			}
			rebuilt.Write(c.data)
		}
		var kept strings.Builder
		for i, l := range lines {
			if isMarker([]byte(l+"\n")) && bareMarker([]byte(l)) {
				continue
			}
			kept.WriteString(l)
			if i < len(lines)-1 {
				kept.WriteString("\n")
			}
		}
		if rebuilt.String() != kept.String() {
			t.Fatalf("split lost text:\n got %q\nwant %q", rebuilt.String(), kept.String())
		}
	})
}
