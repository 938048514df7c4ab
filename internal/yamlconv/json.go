// Package yamlconv turns parsed YAML (yaml.v3 nodes) into JSON for typed
// Kubernetes objects and into protobuf messages for Istio specs, reporting
// every problem with its line and field path rather than stopping at the
// first one.
package yamlconv

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Error is a problem at a place in a YAML document.
type Error struct {
	Line int
	Path string // field path, "spec.http[0].timeout"; empty for the document
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
}

// Limits bound the work one document may cause.
type Limits struct {
	// MaxDepth bounds nesting of mappings and sequences.
	MaxDepth int
	// MaxNodes bounds the nodes visited, aliases expanded: an alias bomb
	// ("billion laughs") stops here.
	MaxNodes int
}

// DefaultLimits are generous for any real manifest.
var DefaultLimits = Limits{MaxDepth: 200, MaxNodes: 2_000_000}

// Budget counts nodes visited against Limits; share one per document.
type Budget struct {
	Limits
	nodes   int
	scratch []pathElem // reused path stack
}

// NewBudget starts a budget.
func NewBudget(l Limits) *Budget { return &Budget{Limits: l} }

// Reset starts the budget over for another document, keeping its buffers.
func (b *Budget) Reset(l Limits) {
	b.Limits, b.nodes = l, 0
}

// newPath takes the budget's path stack (callers hand it back with
// release); conversions under one budget do not nest.
func (b *Budget) newPath(base string) path {
	return path{base: base, elems: b.scratch[:0]}
}

func (b *Budget) release(p path) { b.scratch = p.elems[:0] }

func (b *Budget) spend(n *yaml.Node, p *path, depth int) *Error {
	b.nodes++
	if b.MaxNodes > 0 && b.nodes > b.MaxNodes {
		return &Error{Line: n.Line, Path: p.String(), Msg: fmt.Sprintf("document expands to more than %d nodes (alias bomb?)", b.MaxNodes)}
	}
	if b.MaxDepth > 0 && depth > b.MaxDepth {
		return &Error{Line: n.Line, Path: p.String(), Msg: fmt.Sprintf("nesting deeper than %d levels", b.MaxDepth)}
	}
	return nil
}

// Resolve follows aliases and unwraps document nodes.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

// Pair is one key and value of a mapping, merge keys expanded.
type Pair struct {
	Key   string
	KeyN  *yaml.Node
	Value *yaml.Node
}

// Pairs lists a mapping's entries, expanding "<<" merge keys (later keys
// win over merged ones) and reporting duplicate keys.
func Pairs(m *yaml.Node, path string) ([]Pair, []*Error) {
	var errs []*Error
	out := make([]Pair, 0, len(m.Content)/2)
	var index map[string]int // only for large mappings; small ones scan
	find := func(key string) (int, bool) {
		if index != nil {
			j, ok := index[key]
			return j, ok
		}
		for j := range out {
			if out[j].Key == key {
				return j, true
			}
		}
		return 0, false
	}
	if len(m.Content) > 32 {
		index = make(map[string]int, len(m.Content)/2)
	}
	var merged []Pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		kr := Resolve(k)
		if kr != nil && kr.Kind == yaml.ScalarNode && kr.Tag == "!!merge" {
			merged = append(merged, mergePairs(v, path, &errs)...)
			continue
		}
		if kr == nil || kr.Kind != yaml.ScalarNode {
			errs = append(errs, &Error{Line: k.Line, Path: path, Msg: "mapping key is not a scalar"})
			continue
		}
		key := kr.Value
		if j, dup := find(key); dup {
			errs = append(errs, &Error{Line: k.Line, Path: join(path, key),
				Msg: fmt.Sprintf("duplicate key %q (first at line %d)", key, out[j].KeyN.Line)})
			continue
		}
		if index != nil {
			index[key] = len(out)
		}
		out = append(out, Pair{Key: key, KeyN: k, Value: v})
	}
	for _, p := range merged {
		if _, ok := find(p.Key); !ok {
			if index != nil {
				index[p.Key] = len(out)
			}
			out = append(out, p)
		}
	}
	return out, errs
}

