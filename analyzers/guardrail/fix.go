package guardrail

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// CheckFix reports whether applying fix's edits to obj keeps it within the
// policy's guardrails: a fix is refused when the edited object breaks a
// limit or rule it did not break before, and reason says which. Only the
// edits whose Resource is obj are applied. snap supplies the namespace's
// labels, annotations and namespaceObject; it may be nil.
func CheckFix(p *Policy, snap *mesh.Snapshot, obj *mesh.Object, fix analysis.Fix) (ok bool, reason string) {
	if p == nil || p.kinds[obj.GroupKind] == nil {
		return true, ""
	}
	return checkFix(newEvaluator(p, snap), obj, fix)
}

func checkFix(e *evaluator, obj *mesh.Object, fix analysis.Fix) (bool, string) {
	before, err := e.check(obj, nil)
	if err != nil {
		return false, err.Error()
	}
	m, err := e.objectMap(obj)
	if err != nil {
		return false, err.Error()
	}
	var doc any = m
	res := obj.Ref().String()
	for _, ed := range fix.Edits {
		if ed.Resource != res {
			continue
		}
		if doc, err = applyEdit(doc, ed); err != nil {
			return false, fmt.Sprintf("its edit of %s cannot be applied: %v", ed.Path, err)
		}
	}
	edited, ok := doc.(map[string]any)
	if !ok {
		return false, "its edits replace the whole object"
	}
	after, err := e.check(obj, edited)
	if err != nil {
		return false, err.Error()
	}
	had := map[string]bool{}
	for _, v := range before {
		had[v.id()] = true
	}
	for _, v := range after {
		if !had[v.id()] {
			return false, "it would break " + v.describe()
		}
	}
	return true, ""
}

func (v violation) id() string {
	if v.rule != nil {
		return "rule/" + v.rule.name + "/" + v.key
	}
	return "limit/" + v.limit.name + "/" + v.key
}

func (v violation) describe() string {
	if v.rule != nil {
		return fmt.Sprintf("guardrail rule %q: %s", v.rule.name, v.msg)
	}
	return fmt.Sprintf("guardrail limit %q: %s", v.limit.name, v.msg)
}

// Withheld is a fix FilterFixes took out of a finding.
type Withheld struct {
	Finding string // the finding's resource and code: "VirtualService shop/cart MP1001"
	Fix     string // the fix's message
	Reason  string // "it would break guardrail limit ..."
}

// FilterFixes drops from findings every fix that would break a guardrail
// (see CheckFix), for each edited resource found in snap, and notes each
// one at the end of its finding's message. It returns what it dropped.
func FilterFixes(p *Policy, snap *mesh.Snapshot, findings []analysis.Finding) []Withheld {
	if p == nil {
		return nil
	}
	e := newEvaluator(p, snap)
	var byRef map[string]*mesh.Object
	lookup := func(f *analysis.Finding, res string) *mesh.Object {
		if f.Object != nil && f.Object.Ref().String() == res {
			return f.Object
		}
		if byRef == nil {
			byRef = map[string]*mesh.Object{}
			for _, o := range snap.Objects() {
				byRef[o.Ref().String()] = o
			}
		}
		return byRef[res]
	}
	var out []Withheld
	for i := range findings {
		f := &findings[i]
		kept := f.Fixes[:0:0]
		for _, fix := range f.Fixes {
			if ok, reason := fixAllowed(e, f, fix, lookup); !ok {
				out = append(out, Withheld{Finding: f.Resource + " " + f.Code, Fix: fix.Message, Reason: reason})
				f.Message += fmt.Sprintf(" (fix %q withheld: %s)", fix.Message, reason)
				continue
			}
			kept = append(kept, fix)
		}
		if len(kept) != len(f.Fixes) {
			f.Fixes = kept
		}
	}
	return out
}

func fixAllowed(e *evaluator, f *analysis.Finding, fix analysis.Fix, lookup func(*analysis.Finding, string) *mesh.Object) (bool, string) {
	seen := map[string]bool{}
	for _, ed := range fix.Edits {
		if seen[ed.Resource] {
			continue
		}
		seen[ed.Resource] = true
		o := lookup(f, ed.Resource)
		if o == nil || e.p.kinds[o.GroupKind] == nil {
			continue
		}
		if ok, reason := checkFix(e, o, fix); !ok {
			return false, reason
		}
	}
	return true, ""
}

// applyEdit sets or deletes the value at a JSON pointer, copying the
// containers on the way so that doc itself is left as it was.
func applyEdit(doc any, ed analysis.Edit) (any, error) {
	if ed.Path == "" || ed.Path == "/" {
		if ed.Delete {
			return nil, fmt.Errorf("cannot delete the whole object")
		}
		return ed.Value, nil
	}
	if !strings.HasPrefix(ed.Path, "/") {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", ed.Path)
	}
	tokens := strings.Split(ed.Path[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return setAt(doc, tokens, ed)
}

func setAt(node any, tokens []string, ed analysis.Edit) (any, error) {
	tok, last := tokens[0], len(tokens) == 1
	switch n := node.(type) {
	case map[string]any:
		c := make(map[string]any, len(n)+1)
		for k, v := range n {
			c[k] = v
		}
		switch {
		case last && ed.Delete:
			delete(c, tok)
		case last:
			c[tok] = ed.Value
		default:
			child, ok := n[tok]
			if !ok {
				if ed.Delete {
					return node, nil // nothing to delete
				}
				child = map[string]any{}
			}
			v, err := setAt(child, tokens[1:], ed)
			if err != nil {
				return nil, err
			}
			c[tok] = v
		}
		return c, nil
	case []any:
		i, err := index(tok, len(n))
		if err != nil {
			return nil, err
		}
		c := append([]any{}, n...)
		switch {
		case last && ed.Delete:
			if i == len(n) {
				return nil, fmt.Errorf("index %s out of range", tok)
			}
			return append(c[:i], c[i+1:]...), nil
		case last && i == len(n):
			return append(c, ed.Value), nil
		case last:
			c[i] = ed.Value
			return c, nil
		case i == len(n):
			return nil, fmt.Errorf("index %s out of range", tok)
		}
		v, err := setAt(n[i], tokens[1:], ed)
		if err != nil {
			return nil, err
		}
		c[i] = v
		return c, nil
	case nil:
		if ed.Delete {
			return nil, nil
		}
		return setAt(map[string]any{}, tokens, ed)
	}
	return nil, fmt.Errorf("%q is inside a %T, not an object or list", tokens[0], node)
}

func index(tok string, n int) (int, error) {
	if tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (len(tok) > 1 && tok[0] == '0') {
		return 0, fmt.Errorf("index %q out of range or not a number (the list has %d items)", tok, n)
	}
	return i, nil
}
