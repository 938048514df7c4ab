package guardrail

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem with a policy file, at a place in it.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem is with the file as a whole
	Column int
	Path   string // field path, "spec.limits[0].maxRouteTimeout"; empty for the document
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadError holds every problem found loading a policy, in file order.
type LoadError struct {
	Errs []*Error
}

func (e *LoadError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// pos is a place in the policy file.
type pos struct{ line, col int }

// defaulter is implemented by the policy's list items, which get their
// defaults before they are decoded.
type defaulter interface{ setDefaults() }

// decoder decodes yaml.v3 nodes into the policy's types strictly: an
// unknown or repeated key, or a value of the wrong shape, is an error at
// its line and column, and decoding goes on to find the others.
type decoder struct {
	file string
	errs []*Error
	// at holds the position of every value decoded, by field path, for the
	// checks that follow decoding.
	at map[string]pos
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, path, "aliases are not supported")
		return
	}
	d.at[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if d.scalar(n, path, "!!str", "a string") {
			v.SetString(n.Value)
		}
	case reflect.Int:
		if d.scalar(n, path, "!!int", "an integer") {
			i, err := strconv.ParseInt(n.Value, 0, 32)
			if err != nil {
				d.errorf(n, path, "invalid integer %s", n.Value)
				return
			}
			v.SetInt(i)
		}
	default:
		panic("guardrail: cannot decode into " + v.Type().String())
	}
}

func (d *decoder) scalar(n *yaml.Node, path, tag, what string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected %s, got %s", what, shape(n))
		return false
	}
	if n.Tag != tag {
		d.errorf(n, path, "expected %s, got %s %s (quote it if it is meant as text)", what, strings.TrimPrefix(n.Tag, "!!"), n.Value)
		return false
	}
	return true
}

func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strings.TrimPrefix(n.Tag, "!!") + " " + n.Value
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", shape(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
			names = append(names, name)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, kp, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fi, ok := fields[k.Value]
		if !ok {
			d.errorf(k, kp, "unknown field %q (known: %s)", k.Value, strings.Join(names, ", "))
			continue
		}
		d.decode(val, v.Field(fi), kp)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", shape(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		e := s.Index(i)
		if def, ok := e.Addr().Interface().(defaulter); ok {
			def.setDefaults()
		}
		d.decode(item, e, fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", shape(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, kp, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	v.Set(m)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into an Error with its line.
func syntaxError(file string, err error) *Error {
	e := &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = 1
		e.Msg = "invalid YAML: " + m[2]
	}
	return e
}
