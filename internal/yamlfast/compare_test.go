package yamlfast

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// equalNodes reports the first difference between two trees ("" if none),
// comparing Kind, Tag (and ShortTag), Value, Style, Anchor, Line, Column,
// Alias presence and structure. Comments are ignored.
func equalNodes(a, b *yaml.Node) string {
	return diffNodes(a, b, "$")
}

func diffNodes(a, b *yaml.Node, path string) string {
	if a == nil || b == nil {
		if a != b {
			return fmt.Sprintf("%s: nil mismatch (%v vs %v)", path, a == nil, b == nil)
		}
		return ""
	}
	switch {
	case a.Kind != b.Kind:
		return fmt.Sprintf("%s: Kind %v vs %v", path, a.Kind, b.Kind)
	case a.Tag != b.Tag:
		return fmt.Sprintf("%s: Tag %q vs %q", path, a.Tag, b.Tag)
	case a.ShortTag() != b.ShortTag():
		return fmt.Sprintf("%s: ShortTag %q vs %q", path, a.ShortTag(), b.ShortTag())
	case a.Value != b.Value:
		return fmt.Sprintf("%s: Value %q vs %q", path, a.Value, b.Value)
	case a.Style != b.Style:
		return fmt.Sprintf("%s: Style %v vs %v", path, a.Style, b.Style)
	case a.Anchor != b.Anchor:
		return fmt.Sprintf("%s: Anchor %q vs %q", path, a.Anchor, b.Anchor)
	case a.Line != b.Line || a.Column != b.Column:
		return fmt.Sprintf("%s: position %d:%d vs %d:%d", path, a.Line, a.Column, b.Line, b.Column)
	case (a.Alias == nil) != (b.Alias == nil):
		return fmt.Sprintf("%s: Alias presence differs", path)
	case len(a.Content) != len(b.Content):
		return fmt.Sprintf("%s: %d children vs %d", path, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if a.Kind == yaml.MappingNode && i%2 == 1 {
			p = path + "." + strings.ReplaceAll(a.Content[i-1].Value, ".", `\.`)
		}
		if d := diffNodes(a.Content[i], b.Content[i], p); d != "" {
			return d
		}
	}
	return ""
}

// reference parses doc with yaml.v3, turning panics into errors.
func reference(doc []byte) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("yaml.v3 panic: %v", r)
		}
	}()
	var node yaml.Node
	if err := yaml.Unmarshal(doc, &node); err != nil {
		return nil, err
	}
	return &node, nil
}

// dump renders a tree for failure messages.
func dump(n *yaml.Node) string {
	var b strings.Builder
	var walk func(*yaml.Node, int)
	walk = func(n *yaml.Node, d int) {
		fmt.Fprintf(&b, "%s%v %s %q style=%v %d:%d\n", strings.Repeat("  ", d), n.Kind, n.Tag, n.Value, n.Style, n.Line, n.Column)
		for _, c := range n.Content {
			walk(c, d+1)
		}
	}
	if n != nil {
		walk(n, 0)
	}
	return b.String()
}
