package crd

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/yamlconv"

	yamlv3 "gopkg.in/yaml.v3"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"
)

// testSet is loaded once for the package's tests; Load itself is tested
// separately.
var testSet = sync.OnceValues(Load)

func set(t testing.TB) *Set {
	t.Helper()
	s, err := testSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// doc is one object of a testdata file.
type doc struct {
	name                 string
	group, version, kind string
	raw                  []byte
}

func readDocs(t testing.TB, file string) []doc {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []doc
	for i, raw := range splitDocuments(data) {
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(raw, &tm); err != nil {
			t.Fatalf("%s: document %d: %v", file, i, err)
		}
		g, v, _ := strings.Cut(tm.APIVersion, "/")
		out = append(out, doc{
			name:  fmt.Sprintf("%s/%d-%s-%s", filepath.Base(file), i, tm.Kind, tm.Metadata.Name),
			group: g, version: v, kind: tm.Kind, raw: raw,
		})
	}
	return out
}

// decoders turn a document into map[string]any the ways meshpilot's
// loaders may: through JSON (float64 numbers) and with yaml.v3 (int).
var decoders = map[string]func([]byte) (map[string]any, error){
	"sigs.k8s.io/yaml": func(b []byte) (map[string]any, error) {
		var m map[string]any
		err := yaml.Unmarshal(b, &m)
		return m, err
	},
	"yaml.v3": func(b []byte) (map[string]any, error) {
		var m map[string]any
		err := yamlv3.Unmarshal(b, &m)
		return m, err
	},
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	m, err := decoders["sigs.k8s.io/yaml"](b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidObjectsPass(t *testing.T) {
	s := set(t)
	for _, d := range readDocs(t, "testdata/valid.yaml") {
		for dname, dec := range decoders {
			t.Run(d.name+"/"+dname, func(t *testing.T) {
				obj, err := dec(d.raw)
				if err != nil {
					t.Fatal(err)
				}
				errs, ok := s.Validate(context.Background(), d.group, d.version, d.kind, obj)
				if !ok {
					t.Fatalf("no crd for %s/%s %s", d.group, d.version, d.kind)
				}
				for _, e := range errs {
					t.Errorf("unexpected error: %s", e)
				}
			})
		}
	}
}

func TestInvalidObjects(t *testing.T) {
	const skipped = "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
	const unknown = "Unknown field: field not declared in schema"
	tests := []struct {
		file string
		want []FieldError
	}{
		{"vs-timeout-number.yaml", []FieldError{
			{"spec.http[0].timeout", `Invalid value: "integer": spec.http[0].timeout in body must be of type string: "integer"`},
			{"", skipped},
		}},
		{"vs-timeout-too-short.yaml", []FieldError{
			{"spec.http[0].timeout", `Invalid value: "500us": must be a valid duration greater than 1ms`},
		}},
		{"vs-unknown-field.yaml", []FieldError{
			{"metadata.colour", unknown},
			{"spec.http[0].route[0].wieght", unknown},
		}},
		{"dr-missing-host.yaml", []FieldError{
			{"spec.host", "Required value"},
			{"spec.subsets[0].name", "Required value"},
			{"", skipped},
		}},
		{"ap-enum.yaml", []FieldError{
			{"spec.action", `Unsupported value: "BLOCK": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"`},
			{"", skipped},
		}},
		{"ap-selector-and-targetref.yaml", []FieldError{
			{"spec", "Invalid value: only one of targetRefs or selector can be set"},
		}},
		{"ap-serviceaccounts-with-principals.yaml", []FieldError{
			{"spec.rules[0].from[0].source", "Invalid value: Cannot set serviceAccounts with namespaces or principals"},
		}},
		{"sidecar-wildcard-selector.yaml", []FieldError{
			{"spec.workloadSelector.labels[app]", `Invalid value: "*": wildcard is not supported in selector`},
		}},
		{"httproute-service-without-port.yaml", []FieldError{
			{"spec.rules[0].backendRefs[0]", "Invalid value: Must have port for Service reference"},
		}},
		{"httproute-relative-path.yaml", []FieldError{
			{"spec.rules[0].matches[0].path", "Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"},
			{"spec.rules[0].timeouts", "Invalid value: backendRequest timeout cannot be longer than request timeout"},
		}},
		{"httproute-path-type-enum.yaml", []FieldError{
			{"spec.rules[0].matches[0].path.type", `Unsupported value: "Prefix": supported values: "Exact", "PathPrefix", "RegularExpression"`},
			{"", skipped},
		}},
		{"bad-metadata.yaml", []FieldError{
			{"metadata.labels", `Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
			{"metadata.name", `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		}},
	}
	s := set(t)
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		docs := readDocs(t, filepath.Join("testdata/invalid", tt.file))
		if len(docs) != 1 {
			t.Fatalf("%s: %d documents, want 1", tt.file, len(docs))
		}
		d := docs[0]
		for dname, dec := range decoders {
			t.Run(tt.file+"/"+dname, func(t *testing.T) {
				obj, err := dec(d.raw)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := s.Validate(context.Background(), d.group, d.version, d.kind, obj)
				if !ok {
					t.Fatalf("no crd for %s/%s %s", d.group, d.version, d.kind)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got:\n%s\nwant:\n%s", fmtErrs(got), fmtErrs(tt.want))
				}
			})
		}
	}
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no test case", f)
		}
	}
}

func fmtErrs(errs []FieldError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\t%q: %q\n", e.Path, e.Message)
	}
	return b.String()
}

