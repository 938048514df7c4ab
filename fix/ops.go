package fix

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/analysis"
)

// replace sets the value at the end of path to val.
func (ed *editor) replace(path []step, val any, segs []string) ([]analysis.Edit, error) {
	st := path[len(path)-1]
	t := st.node
	if cur, err := nodeValue(t); err == nil && reflect.DeepEqual(cur, val) {
		return nil, nil // already so: no change
	}
	if more := split(t, val, segs); more != nil {
		return more, nil
	}
	if ed.replaceScalar(t, val) {
		return nil, nil
	}
	switch st.parent.Kind {
	case yaml.MappingNode:
		return nil, ed.replacePairValue(st.key, t, val)
	case yaml.SequenceNode:
		return nil, ed.replaceItem(st.parent, st.index, t, val)
	}
	return nil, errors.New("an edit cannot replace a whole object")
}

// split turns setting a mapping over a block mapping (a list over a block
// list of the same length) into edits of its entries: new keys first, then
// changed ones, then removals, so that the collection is never empty.
func split(t *yaml.Node, val any, segs []string) []analysis.Edit {
	if t.Style&yaml.FlowStyle != 0 || t.Anchor != "" || t.Style&yaml.TaggedStyle != 0 {
		return nil
	}
	at := func(s string) string { return Pointer(append(append([]string(nil), segs...), s)...) }
	switch v := val.(type) {
	case map[string]any:
		if t.Kind != yaml.MappingNode || len(v) == 0 {
			return nil
		}
		old := map[string]bool{}
		var keep []string
		for i := 0; i+1 < len(t.Content); i += 2 {
			old[t.Content[i].Value] = true
			keep = append(keep, t.Content[i].Value)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var adds, sets, dels []analysis.Edit
		for _, k := range keys {
			if old[k] {
				sets = append(sets, analysis.Edit{Path: at(k), Value: v[k]})
			} else {
				adds = append(adds, analysis.Edit{Path: at(k), Value: v[k]})
			}
		}
		for i := len(keep) - 1; i >= 0; i-- {
			if _, ok := v[keep[i]]; !ok {
				dels = append(dels, analysis.Edit{Path: at(keep[i]), Delete: true})
			}
		}
		return append(append(adds, sets...), dels...)
	case []any:
		if t.Kind != yaml.SequenceNode || len(v) == 0 || len(v) != len(t.Content) {
			return nil
		}
		out := make([]analysis.Edit, len(v))
		for i, e := range v {
			out[i] = analysis.Edit{Path: at(fmt.Sprint(i)), Value: e}
		}
		return out
	}
	return nil
}

// replaceScalar rewrites a one-line scalar with a scalar in place, keeping
// a string's quoting style. It reports whether it did.
func (ed *editor) replaceScalar(t *yaml.Node, val any) bool {
	if t.Kind != yaml.ScalarNode || isCollection(val) || t.Anchor != "" ||
		t.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle|yaml.FlowStyle) != 0 {
		return false
	}
	l := ed.line(t)
	s := ed.col(t)
	line := ed.t.lines[l]
	e := scalarEnd(line, s)
	if e < 0 || (t.Style == 0 && line[s:e] != t.Value) || (t.Style != 0 && e <= s) {
		return false
	}
	n := toNode(val)
	if n.ShortTag() == "!!str" {
		n.Style = t.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	ed.replaceLines(l, l+1, []string{line[:s] + scalarText(n, false) + line[e:]})
	return true
}

// valueText renders val to stand on one line where t stood, or ok false
// when it needs block lines.
func valueText(t *yaml.Node, val any) (string, bool) {
	n := toNode(val)
	if t.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		n.Style = t.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	if t.Style&yaml.FlowStyle != 0 && (t.Kind == yaml.MappingNode || t.Kind == yaml.SequenceNode) {
		return flowText(n), true
	}
	return inlineText(n)
}

// replacePairValue rewrites the value of the mapping entry with key k.
func (ed *editor) replacePairValue(k, t *yaml.Node, val any) error {
	kl, kb := ed.line(k), ed.col(k)
	line := ed.t.lines[kl]
	after, err := colonAfter(line, kb)
	if err != nil {
		return err
	}
	keep := ""
	if rest := line[after:]; isComment(rest) {
		keep = strings.TrimRight(rest, " \t")
	} else if t.Style&yaml.FlowStyle != 0 {
		if el, eb, ok := ed.flowSpan(t); ok && el == kl && isComment(line[eb:]) {
			keep = strings.TrimRight(line[eb:], " \t")
		}
	}
	end := ed.pairEnd(k, t)
	var repl []string
	if s, ok := valueText(t, val); ok {
		repl = []string{line[:after] + " " + s + keep}
	} else {
		n := toNode(val)
		child := kb + ed.lay.step
		if n.Kind == yaml.SequenceNode {
			child = kb + ed.lay.seqIndent
		}
		if t.Kind == n.Kind && t.Style&yaml.FlowStyle == 0 && ed.line(t) > kl {
			child = ed.col(t)
		}
		repl = append([]string{line[:after] + keep}, ed.lay.blockLines(n, child)...)
	}
	ed.replaceLines(kl, end+1, repl)
	return nil
}

// colonAfter returns the byte just past the ":" that follows the key
// starting at byte kb of line.
func colonAfter(line string, kb int) (int, error) {
	ke := scalarEnd(line, kb)
	if ke < 0 {
		return 0, errors.New("unsupported key layout (a multi-line key)")
	}
	for ke < len(line) && (line[ke] == ' ' || line[ke] == '\t') {
		ke++
	}
	if ke >= len(line) || line[ke] != ':' {
		return 0, errors.New("unsupported key layout (no ':' after the key on its line)")
	}
	return ke + 1, nil
}

// itemSpan returns the dash line, dash byte and last line of item i.
func (ed *editor) itemSpan(seq *yaml.Node, i int) (dl, d, end int, err error) {
	dl, err = ed.dashLine(seq, i)
	if err != nil {
		return 0, 0, 0, err
	}
	d = ed.t.byteCol(dl, seq.Column)
	end = ed.blockEnd(dl, d, -1)
	if it := seq.Content[i]; it.Style&yaml.FlowStyle != 0 {
		if l, _, ok := ed.flowSpan(it); ok && l > end {
			end = l
		}
	}
	return dl, d, end, nil
}

// itemLines renders val as a list item with its dash at byte d, after
// prefix.
func (ed *editor) itemLines(prefix string, d int, t *yaml.Node, val any) []string {
	if s, ok := valueText(t, val); ok {
		return []string{prefix + "- " + s}
	}
	lines := ed.lay.blockLines(toNode(val), d+2)
	lines[0] = prefix + "- " + lines[0][d+2:]
	return lines
}

// replaceItem rewrites item i of block list seq.
func (ed *editor) replaceItem(seq *yaml.Node, i int, t *yaml.Node, val any) error {
	dl, d, end, err := ed.itemSpan(seq, i)
	if err != nil {
		return err
	}
	ed.replaceLines(dl, end+1, ed.itemLines(ed.t.lines[dl][:d], d, t, val))
	return nil
}

// insertPair appends key: val to block mapping m, at its keys' indentation.
func (ed *editor) insertPair(m *yaml.Node, key string, val any) error {
	k, v := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
	end := ed.pairEnd(k, v)
	lines := ed.lay.pairLines(scalarText(toNode(key), false), toNode(val), ed.col(m))
	ed.replaceLines(end+1, end+1, lines)
	return nil
}

// appendItem appends val to block list seq.
func (ed *editor) appendItem(seq *yaml.Node, val any) error {
	_, d, end, err := ed.itemSpan(seq, len(seq.Content)-1)
	if err != nil {
		return err
	}
	empty := &yaml.Node{Kind: yaml.ScalarNode}
	ed.replaceLines(end+1, end+1, ed.itemLines(strings.Repeat(" ", d), d, empty, val))
	return nil
}

// delete removes the entry at the end of path; the last entry of a
// collection leaves "{}" or "[]".
func (ed *editor) delete(path []step, segs []string) error {
	st := path[len(path)-1]
	p := st.parent
	entries := len(p.Content)
	if p.Kind == yaml.MappingNode {
		entries /= 2
	}
	if entries == 1 {
		if len(path) == 2 {
			return errors.New("cannot delete the only key of an object")
		}
		var empty any = map[string]any{}
		if p.Kind == yaml.SequenceNode {
			empty = []any{}
		}
		_, err := ed.replace(path[:len(path)-1], empty, segs[:len(segs)-1])
		return err
	}
	var start, c, end int
	next := -1 // the next entry's first line, when this one shares its line
	if p.Kind == yaml.MappingNode {
		start, c = ed.line(st.key), ed.col(st.key)
		end = ed.pairEnd(st.key, st.node)
		if st.index+1 < entries {
			next = ed.line(p.Content[2*st.index+2])
		}
	} else {
		var err error
		if start, c, end, err = ed.itemSpan(p, st.index); err != nil {
			return err
		}
		if st.index+1 < entries {
			if next, err = ed.dashLine(p, st.index+1); err != nil {
				return err
			}
		}
	}
	if !ed.shared(start, c) {
		ed.replaceLines(ed.headStart(start, c), end+1, nil)
		return nil
	}
	// "- name: a" losing name: the next entry moves up onto the dash line.
	if next < 0 || next <= end || indentOf(ed.t.lines[next]) != c {
		return errors.New("unsupported layout around the deleted entry")
	}
	repl := append([]string(nil), ed.t.lines[end+1:next]...)
	repl = append(repl, ed.t.lines[start][:c]+ed.t.lines[next][c:])
	ed.replaceLines(start, next+1, repl)
	return nil
}

// flowSpan returns where the flow collection n closes: the line and the
// byte just past its bracket.
func (ed *editor) flowSpan(n *yaml.Node) (line, end int, ok bool) {
	l, s, ok := ed.flowStart(n)
	if !ok {
		return 0, 0, false
	}
	return ed.t.flowEnd(l, s, ed.hi)
}

func (ed *editor) flowStart(n *yaml.Node) (line, start int, ok bool) {
	l := ed.line(n)
	if l < ed.lo || l >= ed.hi {
		return 0, 0, false
	}
	s := ed.col(n)
	i := strings.IndexAny(ed.t.lines[l][s:], "{[")
	if i < 0 {
		return 0, 0, false
	}
	return l, s + i, true
}

// rewriteFlow applies an edit inside flow collection st.node by rendering
// the whole collection again, in flow style on one line.
func (ed *editor) rewriteFlow(st step, segs []string, val any, del bool) error {
	f := st.node
	sl, sb, ok := ed.flowStart(f)
	if !ok {
		return errors.New("cannot find the start of a flow collection")
	}
	el, eb, ok := ed.t.flowEnd(sl, sb, ed.hi)
	if !ok {
		return errors.New("cannot find the end of a flow collection")
	}
	cp := copyNode(f)
	cp.Anchor, cp.Style = "", yaml.FlowStyle
	if err := nodeEdit(cp, segs, val, del); err != nil {
		return &Error{Line: f.Line + ed.lo, Err: err}
	}
	line := ed.t.lines[sl][:sb] + flowText(cp) + ed.t.lines[el][eb:]
	ed.replaceLines(sl, el+1, []string{line})
	return nil
}

func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, e := range n.Content {
		c.Content[i] = copyNode(e)
	}
	return &c
}

