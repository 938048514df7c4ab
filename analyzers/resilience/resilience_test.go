package resilience

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

var cases = []struct {
	dir string
	a   *analysis.Analyzer
}{
	{"timeouts", RouteTimeouts},
	{"idempotency", RetryIdempotency},
	{"outlier", OutlierDetection},
	{"pool", ConnectionPool},
	{"testonly", TestOnlyFeatures},
	{"weights", RouteWeights},
	{"subsets", UnusedSubsets},
	{"hash", ConsistentHashRetries},
	{"class", WorkloadClass},
}

func TestAnalyzers(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", tc.dir), tc.a)
		})
	}
}

func TestValidate(t *testing.T) {
	if err := analysis.Validate(Analyzers); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range Analyzers {
		for _, c := range a.Codes {
			seen[c.ID] = true
		}
	}
	for _, c := range codes.Resilience {
		if !seen[c.ID] {
			t.Errorf("no analyzer reports %s", c.ID)
		}
	}
}

// noFix are the codes that offer no mechanical change.
var noFix = map[string]bool{codes.UnusedSubset.ID: true, codes.UnknownWorkloadClass.ID: true}

// TestFixes applies every fix of every finding in the testdata to the
// objects (JSON round trip through protojson), re-runs all analyzers of
// the package, and checks the finding is gone and nothing new appeared.
func TestFixes(t *testing.T) {
	fixed := map[string]bool{}
	for _, tc := range cases {
		files, _ := filepath.Glob(filepath.Join("testdata", tc.dir, "*.yaml"))
		for _, file := range files {
			objs := load(t, file)
			before := run(t, objs)
			for _, f := range before {
				if len(f.Fixes) == 0 {
					if !noFix[f.Code] {
						t.Errorf("%s: %s %s has no fix", file, f.Code, f.Resource)
					}
					continue
				}
				for k, fix := range f.Fixes {
					name := fmt.Sprintf("%s/%s/%s/%d", filepath.Base(file), f.Code, f.Resource, k)
					t.Run(name, func(t *testing.T) {
						checkFix(t, objs, before, f, fix)
					})
				}
				fixed[f.Code] = true
			}
		}
	}
	for _, c := range codes.Resilience {
		if !noFix[c.ID] && !fixed[c.ID] {
			t.Errorf("no testdata exercises the fix of %s", c.ID)
		}
	}
}

func checkFix(t *testing.T, objs []*mesh.Object, before []analysis.Finding, f analysis.Finding, fix analysis.Fix) {
	if fix.Message == "" || fix.Explanation == "" || len(fix.Edits) == 0 {
		t.Fatalf("incomplete fix %+v", fix)
	}
	if c := fix.Message[0]; c < 'a' || c > 'z' {
		t.Errorf("message %q is not a lower-case verb phrase", fix.Message)
	}
	for _, e := range fix.Edits {
		if e.Resource != f.Resource {
			t.Errorf("edit of %s for a finding on %s", e.Resource, f.Resource)
		}
	}
	after := run(t, applyEdits(t, objs, fix.Edits))
	count := func(fs []analysis.Finding) map[string]int {
		m := map[string]int{}
		for _, x := range fs {
			m[x.Code+" "+x.Resource]++
		}
		return m
	}
	b, a := count(before), count(after)
	key := f.Code + " " + f.Resource
	if a[key] >= b[key] {
		t.Errorf("fix %q left %s in place", fix.Message, key)
	}
	for k, n := range a {
		if n > b[k] {
			t.Errorf("fix %q added %s", fix.Message, k)
		}
	}
}

var loadSchemas = sync.OnceValues(crd.Load)

func load(t *testing.T, file string) []*mesh.Object {
	t.Helper()
	schemas, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	res, err := files.Load(context.Background(), []string{file}, files.Options{Schemas: schemas})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("load %s: %v %v", file, err, res.Problems)
	}
	return res.Objects
}

