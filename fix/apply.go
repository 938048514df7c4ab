package fix

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/analysis"
)

// Error is an edit that cannot be applied. Apply leaves File empty; callers
// that know the file name set it.
type Error struct {
	File string
	Line int    // the object's line, or of the node where the path stopped
	Path string // the edit's JSON pointer
	Err  error
}

func (e *Error) Error() string {
	loc := fmt.Sprintf("line %d", e.Line)
	if e.File != "" {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return fmt.Sprintf("%s: %v", loc, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", loc, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Apply applies edits, in order and each to the result of the previous one
// (as JSON Patch does), to the object whose first key is on line (1-based,
// as mesh.Object.Source.Line and Finding.Line) of the YAML file src, and
// returns the new file. Edit.Resource is not read: every edit addresses
// this object. Errors are *Error; on error src is not changed.
func Apply(src []byte, line int, edits []analysis.Edit) ([]byte, error) {
	t := splitText(src)
	if line < 1 || line > len(t.lines) {
		return nil, &Error{Line: line, Err: fmt.Errorf("no line %d (the file has %d)", line, len(t.lines))}
	}
	for _, l := range t.lines {
		if strings.ContainsAny(l, "\x85\u2028\u2029") {
			return nil, &Error{Line: line, Err: errors.New("the file uses Unicode line separators, which are not edited")}
		}
	}
	ed := &editor{t: t, objLine: line}
	ed.lo, ed.hi = t.documentAt(line - 1)
	if err := ed.locate(); err != nil {
		return nil, &Error{Line: line, Err: err}
	}
	queue := append([]analysis.Edit(nil), edits...)
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		more, err := ed.applyChecked(e)
		if err != nil {
			var fe *Error
			if errors.As(err, &fe) {
				return nil, fe
			}
			return nil, &Error{Line: line, Path: e.Path, Err: err}
		}
		// A value set key by key: its parts go first, in order.
		queue = append(more, queue...)
	}
	return t.bytes(), nil
}

// editor edits one object of a file.
type editor struct {
	t       *text
	lo, hi  int // the object's document: lines [lo, hi)
	objLine int
	item    int // -1: the document's root; else the index in its items
	lay     layout
}

// parse parses the document and returns the object's node.
func (ed *editor) parse() (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(ed.t.join(ed.lo, ed.hi)), &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	root := doc.Content[0]
	if ed.item < 0 {
		return root, nil
	}
	items := mapValue(root, "items")
	if items == nil || items.Kind != yaml.SequenceNode || ed.item >= len(items.Content) {
		return nil, errors.New("the list's items changed")
	}
	return items.Content[ed.item], nil
}

// locate finds the object starting at objLine: the document's root or an
// item of a List.
func (ed *editor) locate() error {
	ed.item = -1
	root, err := ed.parse()
	if err != nil {
		return err
	}
	off := ed.lo
	if root.Kind == yaml.MappingNode && root.Line+off == ed.objLine {
		return nil
	}
	if items := mapValue(root, "items"); items != nil && items.Kind == yaml.SequenceNode {
		for i, it := range items.Content {
			if it.Kind == yaml.MappingNode && it.Line+off == ed.objLine {
				ed.item = i
				return nil
			}
		}
	}
	return fmt.Errorf("no object starts on line %d", ed.objLine)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// applyChecked applies one edit and checks that the object reads back as
// intended, restoring the text if not. It may instead return finer edits
// that together make the same change.
func (ed *editor) applyChecked(e analysis.Edit) ([]analysis.Edit, error) {
	segs, err := parsePointer(e.Path)
	if err != nil {
		return nil, err
	}
	var val any
	if !e.Delete {
		if val, err = normalize(e.Value); err != nil {
			return nil, err
		}
	}
	obj, err := ed.parse()
	if err != nil {
		return nil, err
	}
	ed.lay = inferLayout(obj)
	before, err := nodeValue(obj)
	if err != nil {
		return nil, fmt.Errorf("read the object: %w", err)
	}
	saved, savedHi := ed.t.clone(), ed.hi
	more, err := ed.edit(obj, segs, val, e.Delete)
	if err != nil || more != nil {
		return more, err
	}
	want, err := applyValue(before, segs, val, e.Delete)
	if err != nil {
		return nil, err
	}
	if err := ed.check(want); err != nil {
		ed.t, ed.hi = saved, savedHi
		return nil, fmt.Errorf("%w; not applied", err)
	}
	return nil, nil
}

// check parses the document again and compares the object with want.
func (ed *editor) check(want any) error {
	for i := ed.lo + 1; i < ed.hi; i++ {
		if isMarker(ed.t.lines[i]) {
			return errors.New("the edit would start a new document")
		}
	}
	obj, err := ed.parse()
	if err != nil {
		return fmt.Errorf("the edited object does not parse (%w)", err)
	}
	got, err := nodeValue(obj)
	if err != nil {
		return fmt.Errorf("the edited object does not decode (%w)", err)
	}
	if !reflect.DeepEqual(got, want) {
		return errors.New("the edited YAML would not read as intended (an unsupported layout)")
	}
	return nil
}

// step is one hop of a path: the node reached, its parent and, in a
// mapping, its key node, in a list its index.
type step struct {
	node, parent, key *yaml.Node
	index             int
}

// edit walks segs from obj and changes the text. It returns finer edits
// instead when a collection is set over a block collection.
func (ed *editor) edit(obj *yaml.Node, segs []string, val any, del bool) ([]analysis.Edit, error) {
	path := []step{{node: obj}}
	fail := func(n *yaml.Node, i int, format string, args ...any) error {
		return &Error{Line: n.Line + ed.lo, Path: Pointer(segs[:i+1]...), Err: fmt.Errorf(format, args...)}
	}
	for i, s := range segs {
		cur := path[len(path)-1].node
		if cur.Kind == yaml.AliasNode || cur.Anchor != "" {
			return nil, fail(cur, i, "the path goes through an alias or anchor, which is not edited")
		}
		if f := flowAncestor(path); f >= 0 && (cur.Kind == yaml.MappingNode || cur.Kind == yaml.SequenceNode) {
			return nil, ed.rewriteFlow(path[f], segs[f:], val, del)
		}
		var next *step
		switch cur.Kind {
		case yaml.MappingNode:
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if k := cur.Content[j]; k.Kind == yaml.ScalarNode && k.Value == s {
					next = &step{node: cur.Content[j+1], parent: cur, key: k, index: j / 2}
				}
			}
			if next == nil {
				if del {
					return nil, fail(cur, i, "no key %q to delete", s)
				}
				return nil, ed.insertPair(cur, s, nest(segs[i+1:], val))
			}
		case yaml.SequenceNode:
			idx, err := listIndex(s, len(cur.Content), i == len(segs)-1 && !del)
			if err != nil {
				return nil, fail(cur, i, "%w", err)
			}
			if idx == len(cur.Content) {
				return nil, ed.appendItem(cur, val)
			}
			next = &step{node: cur.Content[idx], parent: cur, index: idx}
		default:
			if isNull(cur) && !del && len(path) > 1 {
				return ed.replace(path, nest(segs[i:], val), segs[:i])
			}
			return nil, fail(cur, i, "the path goes through scalar %q", cur.Value)
		}
		path = append(path, *next)
	}
	if len(path) == 1 {
		return nil, errors.New("an edit cannot replace a whole object")
	}
	if del {
		return nil, ed.delete(path, segs)
	}
	return ed.replace(path, val, segs)
}

// flowAncestor returns the index in path of the outermost flow collection,
// or -1.
func flowAncestor(path []step) int {
	for i, s := range path {
		if s.node.Style&yaml.FlowStyle != 0 && (s.node.Kind == yaml.MappingNode || s.node.Kind == yaml.SequenceNode) {
			return i
		}
	}
	return -1
}

// line returns the file line index of a node.
func (ed *editor) line(n *yaml.Node) int { return n.Line - 1 + ed.lo }

// col returns the byte offset of a node on its line.
func (ed *editor) col(n *yaml.Node) int { return ed.t.byteCol(ed.line(n), n.Column) }

func (ed *editor) replaceLines(a, b int, repl []string) {
	ed.t.replace(a, b, repl)
	ed.hi += len(repl) - (b - a)
}

// blockEnd returns the last line index of an entry that starts on line l
// with its key or dash at byte c: every later line indented deeper (and,
// for a list value at the key's own indentation, its dashes), up to the
// next entry. Trailing blank lines are not part of it.
func (ed *editor) blockEnd(l, c int, seqAt int) int {
	last := l
	for j := l + 1; j < ed.hi; j++ {
		s := ed.t.lines[j]
		if isBlank(s) {
			continue
		}
		ind := indentOf(s)
		if ind > c || (ind == c && seqAt == c && dashAt(s, c)) {
			last = j
			continue
		}
		if isComment(s) {
			continue
		}
		break
	}
	return last
}

// pairEnd is the last line of a mapping entry.
func (ed *editor) pairEnd(k, v *yaml.Node) int {
	seqAt := -1
	if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 {
		seqAt = ed.col(v)
	}
	end := ed.blockEnd(ed.line(k), ed.col(k), seqAt)
	if v.Style&yaml.FlowStyle != 0 {
		if l, _, ok := ed.flowSpan(v); ok && l > end {
			end = l
		}
	}
	return end
}

// headStart returns the first line of the comment lines directly above
// line l at indentation c, which belong to the entry on l.
func (ed *editor) headStart(l, c int) int {
	for l > ed.lo && isComment(ed.t.lines[l-1]) && indentOf(ed.t.lines[l-1]) == c {
		l--
	}
	return l
}

// shared reports whether the entry at line l, byte c shares its line with
// something before it ("- key: v", "- - item").
func (ed *editor) shared(l, c int) bool {
	return strings.TrimSpace(ed.t.lines[l][:min(c, len(ed.t.lines[l]))]) != ""
}

// dashLine returns the line index of the dash of item i of block list seq.
func (ed *editor) dashLine(seq *yaml.Node, i int) (int, error) {
	it := seq.Content[i]
	floor := ed.line(seq)
	for j := min(ed.line(it), ed.hi-1); j >= floor; j-- {
		if dashAt(ed.t.lines[j], ed.t.byteCol(j, seq.Column)) {
			return j, nil
		}
	}
	return 0, fmt.Errorf("cannot find the dash of item %d", i)
}
