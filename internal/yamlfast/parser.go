// Package yamlfast is a fast, allocation-free parser for the subset of YAML
// used by Kubernetes and Istio manifests. It produces the same *yaml.Node
// tree as gopkg.in/yaml.v3 (Kind, Tag, Value, Style, Line, Column and
// structure; comments are dropped) and reports ErrUnsupported for anything
// it cannot reproduce exactly, so that callers can fall back to yaml.v3.
package yamlfast

import (
	"errors"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ErrUnsupported is returned when the document uses YAML outside the fast
// subset, or is not valid YAML. Callers should parse it with yaml.v3.
var ErrUnsupported = errors.New("yamlfast: unsupported YAML; use yaml.v3")

// MaxDepth bounds the nesting of block collections.
const MaxDepth = 1000

// maxKeyLen keeps implicit keys well below yaml.v3's 1024 character limit.
const maxKeyLen = 1000

const (
	nodeChunk = 1024
	ptrChunk  = 2048

	maxKeptChunks = 16
)

// Parser parses YAML documents. A Parser is not safe for concurrent use;
// use one per goroutine. It recycles its node storage: the tree returned
// by Parse is valid only until the next call to Parse on the same Parser
// (the strings in it stay valid for ever).
type Parser struct {
	src string

	// Current line: [ls, le) with le at '\n' or len(src); ce excludes a
	// trailing '\r'.
	ls, le, ce int
	line       int

	nonASCII bool
	colPos   int // cached rune column: position colPos on line colLS
	colLS    int
	colVal   int

	depth int
	fail  bool

	nodes    [][]yaml.Node
	nodeC    int // current chunk
	nodeI    int // next free in current chunk
	ptrs     [][]*yaml.Node
	ptrC     int
	ptrI     int
	stack    []*yaml.Node
	buf      []byte
	document yaml.Node
}

// Parse parses one YAML document (already split at "---" lines; it may
// start with a "---" line) and returns the DocumentNode yaml.v3's
// yaml.Unmarshal would produce, or ErrUnsupported.
func (p *Parser) Parse(doc []byte) (*yaml.Node, error) {
	if !p.check(doc) {
		return nil, ErrUnsupported
	}
	p.reset(string(doc))
	n := p.document0()
	if p.fail || n == nil {
		p.src = ""
		return nil, ErrUnsupported
	}
	return n, nil
}

func (p *Parser) reset(src string) {
	// Do not keep the storage of an unusually large document for ever.
	if len(p.nodes) > maxKeptChunks {
		clear(p.nodes[maxKeptChunks:])
		p.nodes = p.nodes[:maxKeptChunks]
	}
	if len(p.ptrs) > maxKeptChunks {
		clear(p.ptrs[maxKeptChunks:])
		p.ptrs = p.ptrs[:maxKeptChunks]
	}
	if cap(p.stack) > maxKeptChunks*ptrChunk {
		p.stack = nil
	}
	if cap(p.buf) > 1<<20 {
		p.buf = nil
	}
	p.src = src
	p.ls, p.line = 0, 1
	p.setLine()
	p.colLS = -1
	p.depth = 0
	p.fail = false
	p.nodeC, p.nodeI = 0, 0
	p.ptrC, p.ptrI = 0, 0
	p.stack = p.stack[:0]
}

// check rejects input yaml.v3 would reject at the character level, and
// characters whose handling we do not reproduce (lone CR, NEL, LS, PS,
// BOM, control characters, invalid UTF-8).
func (p *Parser) check(b []byte) bool {
	p.nonASCII = false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x20 && c < 0x7f {
			continue
		}
		switch {
		case c == '\n' || c == '\t':
		case c == '\r':
			if i+1 >= len(b) || b[i+1] != '\n' {
				return false
			}
		case c < 0x80:
			return false
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return false
			}
			if r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF) {
				return false
			}
			p.nonASCII = true
			i += size - 1
		}
	}
	return true
}

func (p *Parser) setLine() {
	s := p.src
	i := len(s)
	if p.ls < len(s) {
		if j := strings.IndexByte(s[p.ls:], '\n'); j >= 0 {
			i = p.ls + j
		}
	}
	p.le = i
	if i > p.ls && s[i-1] == '\r' {
		i--
	}
	p.ce = i
}

// nextLine moves to the start of the following line.
func (p *Parser) nextLine() {
	if p.le >= len(p.src) {
		p.ls = len(p.src) + 1
		p.le, p.ce = p.ls, p.ls
		return
	}
	p.ls = p.le + 1
	p.line++
	p.setLine()
}

