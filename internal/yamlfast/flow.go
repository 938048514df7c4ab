package yamlfast

import "gopkg.in/yaml.v3"

// flow parses a flow collection at x that fits the simple one-line form
// "[]", "{}" or "[item, item]" with quoted or simple plain scalar items.
// It returns the node and the position after the closing bracket.
func (p *Parser) flow(x int) (*yaml.Node, int) {
	s := p.src
	end := p.ce
	if s[x] == '{' {
		if x+1 < end && s[x+1] == '}' {
			n := p.newNode(yaml.MappingNode, tagMap, p.line, p.col(x))
			n.Style = yaml.FlowStyle
			return n, x + 2
		}
		return nil, 0
	}
	n := p.newNode(yaml.SequenceNode, tagSeq, p.line, p.col(x))
	n.Style = yaml.FlowStyle
	base := len(p.stack)
	i := x + 1
	for i < end && s[i] == ' ' {
		i++
	}
	if i < end && s[i] == ']' {
		return n, i + 1
	}
	for {
		if i >= end {
			return nil, 0
		}
		var item *yaml.Node
		switch c := s[i]; {
		case c == '"' || c == '\'':
			item, i = p.quoted(i)
			if item == nil {
				return nil, 0
			}
		case flowPlainStart(c) || c == '-' && i+1 < end && flowPlainChar(s[i+1]):
			j := i + 1
			for j < end && flowPlainChar(s[j]) {
				j++
			}
			item = p.newNode(yaml.ScalarNode, "", p.line, p.col(i))
			item.Value = s[i:j]
			item.Tag = resolvePlain(item.Value)
			i = j
		default:
			return nil, 0
		}
		p.stack = append(p.stack, item)
		for i < end && s[i] == ' ' {
			i++
		}
		if i >= end {
			return nil, 0
		}
		if s[i] == ']' {
			break
		}
		if s[i] != ',' {
			return nil, 0
		}
		i++
		for i < end && s[i] == ' ' {
			i++
		}
	}
	n.Content = p.children(base)
	return n, i + 1
}

func flowPlainStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '/' || c == '.' || c == '+' || c == '~'
}

func flowPlainChar(c byte) bool {
	return flowPlainStart(c) || c == '-' || c == '%'
}