func mergePairs(v *yaml.Node, path string, errs *[]*Error) []Pair {
	v = Resolve(v)
	if v == nil {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		ps, e := Pairs(v, path)
		*errs = append(*errs, e...)
		return ps
	case yaml.SequenceNode:
		var out []Pair
		for _, m := range v.Content {
			out = append(out, mergePairs(m, path, errs)...)
		}
		return out
	}
	*errs = append(*errs, &Error{Line: v.Line, Path: path, Msg: "merge key value is not a mapping"})
	return nil
}

// ToJSON appends node as JSON to buf; base is the path of node, for
// messages. Problems that do not stop conversion (a duplicate key) are
// returned beside it; one that does (a value JSON cannot hold, a budget
// exceeded) ends it with ok false.
func ToJSON(buf *bytes.Buffer, n *yaml.Node, base string, b *Budget) (errs []*Error, ok bool) {
	w := &jsonWriter{buf: buf, b: b, path: b.newPath(base)}
	ok = w.value(n, 0)
	b.release(w.path)
	return w.errs, ok
}

type jsonWriter struct {
	buf  *bytes.Buffer
	b    *Budget
	path path
	errs []*Error
}

func (w *jsonWriter) fail(n *yaml.Node, msg string) {
	w.errs = append(w.errs, &Error{Line: n.Line, Path: w.path.String(), Msg: msg})
}

func (w *jsonWriter) value(n *yaml.Node, depth int) bool {
	n = Resolve(n)
	if n == nil {
		w.buf.WriteString("null")
		return true
	}
	if e := w.b.spend(n, &w.path, depth); e != nil {
		w.errs = append(w.errs, e)
		return false
	}
	switch n.Kind {
	case yaml.MappingNode:
		w.buf.WriteByte('{')
		first, ok := true, true
		errs := eachPair(n, &w.path, func(key string, _, v *yaml.Node) {
			if !ok {
				return
			}
			if !first {
				w.buf.WriteByte(',')
			}
			first = false
			writeString(w.buf, key)
			w.buf.WriteByte(':')
			w.path.pushKey(key)
			ok = w.value(v, depth+1)
			w.path.pop()
		})
		w.errs = append(w.errs, errs...)
		if !ok {
			return false
		}
		w.buf.WriteByte('}')
	case yaml.SequenceNode:
		w.buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.path.pushIndex(i)
			ok := w.value(c, depth+1)
			w.path.pop()
			if !ok {
				return false
			}
		}
		w.buf.WriteByte(']')
	case yaml.ScalarNode:
		return w.scalar(n)
	default:
		w.fail(n, "unsupported YAML node")
		return false
	}
	return true
}

func (w *jsonWriter) scalar(n *yaml.Node) bool {
	buf := w.buf
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			writeString(buf, n.Value)
			return true
		}
		buf.WriteString(strconv.FormatBool(v))
	case "!!int":
		v, err := ParseInt(n.Value)
		if err != nil {
			w.fail(n, fmt.Sprintf("integer %s: %v", n.Value, err))
			return false
		}
		buf.WriteString(v)
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			w.fail(n, fmt.Sprintf("number %s cannot be represented in JSON", n.Value))
			return false
		}
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	default: // !!str, !!timestamp, !!binary and custom tags are strings
		writeString(buf, n.Value)
	}
	return true
}

// ParseInt normalises a YAML integer (decimal, 0x, 0o, with _) to decimal.
func ParseInt(s string) (string, error) {
	clean := strings.ReplaceAll(s, "_", "")
	if v, err := strconv.ParseInt(clean, 0, 64); err == nil {
		return strconv.FormatInt(v, 10), nil
	}
	if v, err := strconv.ParseUint(clean, 0, 64); err == nil {
		return strconv.FormatUint(v, 10), nil
	}
	if strings.HasPrefix(clean, "0o") || strings.HasPrefix(clean, "0O") {
		if v, err := strconv.ParseInt(clean[2:], 8, 64); err == nil {
			return strconv.FormatInt(v, 10), nil
		}
	}
	return "", fmt.Errorf("out of range")
}

const hexDigits = "0123456789abcdef"

func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case c < 0x20:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xF])
			default:
				buf.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(`\ufffd`)
		} else {
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
