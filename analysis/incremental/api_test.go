package incremental_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	meshconfig "istio.io/api/mesh/v1alpha1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/incremental"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/mesh"
)

func TestApplyEdgeCases(t *testing.T) {
	objs, opts := load(t, demo.Inputs(), nil)
	h := newHarness(t, objs, opts, newStats())
	for _, tc := range []struct {
		name    string
		changes []incremental.Change
		wantErr bool
	}{
		{"no change", nil, false},
		{"delete of an unknown key", []incremental.Change{incremental.Delete(mesh.Key{GroupKind: mesh.Service, Namespace: "shop", Name: "gone"})}, false},
		{"neither object nor deletion", []incremental.Change{{}}, true},
		{"object without metadata", []incremental.Change{{Object: &mesh.Object{GroupKind: mesh.Service}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := h.eng.Apply(context.Background(), tc.changes...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if d.Full || len(d.Scope)+len(d.Opened)+len(d.Closed) > 0 {
				t.Errorf("delta %+v, want none", d)
			}
			if !reflect.DeepEqual(views(h.eng.Findings()), views(h.full())) {
				t.Error("findings changed")
			}
		})
	}
}

// TestApplyInterrupted: an interrupted Apply keeps the objects and fails;
// the next Apply catches up in full.
func TestApplyInterrupted(t *testing.T) {
	objs, opts := load(t, demo.Inputs(), nil)
	h := newHarness(t, objs, opts, newStats())
	vs := find(t, h, mesh.VirtualService, "shop", "checkout")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.eng.Apply(ctx, incremental.Delete(vs.Key())); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	h.m.apply(incremental.Delete(vs.Key()))
	d, err := h.eng.Apply(context.Background())
	if err != nil || !d.Full {
		t.Fatalf("catching up: %+v %v", d, err)
	}
	h.compare("catching up", d, []incremental.Change{incremental.Delete(vs.Key())})
}

// TestObjectsOrder: an update keeps its place, an addition comes last, a
// deletion leaves the others in order.
func TestObjectsOrder(t *testing.T) {
	objs, opts := load(t, demo.Inputs(), nil)
	h := newHarness(t, objs, opts, newStats())
	first, last := objs[3], objs[len(objs)-1]
	moved := clone(first)
	moved.Meta.Labels = map[string]string{"moved": "no"}
	added := clone(last)
	added.Meta.Name = "added"
	for _, c := range [][]incremental.Change{upsert(moved), del(last), upsert(added)} {
		h.step(c, "order")
	}
	if got := h.eng.Objects(); !reflect.DeepEqual(got, h.m.objs) {
		t.Errorf("Objects() is not in load order")
	}
}

// TestReset: new mesh options re-analyze in full, and later changes stay
// exact under them (the root namespace, global partitions change).
func TestReset(t *testing.T) {
	objs, opts := load(t, demo.Inputs(), nil)
	h := newHarness(t, objs, opts, newStats())
	opts.MeshConfig = &meshconfig.MeshConfig{RootNamespace: "payments"}
	d, err := h.eng.Reset(context.Background(), opts)
	if err != nil || !d.Full {
		t.Fatalf("reset: %+v %v", d, err)
	}
	h.snapOpts = opts
	h.compare("reset", d, []incremental.Change{})
	fuzz(h, 9, scale(100))
}

// TestSelection: an engine over some analyzers reports what a run of
// them reports.
func TestSelection(t *testing.T) {
	objs, opts := load(t, demo.Inputs(), nil)
	sel, err := analysis.Select(analyzers.All(), []string{"IST0101", "kiali.DestinationRule"}, []string{"IST0118"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := incremental.New(context.Background(), objs, opts, sel, analysis.Options{Namespaces: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, m: &model{objs: append([]*mesh.Object(nil), objs...)}, snapOpts: opts, sel: sel, stats: newStats(),
		opts: analysis.Options{Namespaces: []string{"shop"}}}
	h.prev = h.full()
	h.compare("initial", incremental.Delta{}, nil)
	fuzz(h, 3, scale(100))
}

// TestNamespacePatterns: a namespace pattern first read by the object that
// creates the namespace it matches, then by another, must still see the
// namespace go.
func TestNamespacePatterns(t *testing.T) {
	objs, opts := load(t, nil, []string{"testdata/crossns.yaml"})
	h := newHarness(t, objs, opts, newStats())
	policy := func(ns string) *mesh.Object {
		return yamlObject(t, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-z, namespace: `+ns+`}
spec:
  rules:
  - from: [{source: {namespaces: ["zz*"]}}]
`)
	}
	first, other := policy("zzz"), policy("reports")
	h.step(upsert(first), "the first object of zzz reads zz*")
	h.step(upsert(other), "reports reads zz*")
	h.step(del(first), "zzz is gone")
}
