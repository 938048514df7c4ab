package analysis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

var (
	codeA = &analysis.Code{ID: "MP9001", Name: "A", Level: analysis.Warning, Doc: "a"}
	codeB = &analysis.Code{ID: "MP9002", Name: "B", Level: analysis.Error, Doc: "b"}
)

// reportAll reports code on every object.
func reportAll(name string, code *analysis.Code) *analysis.Analyzer {
	return &analysis.Analyzer{Name: name, Doc: "report everything", Codes: []*analysis.Code{code},
		Run: func(p *analysis.Pass) (any, error) {
			for _, o := range p.Snapshot.Objects() {
				p.Reportf(code, o, "found %s", o.Name())
			}
			return nil, nil
		}}
}

func object(ns, name string, ann map[string]string) *mesh.Object {
	return &mesh.Object{GroupKind: mesh.ConfigMap, Meta: &metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}}
}

func snapshot() *mesh.Snapshot {
	return mesh.New([]*mesh.Object{
		object("shop", "a", nil),
		object("pay", "b", nil),
		object("shop", "quiet", map[string]string{analysis.AnnotationIstioSuppress: "MP9001"}),
		object("shop", "ignored", map[string]string{analysis.AnnotationIgnore: "*"}),
	}, mesh.Options{})
}

func TestRun(t *testing.T) {
	a, b := reportAll("a", codeA), reportAll("b", codeB)
	broken := &analysis.Analyzer{Name: "broken", Doc: "d", Codes: []*analysis.Code{codeA},
		Run: func(*analysis.Pass) (any, error) { return nil, errors.New("boom") }}
	panics := &analysis.Analyzer{Name: "panics", Doc: "d", Codes: []*analysis.Code{codeA},
		Run: func(*analysis.Pass) (any, error) { var m map[string]int; m["x"] = 1; return nil, nil }}
	tests := []struct {
		name       string
		all        []*analysis.Analyzer
		only, skip []string
		namespaces []string
		want       []string // "code resource"
		wantErr    string
	}{
		{name: "all", all: []*analysis.Analyzer{a, b},
			want: []string{"MP9001 ConfigMap pay/b", "MP9002 ConfigMap pay/b", "MP9001 ConfigMap shop/a", "MP9002 ConfigMap shop/a", "MP9002 ConfigMap shop/quiet"}},
		{name: "only code", all: []*analysis.Analyzer{a, b}, only: []string{"mp9002"},
			want: []string{"MP9002 ConfigMap pay/b", "MP9002 ConfigMap shop/a", "MP9002 ConfigMap shop/quiet"}},
		{name: "skip analyzer", all: []*analysis.Analyzer{a, b}, skip: []string{"b"},
			want: []string{"MP9001 ConfigMap pay/b", "MP9001 ConfigMap shop/a"}},
		{name: "namespace", all: []*analysis.Analyzer{a}, namespaces: []string{"pay"},
			want: []string{"MP9001 ConfigMap pay/b"}},
		{name: "unknown only", all: []*analysis.Analyzer{a}, only: []string{"nope"}, wantErr: `"nope" is neither`},
		{name: "broken and panicking analyzers", all: []*analysis.Analyzer{broken, panics, b},
			want: []string{"IST0001 ", "IST0001 ", "MP9002 ConfigMap pay/b", "MP9002 ConfigMap shop/a", "MP9002 ConfigMap shop/quiet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := analysis.Select(tt.all, tt.only, tt.skip)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fs, err := analysis.Run(context.Background(), snapshot(), sel, analysis.Options{Namespaces: tt.namespaces})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Code+" "+f.Resource)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRequiresResults(t *testing.T) {
	base := &analysis.Analyzer{Name: "base", Doc: "d", Codes: []*analysis.Code{codeA},
		Run: func(*analysis.Pass) (any, error) { return 42, nil }}
	user := &analysis.Analyzer{Name: "user", Doc: "d", Codes: []*analysis.Code{codeB}, Requires: []*analysis.Analyzer{base},
		Run: func(p *analysis.Pass) (any, error) {
			if p.ResultOf[base] != 42 {
				return nil, errors.New("no result from base")
			}
			p.Reportf(codeB, nil, "saw %v", p.ResultOf[base])
			return nil, nil
		}}
	sel, err := analysis.Select([]*analysis.Analyzer{user, base}, []string{"user"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := analysis.Run(context.Background(), snapshot(), sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Message != "saw 42" {
		t.Errorf("findings = %+v", fs)
	}
}

func TestValidate(t *testing.T) {
	a := reportAll("a", codeA)
	cyc1 := &analysis.Analyzer{Name: "c1", Doc: "d", Codes: []*analysis.Code{codeA}, Run: a.Run}
	cyc2 := &analysis.Analyzer{Name: "c2", Doc: "d", Codes: []*analysis.Code{codeA}, Run: a.Run, Requires: []*analysis.Analyzer{cyc1}}
	cyc1.Requires = []*analysis.Analyzer{cyc2}
	tests := []struct {
		name string
		list []*analysis.Analyzer
		want string
	}{
		{"ok", []*analysis.Analyzer{a, reportAll("b", codeB)}, ""},
		{"duplicate name", []*analysis.Analyzer{a, reportAll("a", codeB)}, "duplicate name"},
		{"no doc", []*analysis.Analyzer{{Name: "x", Codes: []*analysis.Code{codeA}, Run: a.Run}}, "no doc"},
		{"bad code", []*analysis.Analyzer{{Name: "x", Doc: "d", Codes: []*analysis.Code{{ID: "X1"}}, Run: a.Run}}, "malformed code"},
		{"cycle", []*analysis.Analyzer{cyc1, cyc2}, "cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := analysis.Validate(tt.list)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunReportsReads(t *testing.T) {
	reader := &analysis.Analyzer{Name: "reader", Doc: "reads VirtualServices.", Run: func(p *analysis.Pass) (any, error) {
		p.Snapshot.List(mesh.VirtualService)
		p.Snapshot.LookupHost("a.b.svc.cluster.local", "b")
		return nil, nil
	}}
	idle := &analysis.Analyzer{Name: "idle", Doc: "reads nothing.", Run: func(*analysis.Pass) (any, error) { return nil, nil }}
	sel, err := analysis.Select([]*analysis.Analyzer{reader, idle}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]mesh.GroupKind{}
	_, err = analysis.Run(context.Background(), mesh.New(nil, mesh.Options{}), sel, analysis.Options{
		Reads: func(a *analysis.Analyzer, kinds []mesh.GroupKind) { got[a.Name] = kinds },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []mesh.GroupKind{mesh.Service, mesh.ServiceEntry, mesh.VirtualService}
	if fmt.Sprint(got["reader"]) != fmt.Sprint(want) {
		t.Errorf("reader read %v, want %v", got["reader"], want)
	}
	if k, ok := got["idle"]; !ok || len(k) != 0 {
		t.Errorf("idle: %v (reported %v), want an empty list", k, ok)
	}
}
