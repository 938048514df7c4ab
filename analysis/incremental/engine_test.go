package incremental_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analysis/incremental"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/internal/conformance"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth"
)

// model is the test's own copy of the current objects, with the engine's
// semantics: an update takes the place of the first object of its key (and
// drops the others), an addition comes last, a deletion drops every object
// of the key.
type model struct{ objs []*mesh.Object }

func (m *model) apply(c incremental.Change) {
	key := c.Key
	if c.Object != nil {
		key = c.Object.Key()
	}
	var out []*mesh.Object
	placed := false
	for _, o := range m.objs {
		if o.Key() != key {
			out = append(out, o)
			continue
		}
		if c.Object != nil && !c.Deleted && !placed {
			out = append(out, c.Object)
			placed = true
		}
	}
	if c.Object != nil && !c.Deleted && !placed {
		out = append(out, c.Object)
	}
	m.objs = out
}

// view is what must be identical between the engine and a full run.
type view struct {
	Code, Resource, Message, Cluster, File, Namespace, Analyzer string
	Line                                                        int
	Level                                                       analysis.Level
	Fixes                                                       []analysis.Fix
	Equivalents                                                 []string
}

func views(fs []analysis.Finding) []view {
	out := make([]view, len(fs))
	for i, f := range fs {
		out[i] = view{f.Code, f.Resource, f.Message, f.Cluster, f.File, f.Namespace, f.Analyzer, f.Line, f.Level, f.Fixes, f.Equivalents}
	}
	return out
}

// ids is a finding multiset as sorted identity strings.
func ids(fs []analysis.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = strings.Join([]string{f.Code, f.Analyzer, f.Resource, f.Cluster, f.Message}, "|")
	}
	sort.Strings(out)
	return out
}

// setDiff returns the identities of b not in a and of a not in b.
func setDiff(a, b []analysis.Finding) (opened, closed []string) {
	left := map[string]int{}
	for _, s := range ids(a) {
		left[s]++
	}
	for _, s := range ids(b) {
		if left[s] > 0 {
			left[s]--
			continue
		}
		opened = append(opened, s)
	}
	for s, n := range left {
		for range n {
			closed = append(closed, s)
		}
	}
	sort.Strings(opened)
	sort.Strings(closed)
	return opened, closed
}

type stats struct {
	changes, full int
	reasons       map[string]int
	scoped        int // partitions re-analyzed, summed over incremental changes
}

func (s *stats) String() string {
	var rs []string
	for r, n := range s.reasons {
		rs = append(rs, fmt.Sprintf("%d× %s", n, r))
	}
	sort.Strings(rs)
	return fmt.Sprintf("%d changes: %d incremental, %d full (%s)", s.changes, s.changes-s.full, s.full, strings.Join(rs, "; "))
}

// harness applies changes to an engine and to a model, and checks after
// each that the engine's findings are those of a full run over the model,
// and its delta the difference between consecutive full runs.
type harness struct {
	t        *testing.T
	eng      *incremental.Engine
	m        *model
	snapOpts mesh.Options
	sel      *analysis.Selection
	opts     analysis.Options
	prev     []analysis.Finding
	stats    *stats
	failed   bool
}

func newHarness(t *testing.T, objs []*mesh.Object, snapOpts mesh.Options, st *stats) *harness {
	t.Helper()
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := incremental.New(context.Background(), objs, snapOpts, sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, m: &model{objs: append([]*mesh.Object(nil), objs...)}, snapOpts: snapOpts, sel: sel, stats: st}
	h.prev = h.full()
	h.compare("initial analysis", incremental.Delta{}, nil)
	return h
}

func (h *harness) full() []analysis.Finding {
	fs, err := analysis.Run(context.Background(), mesh.New(h.m.objs, h.snapOpts), h.sel, h.opts)
	if err != nil {
		h.t.Fatal(err)
	}
	return fs
}

func (h *harness) step(chs []incremental.Change, what string) incremental.Delta {
	h.t.Helper()
	if h.failed || len(chs) == 0 {
		return incremental.Delta{}
	}
	d, err := h.eng.Apply(context.Background(), chs...)
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
	for _, c := range chs {
		h.m.apply(c)
	}
	h.stats.changes++
	if d.Full {
		h.stats.full++
		h.stats.reasons[d.Reason]++
	} else {
		h.stats.scoped += len(d.Scope)
	}
	h.compare(describe(what, chs), d, chs)
	return d
}

func (h *harness) compare(what string, d incremental.Delta, chs []incremental.Change) {
	h.t.Helper()
	want := h.full()
	got := h.eng.Findings()
	if !reflect.DeepEqual(views(got), views(want)) {
		h.failed = true
		missing, extra := setDiff(got, want)
		h.t.Errorf("after %s (full=%v %s, scope %v): findings differ from a full run\nmissing: %s\nextra:   %s",
			what, d.Full, d.Reason, d.Scope, strings.Join(missing, "\n         "), strings.Join(extra, "\n         "))
		if len(missing)+len(extra) == 0 {
			h.t.Errorf("same findings, other order:\ngot:  %v\nwant: %v", views(got), views(want))
		}
		for _, c := range chs {
			if c.Object != nil {
				h.t.Logf("deps of the change: %s", h.eng.DebugDeps(c.Object))
			}
		}
		h.t.Logf("context of the scope: %v", h.eng.DebugContext(d.Scope...))
		for _, o := range h.m.objs {
			if o.GroupKind == mesh.Namespace || o.GroupKind == mesh.KubeGateway {
				h.t.Logf("  %s", h.eng.DebugDeps(o))
			}
		}
		return
	}
	if chs != nil {
		opened, closed := setDiff(h.prev, want)
		if !slices.Equal(opened, ids(d.Opened)) || !slices.Equal(closed, ids(d.Closed)) {
			h.failed = true
			h.t.Errorf("after %s: delta opened %v closed %v, want opened %v closed %v", what, ids(d.Opened), ids(d.Closed), opened, closed)
		}
	}
	h.prev = want
}

