package analysis

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/telemetry"
)

// InternalError is reported when an analyzer breaks (an error or a panic):
// the other analyzers' findings still stand.
var InternalError = &Code{
	ID: "IST0001", Name: "InternalError", Level: Error,
	Doc: "There was an internal error in the toolchain. This is almost always a bug in the implementation.",
	Fix: "Report it with the input that caused it.",
}

// Suppression annotations: istioctl's, and meshpilot's own.
const (
	AnnotationIstioSuppress = "galley.istio.io/analyze-suppress"
	AnnotationIgnore        = "meshpilot.io/ignore"
)

// Selection says which analyzers and codes run.
type Selection struct {
	Analyzers []*Analyzer
	// codes, when non-nil, restricts reported findings to these codes.
	codes map[string]bool
	skip  map[string]bool
}

// Select resolves --only and --skip lists, each entry a code ("IST0101")
// or an analyzer name. An entry that names neither is an error.
func Select(all []*Analyzer, only, skip []string) (*Selection, error) {
	byName := map[string]*Analyzer{}
	byCode := map[string][]*Analyzer{}
	for _, a := range all {
		byName[a.Name] = a
		for _, c := range a.Codes {
			byCode[c.ID] = append(byCode[c.ID], a)
		}
	}
	check := func(flag string, list []string) error {
		for _, e := range list {
			if byName[e] == nil && byCode[strings.ToUpper(e)] == nil {
				return fmt.Errorf("--%s: %q is neither an analyzer nor a code (see 'meshpilot analyzers')", flag, e)
			}
		}
		return nil
	}
	if err := check("only", only); err != nil {
		return nil, err
	}
	if err := check("skip", skip); err != nil {
		return nil, err
	}
	sel := &Selection{skip: map[string]bool{}}
	chosen := map[*Analyzer]bool{}
	if len(only) == 0 {
		for _, a := range all {
			chosen[a] = true
		}
	} else {
		sel.codes = map[string]bool{}
		for _, e := range only {
			if a := byName[e]; a != nil {
				chosen[a] = true
				for _, c := range a.Codes {
					sel.codes[c.ID] = true
				}
				continue
			}
			id := strings.ToUpper(e)
			sel.codes[id] = true
			for _, a := range byCode[id] {
				chosen[a] = true
			}
		}
	}
	for _, e := range skip {
		if a := byName[e]; a != nil {
			delete(chosen, a)
			continue
		}
		sel.skip[strings.ToUpper(e)] = true
	}
	// Required analyzers run too, but only the chosen ones report.
	seen := map[*Analyzer]bool{}
	var add func(a *Analyzer)
	add = func(a *Analyzer) {
		if seen[a] {
			return
		}
		seen[a] = true
		for _, r := range a.Requires {
			add(r)
		}
		sel.Analyzers = append(sel.Analyzers, a)
	}
	for _, a := range all {
		if chosen[a] {
			add(a)
		}
	}
	if sel.codes == nil && len(sel.Analyzers) > len(chosen) {
		sel.codes = map[string]bool{}
		for a := range chosen {
			for _, c := range a.Codes {
				sel.codes[c.ID] = true
			}
		}
	}
	return sel, nil
}

// Keeps reports whether a finding of this code is kept by the selection.
func (s *Selection) Keeps(code string) bool {
	if s.skip[code] {
		return false
	}
	return s.codes == nil || s.codes[code]
}

// Options configure a run.
type Options struct {
	// Namespaces, when non-empty, keeps only findings on objects in these
	// namespaces (and on cluster-scoped objects none).
	Namespaces []string
	// Parallelism bounds concurrent analyzers; 0 means GOMAXPROCS.
	Parallelism int
	// Reads, when set, is told after each analyzer ran which kinds it read
	// (mesh.Snapshot.Tracked): what a source that could not list a kind
	// names as the checks that lost precision. Calls are serialized.
	Reads func(a *Analyzer, kinds []mesh.GroupKind)
	// Telemetry is observed traffic. Analyzers marked Telemetry run only
	// when it is set.
	Telemetry *telemetry.Graph
}

// Run runs the selected analyzers over the snapshot, in parallel where
// Requires allows, and returns their findings sorted. An analyzer that
// fails or panics yields an IST0001 finding naming it; the others go on.
func Run(ctx context.Context, snap *mesh.Snapshot, sel *Selection, opts Options) ([]Finding, error) {
	var analyzers []*Analyzer
	for _, a := range sel.Analyzers {
		if !a.Telemetry || opts.Telemetry != nil {
			analyzers = append(analyzers, a)
		}
	}
	results := make(map[*Analyzer]any, len(analyzers))
	done := make(map[*Analyzer]chan struct{}, len(analyzers))
	for _, a := range analyzers {
		done[a] = make(chan struct{})
	}
	par := opts.Parallelism
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	var wg sync.WaitGroup
	perAnalyzer := make([][]Finding, len(analyzers))
	for i, a := range analyzers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[a])
			for _, r := range a.Requires {
				if ch, ok := done[r]; ok {
					<-ch
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			mu.Lock()
			resultOf := make(map[*Analyzer]any, len(a.Requires))
			for _, r := range a.Requires {
				resultOf[r] = results[r]
			}
			mu.Unlock()
			var out []Finding
			view, reads := snap, (*mesh.ReadSet)(nil)
			if opts.Reads != nil {
				view, reads = snap.Tracked()
			}
			pass := &Pass{Analyzer: a, Snapshot: view, ResultOf: resultOf, Report: func(f Finding) {
				f.Analyzer = a.Name
				out = append(out, f)
			}}
			if a.Telemetry {
				pass.Telemetry = opts.Telemetry
			}
			res, err := runOne(pass)
			if err != nil {
				f := NewFinding(InternalError, nil, fmt.Sprintf("analyzer %s failed: %v", a.Name, err))
				f.Analyzer = a.Name
				out = append(out, f)
			}
			mu.Lock()
			results[a] = res
			if reads != nil {
				opts.Reads(a, reads.Kinds())
			}
			mu.Unlock()
			perAnalyzer[i] = out
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("analysis interrupted: %w", err)
	}
	var all []Finding
	nsKeep := map[string]bool{}
	for _, ns := range opts.Namespaces {
		nsKeep[ns] = true
	}
	for _, fs := range perAnalyzer {
		for _, f := range fs {
			if f.Code != InternalError.ID && !sel.Keeps(f.Code) {
				continue
			}
			if len(nsKeep) > 0 && f.Object != nil && !nsKeep[f.Namespace] {
				continue
			}
			if suppressed(f) {
				continue
			}
			all = append(all, f)
		}
	}
	Sort(all)
	return all, nil
}

func runOne(p *Pass) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return p.Analyzer.Run(p)
}

// suppressed honours istioctl's galley.istio.io/analyze-suppress and our
// meshpilot.io/ignore: comma-separated codes, or "*" for all.
func suppressed(f Finding) bool {
	if f.Object == nil {
		return false
	}
	ann := f.Object.Annotations()
	for _, key := range []string{AnnotationIstioSuppress, AnnotationIgnore} {
		v, ok := ann[key]
		if !ok {
			continue
		}
		for _, c := range strings.Split(v, ",") {
			c = strings.TrimSpace(c)
			if c == "*" || strings.EqualFold(c, f.Code) {
				return true
			}
		}
	}
	return false
}

// Sort orders findings by namespace, resource, code, line and message.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Message < b.Message
	})
}