func TestUnknownKind(t *testing.T) {
	s := set(t)
	obj := map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "spec": map[string]any{}}
	for _, k := range [][3]string{
		{"example.com", "v1", "Widget"},
		{"networking.istio.io", "v2", "VirtualService"},
		{"networking.istio.io", "v1", "Widget"},
		{"", "v1", "Service"},
		{"apps", "v1", "Deployment"},
	} {
		if errs, ok := s.Validate(context.Background(), k[0], k[1], k[2], obj); ok || errs != nil {
			t.Errorf("Validate(%v) = %v, %v; want nil, false", k, errs, ok)
		}
	}
}

// TestIndex checks Load's line scan of every embedded CRD against a full
// decode, and that every served version of every CRD builds.
func TestIndex(t *testing.T) {
	s := set(t)
	files, err := embedded.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	want := map[gvk]bool{}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".yaml") {
			continue
		}
		data, err := embedded.ReadFile("data/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for i, raw := range splitDocuments(data) {
			d := &document{name: f.Name(), data: raw}
			c, err := d.decode()
			if err != nil {
				t.Fatal(err)
			}
			h, ok := scanHeader(raw)
			if !ok {
				t.Errorf("%s document %d: scan failed", f.Name(), i)
				continue
			}
			if full := headerOf(c); !reflect.DeepEqual(h.versions, full.versions) || h.group != full.group || h.kind != full.kind || !h.isCRD {
				t.Errorf("%s document %d: scanned %+v, decoded %+v", f.Name(), i, h, full)
			}
			// Each version cut out alone decodes to the CRD with just it.
			for j, v := range c.Spec.Versions {
				one := &document{name: f.Name(), data: raw, header: &h, version: j}
				got, err := one.decode()
				if err != nil {
					t.Fatalf("%s document %d version %s: %v", f.Name(), i, v.Name, err)
				}
				want := c.DeepCopy()
				want.Spec.Versions = want.Spec.Versions[j : j+1]
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s document %d version %s: cut out, decodes differently", f.Name(), i, v.Name)
				}
			}
			for _, v := range c.Spec.Versions {
				want[gvk{c.Spec.Group, v.Name, c.Spec.Names.Kind}] = true
			}
		}
	}
	if len(want) != len(s.kinds) {
		t.Errorf("indexed %d kinds, want %d", len(s.kinds), len(want))
	}
	for k := range want {
		if s.kinds[k] == nil {
			t.Errorf("%v not indexed", k)
		}
	}
	for _, k := range []string{
		"networking.istio.io/v1, Kind=VirtualService",
		"networking.istio.io/v1alpha3, Kind=DestinationRule",
		"security.istio.io/v1, Kind=AuthorizationPolicy",
		"telemetry.istio.io/v1, Kind=Telemetry",
		"gateway.networking.k8s.io/v1, Kind=HTTPRoute",
		"gateway.networking.k8s.io/v1, Kind=Gateway",
		"gateway.networking.x-k8s.io/v1alpha1, Kind=XBackendTrafficPolicy",
	} {
		if !contains(s.Kinds(), k) {
			t.Errorf("Kinds() lacks %s", k)
		}
	}

	fresh, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.PrepareAll(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Prepare("example.com", "v1", "Widget"); err == nil {
		t.Error("Prepare of an unknown kind: no error")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestScanHeaderFallback(t *testing.T) {
	for _, in := range []string{
		"",
		"apiVersion: v1\nkind: ConfigMap\n",
		"{\"apiVersion\": \"apiextensions.k8s.io/v1\", \"kind\": \"CustomResourceDefinition\"}",
		"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: \"quoted.io\"\n  names:\n    kind: X\n  versions:\n  - name: v1\n",
		"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: a.io\n  names:\n    kind: X\n",
	} {
		if h, ok := scanHeader([]byte(in)); ok {
			t.Errorf("scanHeader(%q) = %+v, true; want fallback", in, h)
		}
	}
	h, ok := scanHeader([]byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: a.io\n  names:\n    kind: X\n    plural: xs\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n  - additionalPrinterColumns:\n    - name: Age\n      type: date\n    name: v2 # comment\n"))
	if want := (header{isCRD: true, group: "a.io", kind: "X", versions: []string{"v1", "v2"}}); !ok || !reflect.DeepEqual(h.versions, want.versions) || h.group != want.group || h.kind != want.kind {
		t.Errorf("scanHeader = %+v, %v; want %+v", h, ok, want)
	}
}

func TestSplitDocuments(t *testing.T) {
	got := splitDocuments([]byte("---\na: 1\n--- \n\n---\nb: 2\n---\n"))
	if len(got) != 2 || string(got[0]) != "a: 1\n" || string(got[1]) != "b: 2\n" {
		t.Errorf("splitDocuments = %q", got)
	}
}

// TestInputNotModified: validation works on a copy, though it prunes,
// defaults and rewrites metadata.
func TestInputNotModified(t *testing.T) {
	s := set(t)
	var docs []doc
	docs = append(docs, readDocs(t, "testdata/valid.yaml")...)
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, f := range files {
		docs = append(docs, readDocs(t, f)...)
	}
	for _, d := range docs {
		obj, want := decode(t, d.raw), decode(t, d.raw)
		obj["status"] = map[string]any{"x": 1.0}
		want["status"] = map[string]any{"x": 1.0}
		s.Validate(context.Background(), d.group, d.version, d.kind, obj)
		if !reflect.DeepEqual(obj, want) {
			t.Errorf("%s: input modified", d.name)
		}
	}
}

func TestNumbers(t *testing.T) {
	s := set(t)
	vs := func(weight any) map[string]any {
		return map[string]any{
			"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
			"metadata": map[string]any{"name": "a"},
			"spec": map[string]any{"http": []any{map[string]any{"route": []any{
				map[string]any{"destination": map[string]any{"host": "a"}, "weight": weight},
			}}}},
		}
	}
	for _, w := range []any{90, int8(90), int32(90), int64(90), uint(90), uint64(90), 90.0, float32(90)} {
		if errs, _ := s.Validate(context.Background(), "networking.istio.io", "v1", "VirtualService", vs(w)); len(errs) != 0 {
			t.Errorf("weight %T(%v): %v", w, w, errs)
		}
	}
	for _, tt := range []struct {
		weight any
		want   string
	}{
		{90.5, `spec.http[0].route[0].weight: Invalid value: "number": spec.http[0].route[0].weight in body must be of type integer: "number"`},
		{"90", `spec.http[0].route[0].weight: Invalid value: "string": spec.http[0].route[0].weight in body must be of type integer: "string"`},
		{math.NaN(), `spec.http[0].route[0].weight: Invalid value: NaN: must be a finite number`},
		{math.Inf(1), `spec.http[0].route[0].weight: Invalid value: +Inf: must be a finite number`},
		{uint64(math.MaxUint64), `spec.http[0].route[0].weight: Invalid value: "number": spec.http[0].route[0].weight in body must be of type integer: "number"`},
		{struct{}{}, `spec.http[0].route[0].weight: Invalid value: value of type struct {} cannot be represented in JSON`},
		{func() {}, `spec.http[0].route[0].weight: Invalid value: value of type func() cannot be represented in JSON`},
	} {
		errs, _ := s.Validate(context.Background(), "networking.istio.io", "v1", "VirtualService", vs(tt.weight))
		if len(errs) == 0 || errs[0].String() != tt.want {
			t.Errorf("weight %T(%v): got %v, want first %s", tt.weight, tt.weight, errs, tt.want)
		}
	}
}

// TestFastObjectMeta: the fast path decodes metadata exactly as the
// apiserver's strict JSON decode does.
func TestFastObjectMeta(t *testing.T) {
	for _, md := range []map[string]any{
		{},
		{"name": "a"},
		{"name": "a", "namespace": "b", "generateName": "c-"},
		{"name": "a", "labels": map[string]any{"x": "y", "": ""}, "annotations": map[string]any{"k": "v"}},
		{"labels": nil, "annotations": map[string]any{}},
	} {
		fast, ok := fastObjectMeta(md)
		if !ok {
			t.Errorf("%v: fast path refused", md)
			continue
		}
		slow, _, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(map[string]any{"metadata": md}, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
		if err != nil || len(unknown) != 0 {
			t.Fatalf("%v: %v %v", md, err, unknown)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%v: fast %#v, apiserver %#v", md, fast, slow)
		}
	}
	for _, md := range []any{
		nil, "x", []any{}, map[string]any{"name": 1}, map[string]any{"uid": "x"},
		map[string]any{"labels": map[string]any{"a": 1}}, map[string]any{"labels": "a"},
	} {
		if _, ok := fastObjectMeta(md); ok {
			t.Errorf("%v: fast path accepted", md)
		}
	}
}

func TestMetadata(t *testing.T) {
	s := set(t)
	gw := func(md any) map[string]any {
		o := map[string]any{
			"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"spec": map[string]any{},
		}
		if md != nil {
			o["metadata"] = md
		}
		return o
	}
	for _, tt := range []struct {
		md   any
		want []string
	}{
		{map[string]any{"name": "a"}, nil},
		{map[string]any{"generateName": "gw-"}, nil},
		{map[string]any{"name": "a", "uid": "1234", "resourceVersion": "7", "finalizers": []any{"x.io/y"}}, nil},
		// As in the apiserver, a Required error keeps CEL rules from running.
		{nil, []string{"metadata.name: Required value: name or generateName is required", "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"}},
		{map[string]any{"name": "a", "namespace": "Bad"}, []string{`metadata.namespace: Invalid value: "Bad": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{map[string]any{"name": "a", "labels": map[string]any{"a": 1.0}}, []string{"metadata: Invalid value: json: cannot unmarshal number into Go struct field ObjectMeta.labels of type string"}},
		{"a", []string{"metadata: Invalid value: json: cannot unmarshal string into Go value of type v1.ObjectMeta"}},
		{map[string]any{"name": "a", "extra": 1.0, "labels": map[string]any{"a": "b"}}, []string{"metadata.extra: Unknown field: field not declared in schema"}},
	} {
		errs, _ := s.Validate(context.Background(), "networking.istio.io", "v1", "Gateway", gw(tt.md))
		var got []string
		for _, e := range errs {
			got = append(got, e.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("metadata %v:\ngot  %q\nwant %q", tt.md, got, tt.want)
		}
	}

	// A cluster-scoped kind: a namespace is ignored, as on create.
	gc := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
		"metadata": map[string]any{"name": "istio", "namespace": "x"},
		"spec":     map[string]any{"controllerName": "istio.io/gateway-controller"},
	}
	if errs, ok := s.Validate(context.Background(), "gateway.networking.k8s.io", "v1", "GatewayClass", gc); !ok || len(errs) != 0 {
		t.Errorf("GatewayClass: %v %v", errs, ok)
	}

	// apiVersion and kind, when present, must be the ones validated.
	errs, _ := s.Validate(context.Background(), "networking.istio.io", "v1", "Gateway", map[string]any{
		"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateways", "metadata": map[string]any{"name": "a"},
	})
	want := []FieldError{
		{"apiVersion", `Invalid value: "networking.istio.io/v1beta1": must be networking.istio.io/v1`},
		{"kind", `Invalid value: "Gateways": must be Gateway`},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("type meta: got %v, want %v", errs, want)
	}
}

// TestHostileInput: nothing decodable panics, and every result is bounded
// and deterministic.
func TestHostileInput(t *testing.T) {
	s := set(t)
	deep := map[string]any{}
	cur := deep
	for i := 0; i < 20000; i++ {
		next := map[string]any{}
		cur["a"] = next
		cur = next
	}
	cyclic := map[string]any{}
	cyclic["spec"] = cyclic
	cyclicList := []any{nil}
	cyclicList[0] = cyclicList
	wide := make([]any, 20000)
	for i := range wide {
		wide[i] = map[string]any{"name": fmt.Sprint("p", i), "number": float64(i), "protocol": "HTTP"}
	}
	inputs := map[string]map[string]any{
		"nil":          nil,
		"empty":        {},
		"spec list":    {"spec": []any{1.0, "a", nil}},
		"spec string":  {"spec": "x"},
		"metadata int": {"metadata": 5.0},
		"status":       {"status": []any{"x"}},
		"all nulls":    {"apiVersion": nil, "kind": nil, "metadata": nil, "spec": nil},
		"wrong types everywhere": {"spec": map[string]any{
			"hosts": "a", "http": map[string]any{}, "tcp": []any{[]any{}}, "tls": 1.0,
			"gateways": []any{nil, 1.0, true, map[string]any{}}, "exportTo": []any{[]any{"x"}},
		}},
		"deep":         {"spec": map[string]any{"http": []any{deep}}},
		"deep unknown": {"spec": deep},
		"cyclic":       cyclic,
		"cyclic list":  {"spec": map[string]any{"hosts": cyclicList}},
		"map any keys": {"spec": map[any]any{"hosts": []string{"a"}, 1: "x"}},
		"typed values": {"metadata": map[string]string{"name": "a"}, "spec": map[string]any{"hosts": []string{"a"}, "x": &[]int{1}, "y": time.Unix(0, 0).UTC(), "z": []byte("hi")}},
		"wide ports":   {"spec": map[string]any{"ports": wide, "hosts": []any{"a"}}},
	}
	kinds := [][3]string{
		{"networking.istio.io", "v1", "VirtualService"},
		{"networking.istio.io", "v1", "ServiceEntry"},
		{"security.istio.io", "v1", "AuthorizationPolicy"},
		{"gateway.networking.k8s.io", "v1", "HTTPRoute"},
		{"gateway.networking.k8s.io", "v1", "Gateway"},
	}
	for name, obj := range inputs {
		for _, k := range kinds {
			t.Run(name+"/"+k[2], func(t *testing.T) {
				start := time.Now()
				errs1, ok := s.Validate(context.Background(), k[0], k[1], k[2], obj)
				if !ok {
					t.Fatal("unknown kind")
				}
				if len(errs1) == 0 {
					t.Error("no errors")
				}
				errs2, _ := s.Validate(context.Background(), k[0], k[1], k[2], obj)
				if !reflect.DeepEqual(errs1, errs2) {
					t.Error("not deterministic")
				}
				if d := time.Since(start); d > time.Minute {
					t.Errorf("took %v", d)
				}
			})
		}
	}
}

// TestCELCost: a rule quadratic in its list's size (ServiceEntry port
// numbers must be unique) stays cheap at the schema's maxItems, and longer
// lists are refused before CEL runs.
func TestCELCost(t *testing.T) {
	s := set(t)
	se := func(n int, dup bool) map[string]any {
		ports := make([]any, n)
		for i := range ports {
			num := float64(i + 1)
			if dup && i == n-1 {
				num = 1
			}
			ports[i] = map[string]any{"name": fmt.Sprint("p", i), "number": num, "protocol": "TCP"}
		}
		return map[string]any{
			"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
			"metadata": map[string]any{"name": "se"},
			"spec":     map[string]any{"hosts": []any{"a.example.com"}, "ports": ports, "resolution": "DNS"},
		}
	}
	start := time.Now()
	if errs, _ := s.Validate(context.Background(), "networking.istio.io", "v1", "ServiceEntry", se(256, false)); len(errs) != 0 {
		t.Errorf("256 ports: %v", errs)
	}
	errs, _ := s.Validate(context.Background(), "networking.istio.io", "v1", "ServiceEntry", se(256, true))
	if want := "spec.ports: Invalid value: port number cannot be duplicated"; len(errs) != 1 || errs[0].String() != want {
		t.Errorf("duplicate port: got %v, want %s", errs, want)
	}
	errs, _ = s.Validate(context.Background(), "networking.istio.io", "v1", "ServiceEntry", se(5000, false))
	if want := "spec.ports: Too many: 5000: must have at most 256 items"; len(errs) == 0 || errs[0].String() != want {
		t.Errorf("5000 ports: got %v, want %s", errs, want)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %v", d)
	}
}

// TestConcurrent validates every test object from several goroutines on a
// fresh Set, so that the lazy builds race too, and checks the results match
// a sequential run. Run it with -race.
func TestConcurrent(t *testing.T) {
	var docs []doc
	docs = append(docs, readDocs(t, "testdata/valid.yaml")...)
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, f := range files {
		docs = append(docs, readDocs(t, f)...)
	}
	objs := make([]map[string]any, len(docs))
	for i, d := range docs {
		objs[i] = decode(t, d.raw)
	}
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const workers = 6
	results := make([][][]FieldError, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := make([][]FieldError, len(docs))
			for r := 0; r < 3; r++ {
				for j := range docs {
					i := (j + w) % len(docs)
					d := docs[i]
					res[i], _ = s.Validate(context.Background(), d.group, d.version, d.kind, objs[i])
				}
			}
			results[w] = res
		}()
	}
	wg.Wait()
	for i, d := range docs {
		want, _ := set(t).Validate(context.Background(), d.group, d.version, d.kind, objs[i])
		for w := range results {
			if !reflect.DeepEqual(results[w][i], want) {
				t.Errorf("%s: worker %d got %v, want %v", d.name, w, results[w][i], want)
			}
		}
	}
}

func TestFieldErrorString(t *testing.T) {
	if got := (FieldError{"spec.hosts", "Required value"}).Error(); got != "spec.hosts: Required value" {
		t.Error(got)
	}
	if got := (FieldError{"", "Invalid value"}).String(); got != "Invalid value" {
		t.Error(got)
	}
}

// genValue makes a random value for s: mostly what the schema asks for,
// with wrong types, values outside enums and bounds, and missing or extra
// keys at rate bad.
func genValue(r *rand.Rand, s *structuralschema.Structural, depth int, bad float64) any {
	if s == nil || depth > 14 {
		return "x"
	}
	if depth > 0 && r.Float64() < bad/4 {
		return nil
	}
	typ := s.Type
	if s.XIntOrString {
		typ = []string{"integer", "string"}[r.Intn(2)]
	}
	if depth > 0 && r.Float64() < bad {
		typ = []string{"object", "array", "string", "integer", "number", "boolean"}[r.Intn(6)]
	}
	switch typ {
	case "object", "":
		m := map[string]any{}
		for k := range s.Properties {
			p := s.Properties[k]
			if r.Float64() < 0.5 {
				m[k] = genValue(r, &p, depth+1, bad)
			}
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
			for i := r.Intn(3); i > 0; i-- {
				m[fmt.Sprint("k", r.Intn(5))] = genValue(r, s.AdditionalProperties.Structural, depth+1, bad)
			}
		}
		if s.ValueValidation != nil {
			for _, k := range s.ValueValidation.Required {
				if _, ok := m[k]; !ok && r.Float64() > bad {
					p := s.Properties[k]
					m[k] = genValue(r, &p, depth+1, bad)
				}
			}
		}
		if r.Float64() < bad {
			m["zz-unknown"] = "x"
		}
		return m
	case "array":
		var l []any
		for i := r.Intn(4); i > 0; i-- {
			l = append(l, genValue(r, s.Items, depth+1, bad))
		}
		if l == nil {
			l = []any{}
		}
		return l
	case "string":
		if vv := s.ValueValidation; vv != nil && len(vv.Enum) > 0 && r.Float64() > bad {
			return vv.Enum[r.Intn(len(vv.Enum))].Object
		}
		return []string{"", "a", "svc-1", "10s", "*", "/path", "GET", "https://x.example.com", strings.Repeat("long", 80)}[r.Intn(9)]
	case "integer":
		return []float64{0, 1, 80, 65536, -1, 1e10}[r.Intn(6)]
	case "number":
		return []float64{0, 0.5, 100, -3.25}[r.Intn(4)]
	case "boolean":
		return r.Intn(2) == 0
	}
	return nil
}

// TestOpenAPIValidatorAgrees: the prebuilt validator of every kind decides
// validity exactly as kube-openapi's ordinary one, on random objects shaped
// by the schema.
func TestOpenAPIValidatorAgrees(t *testing.T) {
	s := set(t)
	if err := s.PrepareAll(); err != nil {
		t.Fatal(err)
	}
	n := 60
	if testing.Short() {
		n = 10
	}
	r := rand.New(rand.NewSource(1))
	var valid, invalid int
	for key, e := range s.kinds {
		kv, _ := e.get()
		if kv == nil {
			continue
		}
		plain := validate.NewSchemaValidator(kv.schema.schema, nil, "", strfmt.Default)
		for i := 0; i < n; i++ {
			bad := []float64{0, 0.02, 0.1}[i%3]
			obj := genValue(r, kv.structural, 0, bad).(map[string]any)
			obj["apiVersion"], obj["kind"] = kv.apiVersion, kv.kind
			obj["metadata"] = map[string]any{"name": "x", "namespace": "y"}
			// What the schema validator sees: normalized and pruned.
			norm := normalizer{}
			u := norm.object(obj)
			structuralpruning.Prune(u, kv.structural, true)
			want := plain.Validate(u).IsValid()
			if got := kv.schema.root.sv.Validate(u).IsValid(); got != want {
				t.Fatalf("%v: prebuilt validator says valid=%v, kube-openapi %v, for\n%v", key, got, want, u)
			}
			if want {
				valid++
			} else {
				invalid++
			}
			// And the whole pipeline copes with it.
			s.Validate(context.Background(), key.group, key.version, key.kind, obj)
		}
	}
	t.Logf("%d valid, %d invalid objects", valid, invalid)
	if valid == 0 || invalid == 0 {
		t.Error("generator is one-sided")
	}
}

// TestValidateOwnedAgrees checks that validating a handed-over object, as
// the file loader does with yamlconv's values, gives what Validate gives.
func TestValidateOwnedAgrees(t *testing.T) {
	s := set(t)
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	files = append(files, "testdata/valid.yaml")
	for _, f := range files {
		for _, d := range readDocs(t, f) {
			t.Run(d.name, func(t *testing.T) {
				var root yamlv3.Node
				if err := yamlv3.Unmarshal(d.raw, &root); err != nil {
					t.Fatal(err)
				}
				v, _, ok := yamlconv.ToValue(&root, "", yamlconv.NewBudget(yamlconv.DefaultLimits))
				obj, isMap := v.(map[string]any)
				if !ok || !isMap {
					t.Skip("SKIPPED: not an object")
				}
				want, _ := s.Validate(context.Background(), d.group, d.version, d.kind, obj)
				got, _ := s.ValidateOwned(context.Background(), d.group, d.version, d.kind, obj)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("owned:\n%v\ncopy:\n%v", got, want)
				}
			})
		}
	}
}
