package fix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parsePointer splits a JSON pointer (RFC 6901) into its unescaped
// segments.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, errors.New("empty path: an edit cannot replace a whole object")
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("path %q is not a JSON pointer (it must start with /)", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if !strings.Contains(s, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '~' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 == len(s) || (s[j+1] != '0' && s[j+1] != '1') {
				return nil, fmt.Errorf("path %q: bad escape in segment %q (want ~0 or ~1)", p, s)
			}
			b.WriteByte("~/"[s[j+1]-'0'])
			j++
		}
		segs[i] = b.String()
	}
	return segs, nil
}

// Pointer builds a JSON pointer from unescaped segments.
func Pointer(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s))
	}
	return b.String()
}

// normalize brings a value to one shape for comparison and rendering:
// nil, bool, int64, float64 (never integral), string, []any,
// map[string]any. Anything else goes through JSON.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
		return float64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("value %v is not representable in JSON", x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
		return x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return normalize(f)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	}
	// Typed values (map[string]string, structs, []string): through JSON.
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value of type %T: %w", v, err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("value of type %T: %w", v, err)
	}
	return normalize(out)
}

// nodeValue decodes a node into a normalized value.
func nodeValue(n *yaml.Node) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v)
}

// applyValue applies one edit to a normalized value, with the semantics the
// text edits implement: missing (or null) intermediate mappings are
// created, "-" or the length appends to a list, indices must exist.
func applyValue(cur any, segs []string, val any, del bool) (any, error) {
	if len(segs) == 0 {
		return val, nil
	}
	s, last := segs[0], len(segs) == 1
	switch c := cur.(type) {
	case nil:
		if del {
			return nil, fmt.Errorf("no %q to delete", s)
		}
		return applyValue(map[string]any{}, segs, val, del)
	case map[string]any:
		child, ok := c[s]
		switch {
		case last && del:
			if !ok {
				return nil, fmt.Errorf("no key %q to delete", s)
			}
			delete(c, s)
		case !ok && del:
			return nil, fmt.Errorf("no key %q", s)
		default:
			v, err := applyValue(child, segs[1:], val, del)
			if err != nil {
				return nil, err
			}
			c[s] = v
		}
		return c, nil
	case []any:
		i, err := listIndex(s, len(c), last && !del)
		if err != nil {
			return nil, err
		}
		if i == len(c) {
			return append(c, val), nil
		}
		if last && del {
			return append(c[:i:i], c[i+1:]...), nil
		}
		v, err := applyValue(c[i], segs[1:], val, del)
		if err != nil {
			return nil, err
		}
		c[i] = v
		return c, nil
	}
	return nil, fmt.Errorf("path goes through scalar %v", cur)
}

// listIndex reads a list index segment; appending ("-" or n) only when
// allowed.
func listIndex(s string, n int, appendOK bool) (int, error) {
	if s == "-" {
		if appendOK {
			return n, nil
		}
		return 0, errors.New(`"-" (append) is only valid as the last segment of a set`)
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
		return 0, fmt.Errorf("%q is not a list index", s)
	}
	if i > n || (i == n && !appendOK) {
		return 0, fmt.Errorf("index %d out of range (list has %d items)", i, n)
	}
	return i, nil
}

// nest wraps val in mappings keyed by segs: nest([a b], v) = {a: {b: v}}.
func nest(segs []string, val any) any {
	for i := len(segs) - 1; i >= 0; i-- {
		val = map[string]any{segs[i]: val}
	}
	return val
}

// toNode builds a YAML node from a normalized value, mapping keys sorted.
func toNode(v any) *yaml.Node {
	switch x := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10)}
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, toNode(e))
		}
		return n
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, toNode(k), toNode(x[k]))
		}
		return n
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(v)}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isCollection(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}
