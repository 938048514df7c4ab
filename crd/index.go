package crd

import (
	"bytes"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// header is what Load needs of a CRD document to index it.
type header struct {
	isCRD    bool
	group    string
	kind     string
	versions []string // every listed version, served or not

	// Where the versions are in the document, when scanned: the end of the
	// "versions:" line, the extent of each item (parallel to versions) and
	// the end of the list.
	listStart, listEnd int
	items              [][2]int
}

// versionDocument returns the document with only its i'th version, so that
// building one version decodes a fraction of a CRD that has several.
func (h *header) versionDocument(doc []byte, i int) []byte {
	out := make([]byte, 0, h.listStart+h.items[i][1]-h.items[i][0]+len(doc)-h.listEnd)
	out = append(out, doc[:h.listStart]...)
	out = append(out, doc[h.items[i][0]:h.items[i][1]]...)
	return append(out, doc[h.listEnd:]...)
}

func headerOf(c *apiextensionsv1.CustomResourceDefinition) header {
	h := header{isCRD: true, group: c.Spec.Group, kind: c.Spec.Names.Kind}
	for _, v := range c.Spec.Versions {
		h.versions = append(h.versions, v.Name)
	}
	return h
}

// scanHeader reads the header of a CRD document in the block layout that
// controller-gen and Istio's generator emit (two-space indentation, plain
// scalars) from its lines alone, sparing Load a YAML decode of megabytes of
// schema. ok is false when the document is laid out otherwise; Load then
// decodes it. A test checks the result against a full decode of every
// embedded document.
func scanHeader(doc []byte) (h header, ok bool) {
	const (
		top = iota
		inSpec
		inNames
		inVersions
	)
	state := top
	var apiVersion, kind string
	leaveVersions := func(at int) {
		if state == inVersions {
			h.listEnd = at
			if n := len(h.items); n > 0 {
				h.items[n-1][1] = at
			}
		}
	}
	for off := 0; off < len(doc); {
		start := off
		var line []byte
		if i := bytes.IndexByte(doc[off:], '\n'); i >= 0 {
			line, off = doc[off:off+i], off+i+1
		} else {
			line, off = doc[off:], len(doc)
		}
		line = bytes.TrimRight(line, " \r")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		indent := len(line) - len(bytes.TrimLeft(line, " "))
		if indent > 4 || line[indent] == '#' {
			continue // schema lines, the bulk of a CRD
		}
		text := string(line[indent:])
		if indent == 0 {
			leaveVersions(start)
			state = top
			switch {
			case text == "spec:":
				state = inSpec
			case strings.HasPrefix(text, "apiVersion:"):
				apiVersion = scalar(text, "apiVersion:")
			case strings.HasPrefix(text, "kind:"):
				kind = scalar(text, "kind:")
			}
			continue
		}
		if state == top {
			continue
		}
		if indent == 2 && !strings.HasPrefix(text, "- ") {
			leaveVersions(start)
			state = inSpec
			switch {
			case strings.HasPrefix(text, "group:"):
				h.group = scalar(text, "group:")
			case text == "names:":
				state = inNames
			case text == "versions:":
				if h.listStart != 0 {
					return header{}, false // twice
				}
				state, h.listStart = inVersions, off
			}
			continue
		}
		switch state {
		case inNames:
			if indent == 4 && strings.HasPrefix(text, "kind:") {
				h.kind = scalar(text, "kind:")
			}
		case inVersions:
			// A version is a list item at indent 2 whose keys sit at indent
			// 4; its name is either on the item line or a later key.
			if indent == 2 && strings.HasPrefix(text, "- ") {
				if n := len(h.items); n > 0 {
					h.items[n-1][1] = start
				}
				h.items = append(h.items, [2]int{start, 0})
				text, indent = text[2:], 4
			}
			if indent == 4 && strings.HasPrefix(text, "name:") {
				h.versions = append(h.versions, scalar(text, "name:"))
			}
		}
	}
	leaveVersions(len(doc))
	h.isCRD = apiVersion == "apiextensions.k8s.io/v1" && kind == "CustomResourceDefinition"
	if !h.isCRD {
		// Whatever it is, the full decode decides.
		return header{}, false
	}
	for _, s := range append([]string{h.group, h.kind}, h.versions...) {
		if s == "" || strings.ContainsAny(s, "\"'{}[]&*!|>%@`") {
			return header{}, false
		}
	}
	if len(h.items) != len(h.versions) {
		return header{}, false // a version without a name, or two names
	}
	return h, len(h.versions) > 0
}

// scalar returns the plain scalar after key in "key: value".
func scalar(text, key string) string {
	v := strings.TrimSpace(strings.TrimPrefix(text, key))
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}
