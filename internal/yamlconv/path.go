package yamlconv

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// path is the field path of the node being converted, kept as a stack so
// that the string is built only when a problem is reported.
type path struct {
	base  string
	elems []pathElem
}

type pathElem struct {
	key string
	idx int // ≥ 0 for a list index; -1 for a key
}

func (p *path) pushKey(k string) { p.elems = append(p.elems, pathElem{key: k, idx: -1}) }
func (p *path) pushIndex(i int)  { p.elems = append(p.elems, pathElem{idx: i}) }
func (p *path) pop()             { p.elems = p.elems[:len(p.elems)-1] }

func (p *path) String() string {
	var b strings.Builder
	b.WriteString(p.base)
	for _, e := range p.elems {
		if e.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.idx))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	return b.String()
}

// EachPair calls fn for each entry of mapping m in order, merge keys
// expanded (later keys win over merged ones) and duplicate keys reported
// and skipped. A mapping with neither (the common case) is walked in place,
// allocating nothing.
func EachPair(m *yaml.Node, where string, fn func(key string, k, v *yaml.Node)) []*Error {
	return eachPair(m, &path{base: where}, fn)
}

func eachPair(m *yaml.Node, p *path, fn func(key string, k, v *yaml.Node)) []*Error {
	if plainMapping(m) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			fn(k.Value, k, m.Content[i+1])
		}
		return nil
	}
	pairs, errs := Pairs(m, p.String())
	for _, e := range pairs {
		fn(e.Key, e.KeyN, e.Value)
	}
	return errs
}

// plainMapping: scalar keys, no merge key, no duplicate, few enough entries
// that a quadratic duplicate check is cheaper than a map.
func plainMapping(m *yaml.Node) bool {
	c := m.Content
	if len(c) > 64 {
		return false
	}
	for i := 0; i+1 < len(c); i += 2 {
		k := c[i]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			return false
		}
		for j := 0; j < i; j += 2 {
			if c[j].Value == k.Value {
				return false
			}
		}
	}
	return true
}