func run(t *testing.T, objs []*mesh.Object) []analysis.Finding {
	t.Helper()
	sel, err := analysis.Select(Analyzers, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := analysis.Run(context.Background(), mesh.New(objs, mesh.Options{}), sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Code == analysis.InternalError.ID {
			t.Fatalf("analyzer broke: %s", f.Message)
		}
	}
	return fs
}

// applyEdits returns objs with the edits applied to copies of the objects
// they name: metadata and the proto spec go through JSON.
func applyEdits(t *testing.T, objs []*mesh.Object, edits []analysis.Edit) []*mesh.Object {
	t.Helper()
	out := make([]*mesh.Object, len(objs))
	copy(out, objs)
	for i, o := range out {
		var mine []analysis.Edit
		for _, e := range edits {
			if e.Resource == o.Ref().String() {
				mine = append(mine, e)
			}
		}
		if len(mine) == 0 {
			continue
		}
		msg, ok := o.Obj.(proto.Message)
		if !ok {
			t.Fatalf("edit of non-Istio object %s", o.Ref())
		}
		doc := map[string]any{"metadata": toMap(t, mustJSON(t, o.Meta)), "spec": toMap(t, mustProtoJSON(t, msg))}
		for _, e := range mine {
			if err := applyPointer(doc, e); err != nil {
				t.Fatalf("apply %s %s: %v", e.Resource, e.Path, err)
			}
		}
		spec := msg.ProtoReflect().New().Interface()
		if err := protojson.Unmarshal(mustJSON(t, doc["spec"]), spec); err != nil {
			t.Fatalf("spec after edits does not decode: %v", err)
		}
		meta := &metav1.ObjectMeta{}
		if err := json.Unmarshal(mustJSON(t, doc["metadata"]), meta); err != nil {
			t.Fatal(err)
		}
		c := *o
		c.Obj, c.Meta = spec, meta
		out[i] = &c
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustProtoJSON(t *testing.T, m proto.Message) []byte {
	data, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func toMap(t *testing.T, data []byte) map[string]any {
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// applyPointer sets or deletes the value at a JSON pointer; the parent
// must exist.
func applyPointer(doc map[string]any, e analysis.Edit) error {
	parts := strings.Split(strings.TrimPrefix(e.Path, "/"), "/")
	for i := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(parts[i], "~1", "/"), "~0", "~")
	}
	var parent any = doc
	for _, p := range parts[:len(parts)-1] {
		switch v := parent.(type) {
		case map[string]any:
			parent = v[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(v) {
				return fmt.Errorf("bad index %q", p)
			}
			parent = v[i]
		}
		if parent == nil {
			return fmt.Errorf("missing parent %q", p)
		}
	}
	last := parts[len(parts)-1]
	value := any(nil)
	if !e.Delete {
		value = jsonValue(e.Value)
	}
	switch v := parent.(type) {
	case map[string]any:
		if e.Delete {
			delete(v, last)
		} else {
			v[last] = value
		}
		return nil
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(v) {
			return fmt.Errorf("bad index %q", last)
		}
		if !e.Delete {
			v[i] = value
			return nil
		}
		// The array is shared with its parent; rebuild the parent link.
		return setParent(doc, parts[:len(parts)-1], append(append([]any{}, v[:i]...), v[i+1:]...))
	}
	return fmt.Errorf("parent of %s is not a container", e.Path)
}

func setParent(doc map[string]any, parts []string, val any) error {
	return applyPointer(doc, analysis.Edit{Path: "/" + strings.Join(escape(parts), "/"), Value: val})
}

func escape(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	return out
}

// jsonValue normalises a Go value to what encoding/json would decode.
func jsonValue(v any) any {
	data, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

// TestMessages checks findings and fixes say what matters, exactly.
func TestMessages(t *testing.T) {
	fs := run(t, load(t, filepath.Join("testdata", "timeouts", "timeouts.yaml")))
	sort.Slice(fs, func(i, j int) bool { return fs[i].Resource+fs[i].Code < fs[j].Resource+fs[j].Code })
	var all strings.Builder
	for _, f := range fs {
		all.WriteString(f.Code + " " + f.Message + "\n")
		for _, x := range f.Fixes {
			all.WriteString("  " + x.Message + ": " + x.Explanation + "\n")
		}
	}
	for _, want := range []string{
		"Adds a 20s timeout to route 0 of VirtualService shop/explicit-no-timeout: calls slower than 20s now fail with 504 instead of holding a connection; the first try and 3 retries (4 × 5s) fit inside it.",
		"Adds a 10s timeout to route 0 of VirtualService shop/default-no-timeout",
		"the first try and 6 retries of 2s each take up to 14s, longer than the route timeout 10s",
		"lower perTryTimeout to 1.428s",
		"raise the timeout to 14s",
		"Lowers the timeout of route 0 of VirtualService shop/too-long from 300s to 60s, the api maximum: callers stop waiting on a hung upstream after 60s; perTryTimeout drops from 100s to 20s",
		"workload class api by default",
	} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("missing %q in:\n%s", want, all.String())
		}
	}
}

// TestOddInput feeds nil and empty parts; nothing may panic or report.
func TestOddInput(t *testing.T) {
	objs := load(t, filepath.Join("testdata", "timeouts", "timeouts.yaml"))
	for _, o := range objs {
		if o.Kind == "VirtualService" {
			c := *o
			c.Obj = nil
			objs = append(objs, &c)
		}
	}
	odd := &networking.VirtualService{Http: []*networking.HTTPRoute{nil, {}, {Route: []*networking.HTTPRouteDestination{nil, {}},
		Retries: &networking.HTTPRetry{Attempts: 1 << 30, PerTryTimeout: &durationpb.Duration{Seconds: 1 << 40}, RetryOn: ",,5xx"},
		Timeout: &durationpb.Duration{Seconds: -1 << 40}, Match: []*networking.HTTPMatchRequest{nil, {Method: &networking.StringMatch{}}}}}}
	oddDR := &networking.DestinationRule{Host: "cart", Subsets: []*networking.Subset{nil, {}},
		TrafficPolicy: &networking.TrafficPolicy{PortLevelSettings: []*networking.TrafficPolicy_PortTrafficPolicy{nil, {}}}}
	objs = append(objs,
		&mesh.Object{GroupKind: mesh.VirtualService, Meta: &metav1.ObjectMeta{Name: "odd", Namespace: "shop"}, Obj: odd},
		&mesh.Object{GroupKind: mesh.DestinationRule, Meta: &metav1.ObjectMeta{Name: "odd", Namespace: "shop"}, Obj: oddDR})
	run(t, objs)
}
