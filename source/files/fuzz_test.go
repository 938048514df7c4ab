package files

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/crd"
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
	schemas, err := crd.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [a], http: [{timeout: 5}]}\n"))
	f.Add([]byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec: {rules: [{backendRefs: [{name: s}]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Limits: yamlconv.Limits{MaxDepth: 50, MaxNodes: 100_000}, Schemas: schemas}
		res, err := LoadBytes(context.Background(), []Named{{Name: "fuzz.yaml", Data: data}}, opts)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		lines := yamlLines(data)
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

// yamlLines counts lines as YAML does: \n, \r\n and a lone \r each end one.
func yamlLines(data []byte) int {
	return bytes.Count(data, []byte{'\n'}) + loneCRs(data) + 1
}

// FuzzSplitDocuments checks that cutting a stream into documents loses and
// reorders nothing but bare markers and a BOM, and that each document's line
// is the YAML line (counting \n, \r\n and lone \r) where it starts.
func FuzzSplitDocuments(f *testing.F) {
	f.Add([]byte("a: 1\n---\nb: 2\n"))
	f.Add([]byte("--- # c\r\na: 1\r\n--- |\n text\n"))
	f.Add([]byte("\xef\xbb\xbf---\n---\n"))
	f.Add([]byte("a\rb\n---\nc: 1\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		var rebuilt strings.Builder
		for _, c := range splitDocuments(data) {
			off := -1 // chunks are slices of the input: find where by address
			for j := range body {
				if &body[j] == &c.data[0] {
					off = j
					break
				}
			}
			if off < 0 {
				t.Fatalf("chunk is not part of the input")
			}
			if want := yamlLines(body[:off]); c.line != want {
				t.Fatalf("chunk at offset %d has line %d, want %d", off, c.line, want)
			}
			rebuilt.Write(c.data)
		}
		lines := strings.SplitAfter(string(body), "\n")
		var kept strings.Builder
		for _, l := range lines {
			if isMarker([]byte(l)) && bareMarker([]byte(strings.TrimRight(l, "\n"))) {
				continue
			}
			kept.WriteString(l)
		}
		if rebuilt.String() != kept.String() {
			t.Fatalf("split lost text:\n got %q\nwant %q", rebuilt.String(), kept.String())
		}
	})
}
