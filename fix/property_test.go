package fix_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/fix"
)

// corpus is every YAML file the property test edits: this package's
// testdata, the analyzers' testdata and the demo mesh.
func corpus(t *testing.T) []string {
	var files []string
	for _, pattern := range []string{
		"testdata/apply/*/input.yaml",
		"../analyzers/*/testdata/*/*.yaml",
		"../demo/mesh/*.yaml",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("corpus too small: %d files", len(files))
	}
	return files
}

// leaf is an editable place found in a file: the object's line and a
// pointer into it.
type leaf struct {
	at   place
	line int
	segs []string
	node *yaml.Node
	// oneLine: a block-context scalar alone on its part of a line, whose
	// replacement must change exactly one line.
	oneLine bool
}

// TestApplyProperties edits every scalar of every object of the corpus
// three ways (replace, delete, add a sibling key) and checks that the
// result reads back with the edit made and nothing else changed, and that
// the diff touches exactly the lines the edit needs.
func TestApplyProperties(t *testing.T) {
	edits := 0
	for _, file := range corpus(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		before, roots, ok := decodeAll(src)
		if !ok {
			continue
		}
		lines := strings.Split(string(src), "\n")
		var leaves, maps []leaf
		for di, root := range roots {
			for oi, obj := range objects(root) {
				at := place{doc: di, item: oi, line: obj.Line}
				if obj == root {
					at.item = -1
				}
				collect(obj, at, nil, true, lines, &leaves, &maps)
			}
		}
		for _, lf := range sample(leaves, 30) {
			edits += 2
			checkEdit(t, file, src, before, lf, analysis.Edit{Path: fix.Pointer(lf.segs...), Value: "zz-changed"}, lf.oneLine, 1, 1)
			checkEdit(t, file, src, before, lf, analysis.Edit{Path: fix.Pointer(lf.segs...), Delete: true}, false, 0, 0)
		}
		for _, m := range sample(maps, 10) {
			edits++
			m.segs = append(append([]string(nil), m.segs...), "zz-added")
			checkEdit(t, file, src, before, m, analysis.Edit{Path: fix.Pointer(m.segs...), Value: "v"}, true, 0, 1)
		}
	}
	t.Logf("%d edits checked", edits)
	if edits < 1000 {
		t.Errorf("only %d edits checked", edits)
	}
}

// place is an object's document and List item (-1 for the document root).
type place struct{ doc, item, line int }

func checkEdit(t *testing.T, file string, src []byte, before []any, lf leaf, e analysis.Edit, exact bool, wantRemoved, wantAdded int) {
	t.Helper()
	after, err := fix.Apply(src, lf.line, []analysis.Edit{e})
	if err != nil {
		var fe *fix.Error
		if e.Delete && errors.As(err, &fe) && strings.Contains(err.Error(), "only key of an object") {
			return
		}
		t.Errorf("%s:%d: %s (delete=%v): %v", file, lf.line, e.Path, e.Delete, err)
		return
	}
	got, _, ok := decodeAll(after)
	if !ok {
		t.Errorf("%s:%d: %s: the result does not parse:\n%s", file, lf.line, e.Path, fix.Diff(file, src, after))
		return
	}
	want := cloneDocs(before)
	target := &want[lf.at.doc]
	if lf.at.item >= 0 {
		target = &want[lf.at.doc].(map[string]any)["items"].([]any)[lf.at.item]
	}
	*target = setPath(*target, lf.segs, e)
	if !reflect.DeepEqual(flatten(got), flatten(want)) {
		t.Errorf("%s:%d: %s (delete=%v): the result reads differently than intended:\n%s", file, lf.line, e.Path, e.Delete, fix.Diff(file, src, after))
		return
	}
	if exact {
		removed, added := fix.ChangedLines(src, after)
		if !bytes.HasSuffix(src, []byte("\n")) && removed == wantRemoved+1 && added == wantAdded+1 {
			// The last line gained a line break before the new one.
			removed, added = wantRemoved, wantAdded
		}
		if removed != wantRemoved || added != wantAdded {
			t.Errorf("%s:%d: %s: diff removes %d and adds %d lines, want %d and %d:\n%s", file, lf.line, e.Path,
				removed, added, wantRemoved, wantAdded, fix.Diff(file, src, after))
		}
	}
}