func (p *Parser) eof() bool { return p.ls >= len(p.src) }

// content skips blank and comment lines. It returns the indentation of the
// next content line, or -1 at the end of the document (or on failure).
func (p *Parser) content() int {
	s := p.src
	for !p.eof() {
		i := p.ls
		for i < p.ce && s[i] == ' ' {
			i++
		}
		if i < p.ce {
			switch s[i] {
			case '\t':
				return p.unsupported()
			case '#':
			default:
				if i == p.ls && p.ce-i >= 3 && (s[i:i+3] == "---" || s[i:i+3] == "...") &&
					(p.ce-i == 3 || s[i+3] == ' ' || s[i+3] == '\t') {
					return p.unsupported()
				}
				return i - p.ls
			}
		}
		p.nextLine()
	}
	return -1
}

func (p *Parser) unsupported() int {
	p.fail = true
	return -1
}

// col returns the 1-based column of position x on the current line.
func (p *Parser) col(x int) int {
	if !p.nonASCII {
		return x - p.ls + 1
	}
	if p.colLS != p.ls || x < p.colPos {
		p.colLS, p.colPos, p.colVal = p.ls, p.ls, 1
	}
	p.colVal += utf8.RuneCountInString(p.src[p.colPos:x])
	p.colPos = x
	return p.colVal
}

func (p *Parser) newNode(kind yaml.Kind, tag string, line, col int) *yaml.Node {
	if p.nodeC == len(p.nodes) {
		p.nodes = append(p.nodes, make([]yaml.Node, nodeChunk))
	}
	c := p.nodes[p.nodeC]
	n := &c[p.nodeI]
	*n = yaml.Node{Kind: kind, Tag: tag, Line: line, Column: col}
	p.nodeI++
	if p.nodeI == len(c) {
		p.nodeC++
		p.nodeI = 0
	}
	return n
}

// children moves stack[base:] into node storage and returns it.
func (p *Parser) children(base int) []*yaml.Node {
	k := len(p.stack) - base
	if k == 0 {
		return nil
	}
	for {
		if p.ptrC == len(p.ptrs) {
			size := ptrChunk
			if k > size {
				size = k
			}
			p.ptrs = append(p.ptrs, make([]*yaml.Node, size))
		}
		c := p.ptrs[p.ptrC]
		if len(c)-p.ptrI >= k {
			out := c[p.ptrI : p.ptrI+k : p.ptrI+k]
			copy(out, p.stack[base:])
			p.ptrI += k
			p.stack = p.stack[:base]
			return out
		}
		if k > len(c) && p.ptrI == 0 {
			// Too small for this collection: replace it.
			p.ptrs[p.ptrC] = make([]*yaml.Node, k)
			continue
		}
		p.ptrC++
		p.ptrI = 0
	}
}

func (p *Parser) document0() *yaml.Node {
	s := p.src
	doc := &p.document
	*doc = yaml.Node{Kind: yaml.DocumentNode}
	explicit := false
	if len(s) >= 3 && s[:3] == "---" {
		for i := 3; i < p.ce; i++ {
			if s[i] != ' ' {
				return nil
			}
		}
		if p.ce == 3 || s[3] == ' ' || s[3] == '\r' || s[3] == '\n' {
			explicit = true
			p.nextLine()
		} else {
			return nil
		}
	}
	ind := p.content()
	if ind < 0 {
		return nil
	}
	if explicit {
		doc.Line, doc.Column = 1, 1
	} else {
		doc.Line, doc.Column = p.line, p.col(p.ls+ind)
	}
	root := p.node(p.ls+ind, -1, true)
	if root == nil || p.fail {
		return nil
	}
	if p.content() >= 0 || p.fail {
		return nil
	}
	p.ptrsFor(doc, root)
	return doc
}

func (p *Parser) ptrsFor(doc, root *yaml.Node) {
	base := len(p.stack)
	p.stack = append(p.stack, root)
	doc.Content = p.children(base)
}

// plainSpecial marks the bytes the plain scalar scanner must look at.
var plainSpecial = [256]byte{' ': 1, '\t': 1, ':': 1, '#': 1}

func isBlankAt(s string, i, end int) bool {
	return i >= end || s[i] == ' ' || s[i] == '\t'
}