func load(t *testing.T, inputs []files.Named, paths []string) ([]*mesh.Object, mesh.Options) {
	t.Helper()
	var res *files.Result
	var err error
	if paths != nil {
		res, err = files.Load(context.Background(), paths, files.Options{})
	} else {
		res, err = files.LoadBytes(context.Background(), inputs, files.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if c := o.Annotations()[analysistest.ClusterAnnotation]; c != "" {
			o.Source.Cluster = c
		}
	}
	return res.Objects, mesh.Options{MeshConfig: res.MeshConfig, MeshNetworks: res.MeshNetworks}
}

// fuzz applies n random changes.
func fuzz(h *harness, seed uint64, n int) {
	h.t.Helper()
	if off, err := strconv.ParseUint(os.Getenv("INCREMENTAL_SEED"), 10, 64); err == nil {
		seed += off * 100003
	}
	m := &mutator{r: rand.New(rand.NewPCG(seed, seed*7919+1)), c: newCorpus(h.m.objs), variant: -1}
	for range n {
		chs, what := m.next(h.m.objs)
		h.step(chs, what)
	}
}

// scale shrinks the work under the race detector and -short, and grows it
// by $INCREMENTAL_STRESS (a factor) for longer hunts.
func scale(n int) int {
	n *= stress()
	if raceEnabled {
		n /= 5
	}
	if testing.Short() {
		n /= 4
	}
	return max(n, 2)
}

func stress() int {
	if f, err := strconv.Atoi(os.Getenv("INCREMENTAL_STRESS")); err == nil && f > 0 {
		return f
	}
	return 1
}

func newStats() *stats { return &stats{reasons: map[string]int{}} }

func TestDifferentialDemo(t *testing.T) {
	objs, opts := load(t, demo.Inputs(), nil)
	st := newStats()
	for seed := uint64(1); seed <= 4; seed++ {
		h := newHarness(t, objs, opts, st)
		fuzz(h, seed, scale(150))
	}
	h := newHarness(t, objs, opts, st)
	exhaustive(h, 1)
	t.Log("demo: " + st.String())
}

// TestDifferentialSynth mutates a generated mesh as a live one changes:
// the edits of the brief, then random ones.
func TestDifferentialSynth(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    synth.Options
	}{
		{"300", synth.Options{Services: 300, Seed: 11}},
		{"300-dense-defects", synth.Options{Services: 300, PerNamespace: 30, DefectEvery: 5, Seed: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := synth.Generate(tc.o)
			objs, opts := load(t, []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, nil)
			st := newStats()
			h := newHarness(t, objs, opts, st)
			if tc.o.PerNamespace == 0 {
				scripted(t, h)
			}
			fuzz(h, tc.o.Seed, scale(300))
			t.Log("synth " + tc.name + ": " + st.String())
		})
	}
}

func TestDifferentialTestdata(t *testing.T) {
	var paths []string
	root := filepath.Join("..", "..", "analyzers")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") && strings.Contains(p, "testdata") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	st := newStats()
	for i, p := range paths {
		t.Run(strings.TrimPrefix(p, root+string(filepath.Separator)), func(t *testing.T) {
			objs, opts := load(t, nil, []string{p})
			h := newHarness(t, objs, opts, st)
			fuzz(h, uint64(i+1), scale(30))
			if stress() > 1 {
				exhaustive(h, uint64(i+1))
			}
		})
	}
	t.Log("analyzer testdata: " + st.String())
}

// TestDifferentialCrossNamespace works on meshes made of references across
// namespaces (testdata): every single change to every object, then random
// ones.
func TestDifferentialCrossNamespace(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			objs, opts := load(t, nil, []string{p})
			st := newStats()
			exhaustive(newHarness(t, objs, opts, st), 1)
			for seed := uint64(1); seed <= 3; seed++ {
				fuzz(newHarness(t, objs, opts, st), seed, scale(200))
			}
			t.Log(filepath.Base(p) + ": " + st.String())
		})
	}
}

// TestDifferentialConformance runs the Istio conformance inputs, when the
// table is beside the checkout.
func TestDifferentialConformance(t *testing.T) {
	dir := conformance.FindDir(".")
	if dir == "" {
		t.Skip("conformance cases not found")
	}
	cases, err := conformance.ReadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := newStats()
	for i, c := range cases {
		t.Run(c.Index+"-"+c.Name, func(t *testing.T) {
			var paths []string
			for _, in := range c.Inputs {
				paths = append(paths, filepath.Join(dir, in))
			}
			objs, opts := load(t, nil, paths)
			if c.MeshConfig != "" {
				mc, _, err := files.ReadMeshConfig(filepath.Join(dir, c.MeshConfig))
				if err != nil {
					t.Fatal(err)
				}
				opts.MeshConfig = mc
			}
			if c.MeshNetworks != "" {
				mn, _, err := files.ReadMeshNetworks(filepath.Join(dir, c.MeshNetworks))
				if err != nil {
					t.Fatal(err)
				}
				opts.MeshNetworks = mn
			}
			h := newHarness(t, objs, opts, st)
			fuzz(h, uint64(1000+i), scale(20))
		})
	}
	t.Log("conformance: " + st.String())
}
