package files

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	metav1alpha1 "istio.io/api/meta/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/internal/yamlconv"
	"github.com/meshpilot/meshpilot/internal/yamlfast"
	"github.com/meshpilot/meshpilot/mesh"
)

// checkFile rejects what is not text: a NUL byte marks a binary file.
func checkFile(name string, data []byte) *Problem {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return &Problem{File: name, Line: lineAt(data, i), Msg: fmt.Sprintf("binary data (NUL byte at offset %d); not read", i)}
	}
	return nil
}

func lineAt(data []byte, off int) int { return bytes.Count(data[:off], []byte{'\n'}) + 1 }

type docResult struct {
	objects   []*mesh.Object
	problems  []Problem
	notices   []Problem
	unmodeled map[string]int
}

// decoder decodes documents on one goroutine, reusing its buffers.
type decoder struct {
	opts   Options
	buf    bytes.Buffer
	fast   yamlfast.Parser
	budget yamlconv.Budget
}

func newDecoder(opts Options) *decoder { return &decoder{opts: opts} }

// parse parses one document: with the fast parser for the manifest subset
// of YAML, and with yaml.v3 for everything else (and for every error, so
// that messages are yaml.v3's). The tree is valid until the next parse.
func (d *decoder) parse(data []byte) (*yaml.Node, error) {
	if n, err := d.fast.Parse(data); err == nil {
		return n, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	return &root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// document parses and decodes one YAML document.
func (d *decoder) document(ctx context.Context, file string, c chunk) (out docResult) {
	off := c.line - 1
	fail := func(line int, field, format string, args ...any) {
		out.problems = append(out.problems, Problem{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.data) > d.opts.MaxDocumentSize {
		fail(c.line, "", "document of %d bytes is above the %d MiB limit; not read", len(c.data), d.opts.MaxDocumentSize>>20)
		return out
	}
	if !utf8.Valid(c.data) {
		i := invalidUTF8(c.data)
		fail(c.line+bytes.Count(c.data[:i], []byte{'\n'}), "", "invalid UTF-8 (byte 0x%02x); document not read", c.data[i])
		return out
	}
	root, err := d.parse(c.data)
	if err != nil {
		msg := err.Error()
		line := c.line
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line = n + off
			msg = msg[len(m[0]):]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		fail(line, "", "invalid YAML: %s", msg)
		return out
	}
	n := yamlconv.Resolve(root)
	if n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return out
	}
	d.budget.Reset(d.opts.Limits)
	d.object(ctx, file, off, n, "", &d.budget, &out)
	return out
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return 0
}

// object decodes one manifest (or each item of a List).
func (d *decoder) object(ctx context.Context, file string, off int, n *yaml.Node, path string, b *yamlconv.Budget, out *docResult) {
	line := n.Line + off
	fail := func(l int, field, format string, args ...any) {
		out.problems = append(out.problems, Problem{File: file, Line: l, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if n.Kind != yaml.MappingNode {
		fail(line, path, "expected a Kubernetes object (a mapping with apiVersion and kind), got %s", nodeKind(n))
		return
	}
	pairs, errs := yamlconv.Pairs(n, path)
	for _, e := range errs {
		fail(e.Line+off, e.Path, "%s", e.Msg)
	}
	top := map[string]*yaml.Node{}
	for _, p := range pairs {
		top[p.Key] = yamlconv.Resolve(p.Value)
	}
	apiVersion, kind := scalar(top["apiVersion"]), scalar(top["kind"])
	if top["kind"] == nil && top["metadata"] == nil && path == "" {
		// Chart.yaml, values.yaml, a CI config: YAML that is no manifest.
		out.notices = append(out.notices, Problem{File: file, Line: line,
			Msg: "not a Kubernetes object (no kind and no metadata); skipped"})
		return
	}
	if kind == "" || apiVersion == "" {
		missing := "kind"
		if apiVersion == "" {
			missing = "apiVersion"
		}
		fail(line, join(path, missing), "missing %s", missing)
		return
	}
	if items := top["items"]; items != nil && strings.HasSuffix(kind, "List") && apiVersion == "v1" {
		if items.Kind != yaml.SequenceNode {
			fail(items.Line+off, join(path, "items"), "expected a list of objects")
			return
		}
		for i, it := range items.Content {
			if it = yamlconv.Resolve(it); it != nil {
				d.object(ctx, file, off, it, fmt.Sprintf("%sitems[%d]", prefix(path), i), b, out)
			}
		}
		return
	}
	group, version := splitAPIVersion(apiVersion)
	gk := mesh.GroupKind{Group: group, Kind: kind}
	info, ok := mesh.LookupKind(gk)
	if !ok {
		if mesh.ModeledGroup(group) || builtinGroupUnknownKind(group, version, kind) {
			fail(top["kind"].Line+off, join(path, "kind"), "unknown kind %s in %s%s", kind, apiVersion, suggest(gk))
			return
		}
		if out.unmodeled == nil {
			out.unmodeled = map[string]int{}
		}
		out.unmodeled[kind+"."+apiVersion]++
		return
	}
	if !contains(info.Versions, version) {
		fail(top["apiVersion"].Line+off, join(path, "apiVersion"), "%s %s is not a served version of %s (served: %s)",
			kind, apiVersion, kind, strings.Join(prefixAll(group, info.Versions), ", "))
		return
	}
	// The kind's own strings, not the document's: a substring would keep
	// the whole document's text alive as long as the object.
	obj := &mesh.Object{GroupKind: info.GroupKind, Version: info.Versions[slices.Index(info.Versions, version)],
		Source: mesh.Source{File: file, Line: line}}
	if !d.decodeInto(info, obj, top, pairs, off, path, b, fail) {
		return
	}
	if obj.Meta.Name == "" {
		if obj.Meta.GenerateName == "" {
			fail(line, join(path, "metadata.name"), "missing metadata.name")
			return
		}
		obj.Meta.Name = obj.Meta.GenerateName
	}
	if d.opts.Schemas != nil && (mesh.IsIstioGroup(group) || group == mesh.GroupGatewayAPI) {
		d.validateSchema(ctx, obj, n, off, path, b)
	}
	out.objects = append(out.objects, obj)
}

// validateSchema checks the object against its kind's published CRD, as an
// API server would on create, and adds what it finds to the problems
// decoding found; where both name the same field, decoding's message,
// which says what was expected, is kept.
func (d *decoder) validateSchema(ctx context.Context, obj *mesh.Object, n *yaml.Node, off int, path string, b *yamlconv.Budget) {
	v, _, ok := yamlconv.ToValue(n, path, b)
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		return // conversion problems were reported while decoding
	}
	errs, known := d.opts.Schemas.ValidateOwned(ctx, obj.Group, obj.Version, obj.Kind, m)
	if !known || len(errs) == 0 {
		return
	}
	seen := make(map[string]bool, len(obj.SchemaErrors))
	for _, e := range obj.SchemaErrors {
		seen[e.Path] = true
	}
	for _, e := range errs {
		if seen[e.Path] || (e.Path == "" && strings.Contains(e.Message, "some validation rules were not checked")) {
			// The API server's note that CEL rules were skipped because
			// of the errors already reported adds nothing to them.
			continue
		}
		seen[e.Path] = true
		line := obj.Source.Line
		if l := yamlconv.LineOf(n, e.Path); l > 0 {
			line = l + off
		}
		obj.SchemaErrors = append(obj.SchemaErrors, mesh.FieldError{Path: e.Path, Line: line, Message: e.Message})
	}
}

// decodeInto fills obj from the object's top-level fields.
func (d *decoder) decodeInto(info mesh.KindInfo, obj *mesh.Object, top map[string]*yaml.Node, pairs []yamlconv.Pair,
	off int, path string, b *yamlconv.Budget, fail func(int, string, string, ...any)) bool {
	if info.GroupKind == mesh.Secret {
		return d.secret(obj, top, off, path, b, fail)
	}
	if !info.Proto {
		typed := info.New()
		d.buf.Reset()
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, p := range pairs {
			n.Content = append(n.Content, p.KeyN, p.Value)
		}
		errs, ok := yamlconv.ToJSON(&d.buf, n, path, b)
		for _, e := range errs {
			fail(e.Line+off, e.Path, "%s", e.Msg)
		}
		if !ok {
			return false
		}
		if err := json.Unmarshal(d.buf.Bytes(), typed); err != nil {
			fe := jsonFieldError(err, obj.Source.Line)
			if l := yamlconv.LineOf(n, fe.Path); l > 0 {
				fe.Line = l + off
			}
			obj.SchemaErrors = append(obj.SchemaErrors, fe)
		}
		acc, ok := typed.(metav1.ObjectMetaAccessor)
		if !ok {
			fail(obj.Source.Line, path, "internal: %T has no metadata", typed)
			return false
		}
		obj.Meta = acc.GetObjectMeta().(*metav1.ObjectMeta)
		obj.Obj = typed
		return true
	}
	meta, ok := d.meta(top["metadata"], off, path, b, fail)
	if !ok {
		return false
	}
	obj.Meta = meta
	spec := info.New().(proto.Message)
	for _, p := range pairs {
		switch p.Key {
		case "apiVersion", "kind", "metadata":
		case "spec":
			for _, e := range yamlconv.DecodeProto(p.Value, spec.ProtoReflect(), join(path, "spec"), b) {
				obj.SchemaErrors = append(obj.SchemaErrors, mesh.FieldError{Path: e.Path, Line: e.Line + off, Message: e.Msg})
			}
		case "status":
			st := &metav1alpha1.IstioStatus{}
			// Status is written by controllers, not users: keep what reads.
			_ = yamlconv.DecodeProto(p.Value, st.ProtoReflect(), join(path, "status"), b)
			obj.Status = st
			if info.GroupKind == mesh.ServiceEntry {
				obj.StatusAddresses = serviceEntryAddresses(p.Value, path, b)
			}
		default:
			obj.SchemaErrors = append(obj.SchemaErrors, mesh.FieldError{Path: join(path, p.Key), Line: p.KeyN.Line + off,
				Message: fmt.Sprintf("unknown field %q", p.Key)})
		}
	}
	obj.Obj = spec
	return true
}

func (d *decoder) meta(n *yaml.Node, off int, path string, b *yamlconv.Budget, fail func(int, string, string, ...any)) (*metav1.ObjectMeta, bool) {
	meta := &metav1.ObjectMeta{}
	if n == nil {
		return meta, true
	}
	d.buf.Reset()
	errs, ok := yamlconv.ToJSON(&d.buf, n, join(path, "metadata"), b)
	for _, e := range errs {
		fail(e.Line+off, e.Path, "%s", e.Msg)
	}
	if !ok {
		return nil, false
	}
	if err := json.Unmarshal(d.buf.Bytes(), meta); err != nil {
		fe := jsonFieldError(err, n.Line+off)
		fail(fe.Line, join(path, "metadata"+strings.TrimPrefix(fe.Path, "metadata")), "%s", fe.Message)
		return nil, false
	}
	return meta, true
}

// jsonFieldError turns encoding/json's error into a field error.
func jsonFieldError(err error, line int) mesh.FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return mesh.FieldError{Path: te.Field, Line: line, Message: fmt.Sprintf("expected %s, got %s", te.Type, te.Value)}
	}
	return mesh.FieldError{Line: line, Message: err.Error()}
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the scalar %q", truncate(n.Value, 40))
	}
	return "something else"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func splitAPIVersion(av string) (group, version string) {
	if i := strings.LastIndexByte(av, '/'); i >= 0 {
		return av[:i], av[i+1:]
	}
	return "", av
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + "."
}

func prefixAll(group string, versions []string) []string {
	out := make([]string, len(versions))
	for i, v := range versions {
		if group == "" {
			out[i] = v
		} else {
			out[i] = group + "/" + v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// suggest names a modeled kind of the group close to a misspelt one.
func suggest(gk mesh.GroupKind) string {
	best, bestD := "", 4
	for _, k := range mesh.Kinds() {
		if k.Group != gk.Group {
			continue
		}
		if d := editDistance(strings.ToLower(k.Kind), strings.ToLower(gk.Kind)); d < bestD {
			best, bestD = k.Kind, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// serviceEntryAddresses reads the addresses a ServiceEntry's status lists.
func serviceEntryAddresses(n *yaml.Node, path string, b *yamlconv.Budget) []string {
	st := &networking.ServiceEntryStatus{}
	_ = yamlconv.DecodeProto(n, st.ProtoReflect(), join(path, "status"), b)
	var out []string
	for _, a := range st.GetAddresses() {
		if a.GetValue() != "" {
			out = append(out, a.GetValue())
		}
	}
	return out
}