// node parses the block node starting at x on the current line. indent is
// the indentation of the enclosing block collection (-1 at the root);
// compact allows a collection to start on this line (at line start or
// after "- ").
func (p *Parser) node(x, indent int, compact bool) *yaml.Node {
	s := p.src
	end := p.ce
	switch s[x] {
	case '-':
		if isBlankAt(s, x+1, end) {
			if !compact {
				return nil
			}
			return p.sequence(x, false)
		}
	case '|', '>':
		return p.blockScalar(x, indent)
	case '[', '{':
		n, e := p.flow(x)
		if n == nil || !p.trailer(e) {
			return nil
		}
		p.nextLine()
		return n
	}
	n, e, isKey := p.scalarOrKey(x)
	if n == nil {
		return nil
	}
	if isKey {
		if !compact {
			return nil
		}
		return p.mapping(x, n, e)
	}
	plain := n.Style == 0
	p.nextLine()
	if plain {
		// A more indented line would continue a multi-line plain scalar.
		if ind := p.content(); ind > indent {
			return nil
		}
	}
	return n
}

// trailer checks that only spaces and a comment follow position e.
func (p *Parser) trailer(e int) bool {
	s := p.src
	i := e
	for i < p.ce && s[i] == ' ' {
		i++
	}
	if i == p.ce {
		return true
	}
	return i > e && s[i] == '#'
}

// scalarOrKey scans a plain or quoted scalar at x on the current line. If it
// is followed by ':' and a blank it is an implicit key, and e is the
// position after the ':'. Otherwise the rest of the line holds only blanks
// and a comment (checked here).
func (p *Parser) scalarOrKey(x int) (n *yaml.Node, e int, isKey bool) {
	s := p.src
	end := p.ce
	c := s[x]
	if c == '"' || c == '\'' {
		n, e = p.quoted(x)
		if n == nil {
			return nil, 0, false
		}
		i := e
		for i < end && s[i] == ' ' {
			i++
		}
		if i < end && s[i] == ':' && isBlankAt(s, i+1, end) {
			if i-x > maxKeyLen {
				return nil, 0, false
			}
			return n, i + 1, true
		}
		if !p.trailer(e) {
			return nil, 0, false
		}
		return n, e, false
	}
	switch c {
	case '-', '?', ':':
		if isBlankAt(s, x+1, end) {
			return nil, 0, false
		}
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return nil, 0, false
	}
	// Plain scalar: ends at ": ", " #" or the end of the line.
	last := x // end of the last non-blank run
	i := x
	for i < end {
		b := s[i]
		if plainSpecial[b] == 0 {
			i++
			last = i
			continue
		}
		switch b {
		case ' ':
			i++
			continue
		case '\t':
			return nil, 0, false
		case ':':
			if isBlankAt(s, i+1, end) {
				if i-x > maxKeyLen {
					return nil, 0, false
				}
				n = p.newNode(yaml.ScalarNode, "", p.line, p.col(x))
				n.Value = s[x:last]
				n.Tag = resolvePlain(n.Value)
				return n, i + 1, true
			}
		case '#':
			if s[i-1] == ' ' {
				goto done
			}
		}
		i++
		last = i
	}
done:
	n = p.newNode(yaml.ScalarNode, "", p.line, p.col(x))
	n.Value = s[x:last]
	n.Tag = resolvePlain(n.Value)
	return n, last, false
}

