// Package crd validates Istio and Gateway API objects against the
// CustomResourceDefinitions those projects publish, using the Kubernetes
// apiextensions-apiserver validation code: the OpenAPI v3 structural schema,
// pruning of unknown fields, defaulting, list-type invariants and the
// x-kubernetes-validations CEL rules, evaluated the way a kube-apiserver
// evaluates them when an object is created.
//
// The CRDs are embedded from data/, copied from the Go module cache by
// hack/gen-crds.sh at the module versions pinned in go.mod.
package crd

//go:generate bash ../hack/gen-crds.sh

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed data/*.yaml
var embedded embed.FS

// FieldError is one validation failure, in the style of
// k8s.io/apimachinery's field.Error: Path is the JSON path of the offending
// field ("spec.http[0].timeout"; empty for the object itself) and Message
// what is wrong with it ("Required value", `Invalid value: "x": ...`).
type FieldError struct {
	Path    string
	Message string
}

// String renders the error as the apiserver does: "path: message".
func (e FieldError) String() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Error implements error.
func (e FieldError) Error() string { return e.String() }

type gvk struct {
	group, version, kind string
}

// Set holds the embedded CRDs, indexed by group/version/kind. The
// validators of a kind are built on its first use (decoding its CRD and
// compiling its CEL rules costs milliseconds per kind, and an analysis uses
// a handful of the fifty-odd kinds), once, under a sync.Once. A Set is safe
// for concurrent use.
type Set struct {
	kinds map[gvk]*entry
}

// entry is one version of one CRD, built on first use.
type entry struct {
	// doc is the CRD document, or only this version of it.
	doc     *document
	version string
	once    sync.Once
	kv      *kindValidator // nil when not served
	err     error
}

// document is one CRD document of an embedded file, decoded on first use.
type document struct {
	name string // file name, for errors
	data []byte
	// When set, only version of data (as scanned into header) is decoded.
	header  *header
	version int
	once    sync.Once
	crd     *apiextensionsv1.CustomResourceDefinition
	err     error
}

func (d *document) decode() (*apiextensionsv1.CustomResourceDefinition, error) {
	d.once.Do(func() {
		data := d.data
		if d.header != nil {
			data = d.header.versionDocument(data, d.version)
		}
		c := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(data, c); err != nil {
			d.err = fmt.Errorf("%s: decode crd: %w", d.name, err)
			return
		}
		d.crd = c
	})
	return d.crd, d.err
}

// get returns the validator of e, building it on first use; nil with a nil
// error when the version is not served.
func (e *entry) get() (*kindValidator, error) {
	e.once.Do(func() {
		c, err := e.doc.decode()
		if err != nil {
			e.err = err
			return
		}
		for i := range c.Spec.Versions {
			if v := &c.Spec.Versions[i]; v.Name == e.version && v.Served {
				e.kv, e.err = newKindValidator(c, v.Name)
				if e.err != nil {
					e.err = fmt.Errorf("%s: crd %s version %s: %w", e.doc.name, c.Name, v.Name, e.err)
				}
				return
			}
		}
	})
	return e.kv, e.err
}

// Load indexes the embedded CRDs. Validators are built lazily, on the first
// Validate of each group/version/kind; use Prepare to build some ahead.
func Load() (*Set, error) {
	return load(embedded, "data")
}

// load indexes every *.yaml file in dir of fsys.
func load(fsys fs.FS, dir string) (*Set, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list crds: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("no crd files embedded")
	}
	s := &Set{kinds: map[gvk]*entry{}}
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		for _, raw := range splitDocuments(data) {
			doc := &document{name: name, data: raw}
			h, scanned := scanHeader(raw)
			if !scanned {
				// Not laid out as expected: decode it now to index it.
				c, err := doc.decode()
				if err != nil {
					return nil, err
				}
				if c.Kind != "CustomResourceDefinition" {
					continue
				}
				h = headerOf(c)
			}
			if !h.isCRD {
				continue
			}
			for i, v := range h.versions {
				key := gvk{h.group, v, h.kind}
				if _, dup := s.kinds[key]; dup {
					return nil, fmt.Errorf("%s: %s/%s %s defined twice", name, h.group, v, h.kind)
				}
				e := &entry{doc: doc, version: v}
				if scanned && len(h.versions) > 1 {
					// Decode just this version when it is first used.
					e.doc = &document{name: name, data: raw, header: &h, version: i}
				}
				s.kinds[key] = e
			}
		}
	}
	return s, nil
}

// splitDocuments returns the non-empty documents of a multi-document YAML
// file, split at "---" lines as utilyaml.YAMLReader does.
func splitDocuments(data []byte) [][]byte {
	var out [][]byte
	add := func(doc []byte) {
		if len(bytes.TrimSpace(doc)) > 0 {
			out = append(out, doc)
		}
	}
	start := 0
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := i + end + 1
		if end < 0 {
			end, next = len(data)-i, len(data)
		}
		line := bytes.TrimRight(data[i:i+end], " \t\r")
		if bytes.Equal(line, []byte("---")) || bytes.HasPrefix(line, []byte("--- ")) || bytes.HasPrefix(line, []byte("---\t")) {
			add(data[start:i])
			start = next
		}
		i = next
	}
	add(data[start:])
	return out
}

// Prepare builds the validators of group/version/kind ahead of its first
// Validate, returning what went wrong building them.
func (s *Set) Prepare(group, version, kind string) error {
	e := s.kinds[gvk{group, version, kind}]
	if e == nil {
		return fmt.Errorf("no crd for %s/%s %s", group, version, kind)
	}
	_, err := e.get()
	return err
}

// PrepareAll builds the validators of every served version of every CRD,
// returning the errors, joined. It takes about a second.
func (s *Set) PrepareAll() error {
	keys := make([]gvk, 0, len(s.kinds))
	for k := range s.kinds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	var errs []error
	for _, k := range keys {
		if _, err := s.kinds[k].get(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (k gvk) less(o gvk) bool {
	if k.group != o.group {
		return k.group < o.group
	}
	if k.kind != o.kind {
		return k.kind < o.kind
	}
	return k.version < o.version
}

// Kinds lists the group/version/kinds the Set has a CRD version for, as
// "group/version, Kind=kind" strings, sorted. Versions that are listed but
// not served are included; Validate reports them unknown.
func (s *Set) Kinds() []string {
	out := make([]string, 0, len(s.kinds))
	for k := range s.kinds {
		out = append(out, k.group+"/"+k.version+", Kind="+k.kind)
	}
	sort.Strings(out)
	return out
}

// sortErrors orders errs by path, then message, and drops exact duplicates.
// Errors about the object as a whole (empty path), such as the note that CEL
// rules were skipped, come last.
func sortErrors(errs []FieldError) []FieldError {
	if len(errs) < 2 {
		return errs
	}
	sort.Slice(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if (a.Path == "") != (b.Path == "") {
			return b.Path == ""
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c < 0
		}
		return a.Message < b.Message
	})
	out := errs[:1]
	for _, e := range errs[1:] {
		if e != out[len(out)-1] {
			out = append(out, e)
		}
	}
	return out
}