// sample keeps at most n of ls, spread evenly, to bound the test's time.
func sample(ls []leaf, n int) []leaf {
	if len(ls) <= n {
		return ls
	}
	out := make([]leaf, n)
	for i := range out {
		out[i] = ls[i*len(ls)/n]
	}
	return out
}

// decodeAll decodes every document of a file, as values and as nodes.
func decodeAll(src []byte) ([]any, []*yaml.Node, bool) {
	var vals []any
	var roots []*yaml.Node
	d := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := d.Decode(&n)
		if errors.Is(err, io.EOF) {
			return vals, roots, true
		}
		if err != nil || len(n.Content) == 0 {
			return nil, nil, false
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, nil, false
		}
		vals, roots = append(vals, normalizeNumbers(v)), append(roots, n.Content[0])
	}
}

// objects returns a document's object, or the items of a List.
func objects(root *yaml.Node) []*yaml.Node {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "items" && root.Content[i+1].Kind == yaml.SequenceNode {
			return root.Content[i+1].Content
		}
	}
	return []*yaml.Node{root}
}

// collect gathers the scalars (leaves) and block mappings (maps) of n that
// an edit may address: none under anchors, aliases or merge keys.
func collect(n *yaml.Node, at place, segs []string, block bool, lines []string, leaves, maps *[]leaf) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return
	}
	block = block && n.Style&yaml.FlowStyle == 0
	switch n.Kind {
	case yaml.MappingNode:
		if block && len(segs) > 0 {
			*maps = append(*maps, leaf{at: at, line: at.line, segs: segs})
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "<<" || n.Content[i].Kind != yaml.ScalarNode {
				return
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			collect(n.Content[i+1], at, append(append([]string(nil), segs...), n.Content[i].Value), block, lines, leaves, maps)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			collect(c, at, append(append([]string(nil), segs...), strconv.Itoa(i)), block, lines, leaves, maps)
		}
	case yaml.ScalarNode:
		if len(segs) == 0 {
			return
		}
		oneLine := block && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0 &&
			!strings.ContainsAny(n.Value, "\n") && n.Value != "" && strings.Contains(lines[n.Line-1], n.Value)
		*leaves = append(*leaves, leaf{at: at, line: at.line, segs: segs, node: n, oneLine: oneLine})
	}
}

// setPath applies e to v, independently of the package's own code.
func setPath(v any, segs []string, e analysis.Edit) any {
	if len(segs) == 0 {
		return normalizeNumbers(e.Value)
	}
	switch c := v.(type) {
	case map[string]any:
		if len(segs) == 1 && e.Delete {
			delete(c, segs[0])
			return c
		}
		c[segs[0]] = setPath(c[segs[0]], segs[1:], e)
		return c
	case []any:
		i, _ := strconv.Atoi(segs[0])
		if len(segs) == 1 && e.Delete {
			return append(c[:i:i], c[i+1:]...)
		}
		c[i] = setPath(c[i], segs[1:], e)
		return c
	}
	return setPath(map[string]any{}, segs, e)
}

func cloneDocs(docs []any) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = clone(d)
	}
	return out
}

func clone(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, e := range c {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(c))
		for i, e := range c {
			s[i] = clone(e)
		}
		return s
	}
	return v
}

// normalizeNumbers makes ints int64 and keys strings, as decoding does.
func normalizeNumbers(v any) any {
	switch c := v.(type) {
	case int:
		return int64(c)
	case map[string]any:
		for k, e := range c {
			c[k] = normalizeNumbers(e)
		}
		return c
	case map[any]any:
		m := make(map[string]any, len(c))
		for k, e := range c {
			m[fmt.Sprint(k)] = normalizeNumbers(e)
		}
		return m
	case []any:
		for i, e := range c {
			c[i] = normalizeNumbers(e)
		}
	}
	return v
}

// flatten maps every path of every document to its scalar (or empty
// collection) value.
func flatten(docs []any) map[string]any {
	out := map[string]any{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch c := v.(type) {
		case map[string]any:
			if len(c) == 0 {
				out[p] = "{}"
			}
			for k, e := range c {
				walk(p+"/"+k, e)
			}
		case []any:
			if len(c) == 0 {
				out[p] = "[]"
			}
			for i, e := range c {
				walk(p+"/"+strconv.Itoa(i), e)
			}
		default:
			out[p] = v
		}
	}
	for i, d := range docs {
		walk(strconv.Itoa(i), d)
	}
	return out
}