// quoted scans a single-line quoted scalar starting at x. e is the
// position after the closing quote.
func (p *Parser) quoted(x int) (*yaml.Node, int) {
	s := p.src
	end := p.ce
	q := s[x]
	i := x + 1
	if q == '\'' {
		esc := false
		for {
			if i >= end {
				return nil, 0
			}
			if s[i] == '\'' {
				if i+1 < end && s[i+1] == '\'' {
					esc = true
					i += 2
					continue
				}
				break
			}
			i++
		}
		n := p.newNode(yaml.ScalarNode, tagStr, p.line, p.col(x))
		n.Style = yaml.SingleQuotedStyle
		if !esc {
			n.Value = s[x+1 : i]
		} else {
			b := p.buf[:0]
			for j := x + 1; j < i; j++ {
				b = append(b, s[j])
				if s[j] == '\'' {
					j++
				}
			}
			p.buf = b
			n.Value = string(b)
		}
		return n, i + 1
	}
	// Double-quoted.
	start := i
	for i < end && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i >= end {
		return nil, 0
	}
	n := p.newNode(yaml.ScalarNode, tagStr, p.line, p.col(x))
	n.Style = yaml.DoubleQuotedStyle
	if s[i] == '"' {
		n.Value = s[start:i]
		return n, i + 1
	}
	b := append(p.buf[:0], s[start:i]...)
	for {
		if i >= end {
			return nil, 0
		}
		c := s[i]
		if c == '"' {
			break
		}
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= end {
			return nil, 0 // escaped line break or end of input
		}
		i += 2
		size := 0
		switch s[i-1] {
		case '0':
			b = append(b, 0)
		case 'a':
			b = append(b, '\a')
		case 'b':
			b = append(b, '\b')
		case 't', '\t':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'v':
			b = append(b, '\v')
		case 'f':
			b = append(b, '\f')
		case 'r':
			b = append(b, '\r')
		case 'e':
			b = append(b, 0x1b)
		case ' ':
			b = append(b, ' ')
		case '"':
			b = append(b, '"')
		case '\'':
			b = append(b, '\'')
		case '\\':
			b = append(b, '\\')
		case 'N':
			b = append(b, "\u0085"...)
		case '_':
			b = append(b, "\u00a0"...)
		case 'L':
			b = append(b, "\u2028"...)
		case 'P':
			b = append(b, "\u2029"...)
		case 'x':
			size = 2
		case 'u':
			size = 4
		case 'U':
			size = 8
		default:
			return nil, 0
		}
		if size > 0 {
			if i+size > end {
				return nil, 0
			}
			v := 0
			for k := 0; k < size; k++ {
				h := s[i+k]
				switch {
				case h >= '0' && h <= '9':
					v = v<<4 + int(h-'0')
				case h >= 'a' && h <= 'f':
					v = v<<4 + int(h-'a'+10)
				case h >= 'A' && h <= 'F':
					v = v<<4 + int(h-'A'+10)
				default:
					return nil, 0
				}
			}
			if (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF {
				return nil, 0
			}
			if v <= 0x7f {
				b = append(b, byte(v))
			} else {
				b = utf8.AppendRune(b, rune(v))
			}
			i += size
		}
	}
	p.buf = b
	n.Value = string(b)
	return n, i + 1
}

// mapping parses a block mapping at column of x whose first key k has been
// scanned; e is the position after its ':'.
func (p *Parser) mapping(x int, k *yaml.Node, e int) *yaml.Node {
	if p.depth++; p.depth > MaxDepth {
		return nil
	}
	s := p.src
	m := x - p.ls // indentation (in bytes == columns: only spaces, "- " precede)
	if p.nonASCII && p.col(x) != m+1 {
		return nil
	}
	n := p.newNode(yaml.MappingNode, tagMap, k.Line, k.Column)
	base := len(p.stack)
	for {
		p.stack = append(p.stack, k)
		// Value.
		i := e
		for i < p.ce && s[i] == ' ' {
			i++
		}
		var v *yaml.Node
		if i < p.ce && s[i] != '#' {
			if s[i] == '\t' {
				return nil
			}
			v = p.node(i, m, false)
		} else if i < p.ce && i == e {
			return nil // "key:#"
		} else {
			line, col := p.line, p.col(e)
			p.nextLine()
			ind := p.content()
			switch {
			case ind > m:
				v = p.node(p.ls+ind, m, true)
			case ind == m && s[p.ls+ind] == '-' && isBlankAt(s, p.ls+ind+1, p.ce):
				v = p.sequence(p.ls+ind, true)
			default:
				if p.fail {
					return nil
				}
				v = p.newNode(yaml.ScalarNode, tagNull, line, col)
			}
		}
		if v == nil || p.fail {
			return nil
		}
		p.stack = append(p.stack, v)
		// Next key.
		ind := p.content()
		if ind < m {
			break
		}
		if ind > m {
			return nil
		}
		x = p.ls + ind
		var isKey bool
		k, e, isKey = p.scalarOrKey(x)
		if k == nil || !isKey {
			return nil
		}
	}
	if p.fail {
		return nil
	}
	n.Content = p.children(base)
	p.depth--
	return n
}

// sequence parses a block sequence whose first "-" is at x. An indentless
// sequence (a mapping value at the mapping's indentation) ends at the
// first line at its indentation that is not an entry.
func (p *Parser) sequence(x int, indentless bool) *yaml.Node {
	if p.depth++; p.depth > MaxDepth {
		return nil
	}
	s := p.src
	m := x - p.ls
	if p.nonASCII && p.col(x) != m+1 {
		return nil
	}
	n := p.newNode(yaml.SequenceNode, tagSeq, p.line, m+1)
	base := len(p.stack)
	for {
		i := x + 1
		for i < p.ce && s[i] == ' ' {
			i++
		}
		var v *yaml.Node
		if i < p.ce && s[i] != '#' {
			if s[i] == '\t' {
				return nil
			}
			v = p.node(i, m, true)
		} else if i < p.ce && i == x+1 {
			return nil
		} else {
			line, col := p.line, m+2
			p.nextLine()
			ind := p.content()
			if ind > m {
				v = p.node(p.ls+ind, m, true)
			} else {
				if p.fail {
					return nil
				}
				v = p.newNode(yaml.ScalarNode, tagNull, line, col)
			}
		}
		if v == nil || p.fail {
			return nil
		}
		p.stack = append(p.stack, v)
		ind := p.content()
		if ind < m {
			break
		}
		if ind > m {
			return nil
		}
		x = p.ls + ind
		if s[x] != '-' || !isBlankAt(s, x+1, p.ce) {
			if indentless {
				break
			}
			return nil
		}
	}
	if p.fail {
		return nil
	}
	n.Content = p.children(base)
	p.depth--
	return n
}

// blockScalar parses a literal or folded scalar whose indicator is at x.
// indent is the indentation of the enclosing block collection.
func (p *Parser) blockScalar(x, indent int) *yaml.Node {
	s := p.src
	literal := s[x] == '|'
	n := p.newNode(yaml.ScalarNode, tagStr, p.line, p.col(x))
	if literal {
		n.Style = yaml.LiteralStyle
	} else {
		n.Style = yaml.FoldedStyle
	}
	i := x + 1
	chomp := 0
	if i < p.ce && (s[i] == '+' || s[i] == '-') {
		chomp = 1
		if s[i] == '-' {
			chomp = -1
		}
		i++
	}
	if i < p.ce && isDigit(s[i]) {
		return nil // explicit indentation: let yaml.v3 handle it
	}
	for i < p.ce && s[i] == ' ' {
		i++
	}
	if i < p.ce && s[i] != '#' {
		return nil
	}
	p.nextLine()

	// Leading empty lines and auto-detected indentation.
	b := p.buf[:0]
	maxInd := 0
	for !p.eof() {
		j := p.ls
		for j < p.ce && s[j] == ' ' {
			j++
		}
		if j-p.ls > maxInd {
			maxInd = j - p.ls
		}
		if j < p.ce {
			if s[j] == '\t' {
				return nil
			}
			break
		}
		if p.le >= len(s) {
			break // spaces then end of input: no line break
		}
		b = append(b, '\n')
		p.nextLine()
	}
	ind := maxInd
	if ind < indent+1 {
		ind = indent + 1
	}
	if ind < 1 {
		ind = 1
	}
	nTrailing := len(b) // pending line breaks
	b = b[:0]
	leadingBreak := false // a '\n' pending after the previous content line
	leadingBlank := false
	first := true
	for !p.eof() {
		// At a line start: is the line content (at least ind spaces and
		// something more)?
		j := p.ls
		for j < p.ce && j-p.ls < ind && s[j] == ' ' {
			j++
		}
		if j-p.ls < ind {
			if j < p.ce || p.le >= len(s) {
				if j < p.ce && s[j] == '\t' {
					return nil
				}
				break // less indented: end of scalar
			}
			// Empty line.
			nTrailing++
			p.nextLine()
			continue
		}
		if j == p.ce {
			if p.le >= len(s) {
				break // indentation then end of input
			}
			nTrailing++
			p.nextLine()
			continue
		}
		trailingBlank := s[j] == ' ' || s[j] == '\t'
		if !literal && !first && leadingBreak && !leadingBlank && !trailingBlank {
			if nTrailing == 0 {
				b = append(b, ' ')
			}
		} else if leadingBreak {
			b = append(b, '\n')
		}
		for ; nTrailing > 0; nTrailing-- {
			b = append(b, '\n')
		}
		leadingBlank = trailingBlank
		b = append(b, s[j:p.ce]...)
		first = false
		leadingBreak = p.le < len(s)
		p.nextLine()
	}
	if chomp != -1 && leadingBreak {
		b = append(b, '\n')
	}
	if chomp == 1 {
		for ; nTrailing > 0; nTrailing-- {
			b = append(b, '\n')
		}
	}
	p.buf = b
	if len(b) > 0 {
		n.Value = string(b)
	}
	return n
}
