package files

import "bytes"

// chunk is one YAML document of a file: its bytes and the 1-based line of
// the file its first byte is on.
type chunk struct {
	data []byte
	line int
}

// splitDocuments cuts a YAML stream at document markers ("---" alone at
// the start of a line, possibly followed by blanks or a comment). YAML ends
// a document at such a marker whatever came before, so the cut is exact and
// each document can be parsed on its own, in parallel. A leading byte-order
// mark is dropped.
func splitDocuments(data []byte) []chunk {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	out := make([]chunk, 0, bytes.Count(data, []byte("\n---"))+1)
	start, startLine, line := 0, 1, 1
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		if l := data[i:next]; isMarker(l) {
			if i > start {
				out = append(out, chunk{data: data[start:i], line: startLine})
			}
			start, startLine = i, line
			if bareMarker(l) {
				// Drop a bare marker line, so that the document's own
				// first line is its line 1 (yaml.v3 reports errors against
				// the start of the enclosing mapping).
				start, startLine = next, line+1+loneCRs(l)
			}
		}
		line += 1 + loneCRs(data[i:next])
		i = next
	}
	if start < len(data) {
		out = append(out, chunk{data: data[start:], line: startLine})
	}
	return out
}

// loneCRs counts carriage returns not followed by a line feed: YAML takes
// each as a line break, and so do the line numbers yaml.v3 reports.
func loneCRs(l []byte) int {
	n := 0
	for i, c := range l {
		if c == '\r' && (i+1 == len(l) || l[i+1] != '\n') {
			n++
		}
	}
	return n
}

func isMarker(l []byte) bool {
	if len(l) < 3 || l[0] != '-' || l[1] != '-' || l[2] != '-' {
		return false
	}
	if len(l) == 3 {
		return true
	}
	switch l[3] {
	case ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// bareMarker: "---" with nothing after it but blanks or a comment.
func bareMarker(l []byte) bool {
	rest := bytes.TrimSpace(l[3:])
	return len(rest) == 0 || rest[0] == '#'
}

// blank reports whether a chunk holds nothing but markers, comments and
// white space.
func blank(data []byte) bool {
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		l := data
		if end >= 0 {
			l, data = data[:end], data[end+1:]
		} else {
			data = nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' || bytes.Equal(l, []byte("---")) || bytes.Equal(l, []byte("...")) ||
			(isMarker(l) && bytes.HasPrefix(bytes.TrimSpace(l[3:]), []byte("#"))) {
			continue
		}
		return false
	}
	return true
}
