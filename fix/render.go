package fix

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// layout is how a document indents: the step of a nested mapping and the
// offset of a list's dashes from its key (0 in kubectl's style).
type layout struct {
	step, seqIndent int
}

// inferLayout reads the indentation of the first nested block mapping and
// block list under a key.
func inferLayout(obj *yaml.Node) layout {
	lay := layout{step: -1, seqIndent: -1}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Style&yaml.FlowStyle == 0 && v.Line > k.Line {
					if v.Kind == yaml.MappingNode && lay.step < 0 && v.Column > k.Column {
						lay.step = v.Column - k.Column
					}
					if v.Kind == yaml.SequenceNode && lay.seqIndent < 0 && v.Column >= k.Column {
						lay.seqIndent = v.Column - k.Column
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(obj)
	if lay.step <= 0 {
		lay.step = 2
	}
	if lay.seqIndent < 0 {
		lay.seqIndent = 0
	}
	return lay
}

// yaml11Words resolve to booleans or null in YAML 1.1 readers (much of the
// Kubernetes tool chain), so strings spelled so are quoted.
var yaml11Words = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true, "true": true, "false": true,
	"null": true, "~": true, "=": true, "<<": true,
}

// plainSafe reports whether s can be written as a plain scalar and still
// read back as the same string, in YAML 1.1 and 1.2, in block or flow
// context. It errs on the side of quoting.
func plainSafe(s string, flow bool) bool {
	if s == "" || s != strings.TrimSpace(s) || yaml11Words[strings.ToLower(s)] {
		return false
	}
	if strings.ContainsAny(s, "\n\r\t\x85\u2028\u2029") || strings.Contains(s, ": ") || strings.Contains(s, " #") ||
		strings.HasSuffix(s, ":") {
		return false
	}
	if strings.IndexByte("-?:,[]{}#&*!|>'\"%@`.+", s[0]) >= 0 || (s[0] >= '0' && s[0] <= '9' && !wordy(s)) {
		return false
	}
	if flow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	if !printable(s) {
		return false
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!str" && c.Value == s && c.Style == 0
}

// wordy reports whether s, starting with a digit, has a character no YAML
// 1.1 number, date or sexagesimal can hold ("3s", "8080-web"), so that it
// reads as a string in every YAML version.
func wordy(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return !strings.ContainsRune("0123456789abcdefABCDEFxXoO_.:+-", r)
	}) >= 0
}

// doubleQuote writes s as a double-quoted YAML scalar, escaping every
// character YAML does not allow there raw (controls, C1 controls, line and
// paragraph separators, byte-order marks).
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x2028 || r == 0x2029 || r == 0xfeff || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// printable reports whether s holds only characters YAML allows raw in a
// plain or single-quoted scalar on one line.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func singleQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// scalarText renders a scalar node; a string keeps its node's quoting style
// when that style can carry it.
func scalarText(n *yaml.Node, flow bool) string {
	if n.ShortTag() != "!!str" {
		if n.Value == "" {
			return "null"
		}
		return n.Value
	}
	s := n.Value
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return doubleQuote(s)
	case n.Style&yaml.SingleQuotedStyle != 0 && printable(s):
		return singleQuote(s)
	case plainSafe(s, flow):
		return s
	}
	return doubleQuote(s)
}

// props renders a node's anchor and explicit tag.
func props(n *yaml.Node) string {
	s := ""
	if n.Anchor != "" {
		s += "&" + n.Anchor + " "
	}
	if n.Style&yaml.TaggedStyle != 0 && n.Tag != "" {
		s += n.Tag + " "
	}
	return s
}

// flowText renders a node on one line in flow style.
func flowText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.AliasNode:
		return "*" + n.Value
	case yaml.ScalarNode:
		return props(n) + scalarText(n, true)
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = flowText(c)
		}
		return props(n) + "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, flowText(n.Content[i])+": "+flowText(n.Content[i+1]))
		}
		return props(n) + "{" + strings.Join(parts, ", ") + "}"
	}
	return "null"
}

// inlineText renders a value that fits after "key: " or "- ": a scalar or
// an empty collection.
func inlineText(n *yaml.Node) (string, bool) {
	switch {
	case n.Kind == yaml.ScalarNode:
		return scalarText(n, false), true
	case len(n.Content) == 0:
		return flowText(n), true
	}
	return "", false
}

// blockLines renders a non-empty collection as block YAML whose entries
// start at column indent.
func (lay layout) blockLines(n *yaml.Node, indent int) []string {
	pad := strings.Repeat(" ", indent)
	var out []string
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if s, ok := inlineText(c); ok {
				out = append(out, pad+"- "+s)
				continue
			}
			sub := lay.blockLines(c, indent+2)
			sub[0] = pad + "- " + sub[0][indent+2:]
			out = append(out, sub...)
		}
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, lay.pairLines(scalarText(n.Content[i], false), n.Content[i+1], indent)...)
	}
	return out
}

// pairLines renders "key: value" at indent.
func (lay layout) pairLines(key string, v *yaml.Node, indent int) []string {
	pad := strings.Repeat(" ", indent)
	if s, ok := inlineText(v); ok {
		return []string{pad + key + ": " + s}
	}
	child := indent + lay.step
	if v.Kind == yaml.SequenceNode {
		child = indent + lay.seqIndent
	}
	return append([]string{pad + key + ":"}, lay.blockLines(v, child)...)
}
