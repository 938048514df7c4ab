package yamlconv

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ToValue converts node to the values encoding/json would decode it to
// (map[string]any, []any, string, bool, nil; int64 for integers and float64
// for other numbers), aliases expanded within the budget. Problems that do
// not stop conversion (a duplicate key) are returned beside it.
func ToValue(n *yaml.Node, base string, b *Budget) (v any, errs []*Error, ok bool) {
	c := &valueConv{b: b, path: b.newPath(base)}
	v, ok = c.value(n, 0)
	b.release(c.path)
	return v, c.errs, ok
}

type valueConv struct {
	b    *Budget
	path path
	errs []*Error
}

func (c *valueConv) value(n *yaml.Node, depth int) (any, bool) {
	n = Resolve(n)
	if n == nil {
		return nil, true
	}
	if e := c.b.spend(n, &c.path, depth); e != nil {
		c.errs = append(c.errs, e)
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		errs := eachPair(n, &c.path, func(key string, _, v *yaml.Node) {
			if !ok {
				return
			}
			c.path.pushKey(key)
			m[key], ok = c.value(v, depth+1)
			c.path.pop()
		})
		c.errs = append(c.errs, errs...)
		return m, ok
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, e := range n.Content {
			c.path.pushIndex(i)
			v, ok := c.value(e, depth+1)
			c.path.pop()
			if !ok {
				return nil, false
			}
			l[i] = v
		}
		return l, true
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	c.errs = append(c.errs, &Error{Line: n.Line, Path: c.path.String(), Msg: "unsupported YAML node"})
	return nil, false
}

func (c *valueConv) scalar(n *yaml.Node) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		if v, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			return v, true
		}
	case "!!int":
		if s, err := ParseInt(n.Value); err == nil {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, true
			}
			f, _ := strconv.ParseFloat(s, 64)
			return f, true
		}
		c.errs = append(c.errs, &Error{Line: n.Line, Path: c.path.String(), Msg: fmt.Sprintf("integer %s out of range", n.Value)})
		return nil, false
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true
		}
		c.errs = append(c.errs, &Error{Line: n.Line, Path: c.path.String(), Msg: fmt.Sprintf("number %s cannot be represented in JSON", n.Value)})
		return nil, false
	}
	return n.Value, true
}

// LineOf returns the line of the value at path ("spec.http[0].timeout";
// list indices may be left out, as encoding/json leaves them out, and then
// every element is searched). Where the path leaves the document (a missing
// required field) it returns the line of the deepest node on the way.
func LineOf(n *yaml.Node, path string) int {
	n = Resolve(n)
	if n == nil {
		return 0
	}
	if path == "" {
		return n.Line
	}
	if path[0] == '[' {
		end := strings.IndexByte(path, ']')
		i, err := strconv.Atoi(path[1:max(end, 1)])
		if end < 0 || err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return n.Line
		}
		return LineOf(n.Content[i], strings.TrimPrefix(path[end+1:], "."))
	}
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if c = Resolve(c); c != nil && c.Kind == yaml.MappingNode && hasKey(c, path) {
				return LineOf(c, path)
			}
		}
		return n.Line
	}
	if n.Kind != yaml.MappingNode {
		return n.Line
	}
	end := strings.IndexAny(path, ".[")
	key, rest := path, ""
	if end >= 0 {
		key, rest = path[:end], strings.TrimPrefix(path[end:], ".")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if rest == "" {
				return Resolve(n.Content[i+1]).Line
			}
			return LineOf(n.Content[i+1], rest)
		}
	}
	return n.Line
}

func hasKey(m *yaml.Node, path string) bool {
	key := path
	if end := strings.IndexAny(path, ".["); end >= 0 {
		key = path[:end]
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}