// nodeEdit applies an edit to a node tree, with applyValue's semantics.
func nodeEdit(cur *yaml.Node, segs []string, val any, del bool) error {
	for i, s := range segs {
		last := i == len(segs)-1
		switch cur.Kind {
		case yaml.MappingNode:
			j := -1
			for k := 0; k+1 < len(cur.Content); k += 2 {
				if cur.Content[k].Value == s {
					j = k
				}
			}
			switch {
			case j < 0 && del:
				return fmt.Errorf("no key %q to delete", s)
			case j < 0:
				cur.Content = append(cur.Content, toNode(s), toNode(nest(segs[i+1:], val)))
				return nil
			case last && del:
				cur.Content = append(cur.Content[:j:j], cur.Content[j+2:]...)
				return nil
			case last:
				cur.Content[j+1] = styled(cur.Content[j+1], val)
				return nil
			}
			cur = cur.Content[j+1]
		case yaml.SequenceNode:
			idx, err := listIndex(s, len(cur.Content), last && !del)
			if err != nil {
				return err
			}
			switch {
			case idx == len(cur.Content):
				cur.Content = append(cur.Content, toNode(val))
				return nil
			case last && del:
				cur.Content = append(cur.Content[:idx:idx], cur.Content[idx+1:]...)
				return nil
			case last:
				cur.Content[idx] = styled(cur.Content[idx], val)
				return nil
			}
			cur = cur.Content[idx]
		default:
			if isNull(cur) && !del {
				*cur = *toNode(nest(segs[i:], val))
				return nil
			}
			return fmt.Errorf("the path goes through scalar %q", cur.Value)
		}
	}
	return nil
}

// styled builds the node for val, keeping old's quoting for a string.
func styled(old *yaml.Node, val any) *yaml.Node {
	n := toNode(val)
	if old.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		n.Style = old.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	return n
}
