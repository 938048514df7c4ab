package guardrail

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// AnalyzerName is the name of every analyzer Analyzer builds.
const AnalyzerName = "guardrail.Policy"

// Analyzer returns the analyzer that checks a snapshot against p: an
// MP5001 finding per broken limit, an MP5002 finding per broken rule, each
// at the level the policy gives it.
func Analyzer(p *Policy) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: AnalyzerName,
		Doc: "organisation guardrails\n\nChecks objects against the limits and CEL rules of the GuardrailPolicy " +
			"given with --policy (" + p.File + "); see docs/guardrails.md.",
		Codes: codes.Guardrail,
		Run:   func(pass *analysis.Pass) (any, error) { return nil, run(pass, p) },
	}
}

func run(pass *analysis.Pass, p *Policy) error {
	gks := make([]mesh.GroupKind, 0, len(p.kinds))
	for gk := range p.kinds {
		gks = append(gks, gk)
	}
	sort.Slice(gks, func(i, j int) bool { return gks[i].String() < gks[j].String() })
	var objs []*mesh.Object
	for _, gk := range gks {
		objs = append(objs, pass.Snapshot.List(gk)...)
	}
	found, err := checkAll(p, pass.Snapshot, objs)
	if err != nil {
		return err
	}
	for i, vs := range found {
		for _, v := range vs {
			pass.Report(v.finding(objs[i]))
		}
	}
	e := newEvaluator(p, pass.Snapshot)
	for _, o := range pass.Snapshot.List(mesh.Namespace) {
		for _, v := range e.namespaceMTLS(o) {
			pass.Report(v.finding(o))
		}
	}
	return nil
}

// checkAll checks objects on every core, each worker with its own
// evaluator over a contiguous share, and returns what each breaks.
func checkAll(p *Policy, snap *mesh.Snapshot, objs []*mesh.Object) ([][]violation, error) {
	found := make([][]violation, len(objs))
	workers := min(runtime.GOMAXPROCS(0), len(objs)/256+1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEvaluator(p, snap)
			for i := w * len(objs) / workers; i < (w+1)*len(objs)/workers; i++ {
				vs, err := e.check(objs[i], nil)
				if err != nil {
					errs[w] = err
					return
				}
				found[i] = vs
			}
		}()
	}
	wg.Wait()
	return found, errors.Join(errs...)
}

func (v violation) finding(o *mesh.Object) analysis.Finding {
	if v.rule != nil {
		f := analysis.NewFinding(codes.GuardrailRuleViolated, o, fmt.Sprintf("guardrail rule %q: %s", v.rule.name, v.msg))
		f.Level = v.rule.level
		return f
	}
	f := analysis.NewFinding(codes.GuardrailLimitViolated, o, fmt.Sprintf("guardrail limit %q: %s", v.limit.name, v.msg))
	f.Level = v.limit.level
	return f
}

// namespaceMTLS checks the mTLS mode a namespace inherits: when no
// namespace-wide PeerAuthentication of its own sets a mode, the root
// namespace's mesh-wide one applies, else Istio's default, PERMISSIVE.
func (e *evaluator) namespaceMTLS(ns *mesh.Object) []violation {
	kc := e.p.kinds[mesh.Namespace]
	if kc == nil {
		return nil
	}
	var out []violation
	for _, l := range kc.limits {
		if l.mtls == "" || !e.inScope(l.scope, mesh.Namespace, ns.Name(), ns.Labels()) {
			continue
		}
		if namespaceWideMode(e.snap, ns.Name()) != "" {
			continue // the namespace's own PeerAuthentication is checked itself
		}
		mode, from := "PERMISSIVE", "Istio's default, as no PeerAuthentication sets one"
		root := e.snap.RootNamespace()
		if m := namespaceWideMode(e.snap, root); m != "" {
			mode, from = m, "the mesh-wide PeerAuthentication in "+root
		}
		if modeRank[mode] < modeRank[l.mtls] {
			out = append(out, violation{limit: l, key: "namespace",
				msg: fmt.Sprintf("namespace %s gets mTLS mode %s from %s, weaker than requiredMtlsMode %s", ns.Name(), mode, from, l.mtls)})
		}
	}
	return out
}

// namespaceWideMode is the mode set by a PeerAuthentication without a
// selector in ns, or "" when none sets one.
func namespaceWideMode(snap *mesh.Snapshot, ns string) string {
	for _, o := range snap.InNamespace(mesh.PeerAuthentication, ns) {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		if !ok || len(pa.GetSelector().GetMatchLabels()) > 0 {
			continue
		}
		if m := pa.GetMtls().GetMode(); m != security.PeerAuthentication_MutualTLS_UNSET {
			return m.String()
		}
	}
	return ""
}
