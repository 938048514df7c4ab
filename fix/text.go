package fix

import (
	"strings"
	"unicode/utf8"
)

// text is a file as lines, each with its own line break, so that untouched
// lines are written back byte for byte.
type text struct {
	lines []string // without their line break
	eols  []string // "\n", "\r\n", a lone "\r", or "" for a last line without one
	eol   string   // the break for new lines
}

func splitText(src []byte) *text {
	t := &text{eol: "\n"}
	s := string(src)
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			t.lines, t.eols = append(t.lines, s), append(t.eols, "")
			break
		}
		n := 1
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			n = 2
			t.eol = "\r\n"
		}
		t.lines, t.eols = append(t.lines, s[:i]), append(t.eols, s[i:i+n])
		s = s[i+n:]
	}
	return t
}

func (t *text) bytes() []byte {
	var b strings.Builder
	for i, l := range t.lines {
		b.WriteString(l)
		b.WriteString(t.eols[i])
	}
	return []byte(b.String())
}

// join returns lines [lo, hi) as one string.
func (t *text) join(lo, hi int) string {
	var b strings.Builder
	for i := lo; i < hi; i++ {
		b.WriteString(t.lines[i])
		b.WriteString(t.eols[i])
	}
	return b.String()
}

func (t *text) clone() *text {
	return &text{lines: append([]string(nil), t.lines...), eols: append([]string(nil), t.eols...), eol: t.eol}
}

// replace puts repl in place of lines [a, b). Every line but the file's last
// ends with a break; the last keeps whether it had one.
func (t *text) replace(a, b int, repl []string) {
	n := len(t.lines)
	finalEOL := ""
	if n > 0 {
		finalEOL = t.eols[n-1]
	}
	eols := make([]string, len(repl))
	for i := range eols {
		eols[i] = t.eol
	}
	t.lines = append(t.lines[:a:a], append(repl, t.lines[b:]...)...)
	t.eols = append(t.eols[:a:a], append(eols, t.eols[b:]...)...)
	for i := 0; i+1 < len(t.eols); i++ {
		if t.eols[i] == "" {
			t.eols[i] = t.eol
		}
	}
	if b == n && len(t.eols) > 0 {
		t.eols[len(t.eols)-1] = finalEOL
	}
}

// byteCol turns yaml.v3's 1-based column (in characters) on line i into a
// byte offset.
func (t *text) byteCol(i, col int) int {
	l := t.lines[i]
	off := 0
	for c := 1; c < col && off < len(l); c++ {
		_, size := utf8.DecodeRuneInString(l[off:])
		off += size
	}
	return off
}

func indentOf(l string) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

func isComment(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "#") }

// dashAt reports whether l has a block sequence indicator at byte c.
func dashAt(l string, c int) bool {
	return c < len(l) && l[c] == '-' && (c+1 == len(l) || l[c+1] == ' ' || l[c+1] == '\t')
}

// isMarker reports a document marker line ("---" at the start of a line).
func isMarker(l string) bool {
	return strings.HasPrefix(l, "---") && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

func bareMarker(l string) bool {
	rest := strings.TrimSpace(l[3:])
	return rest == "" || rest[0] == '#'
}

// documentAt returns the line range [lo, hi) of the YAML document holding
// line index i, cut at "---" markers as the loader cuts them. A bare marker
// line is left out, so that yaml.v3's line 1 is the document's first line.
func (t *text) documentAt(i int) (lo, hi int) {
	lo, hi = 0, len(t.lines)
	for j, l := range t.lines {
		if !isMarker(l) {
			continue
		}
		if j > i {
			return lo, j
		}
		lo = j
		if bareMarker(l) {
			lo = j + 1
		}
	}
	return lo, hi
}

// scalarEnd returns the byte offset just past a single-line scalar that
// starts at byte s of l in block context, or -1 when it does not end on
// this line.
func scalarEnd(l string, s int) int {
	if s >= len(l) {
		return -1
	}
	switch l[s] {
	case '"':
		for i := s + 1; i < len(l); i++ {
			switch l[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '\'':
		for i := s + 1; i < len(l); i++ {
			if l[i] == '\'' {
				if i+1 < len(l) && l[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return -1
	}
	end := len(l)
	for i := s; i < len(l); i++ {
		c := l[i]
		if (c == '#' && i > s && (l[i-1] == ' ' || l[i-1] == '\t')) ||
			(c == ':' && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t')) {
			end = i
			break
		}
	}
	return len(strings.TrimRight(l[:end], " \t"))
}

// flowEnd finds the bracket closing the flow collection that opens at line
// i, byte s, skipping quoted scalars and comments. It returns the line and
// the byte just past the bracket, or ok false.
func (t *text) flowEnd(i, s, hi int) (line, end int, ok bool) {
	depth := 0
	quote := byte(0)
	token := true // at the start of a token, where a quote opens a scalar
	for ; i < hi; i, s = i+1, 0 {
		l := t.lines[i]
		for j := s; j < len(l); j++ {
			c := l[j]
			switch {
			case quote == '"':
				if c == '\\' {
					j++
				} else if c == '"' {
					quote = 0
				}
			case quote == '\'':
				if c == '\'' {
					if j+1 < len(l) && l[j+1] == '\'' {
						j++
					} else {
						quote = 0
					}
				}
			case c == ' ' || c == '\t':
			case (c == '"' || c == '\'') && token:
				quote, token = c, false
			case c == '#' && (j == 0 || l[j-1] == ' ' || l[j-1] == '\t'):
				j = len(l)
			case c == '[' || c == '{' || c == ',':
				if c != ',' {
					depth++
				}
				token = true
			case c == ']' || c == '}':
				depth--
				if depth == 0 {
					return i, j + 1, true
				}
				token = false
			case c == ':' && (j+1 == len(l) || strings.IndexByte(" \t,[]{}", l[j+1]) >= 0 || (j > 0 && (l[j-1] == '"' || l[j-1] == '\''))):
				token = true
			default:
				token = false
			}
		}
	}
	return 0, 0, false
}
