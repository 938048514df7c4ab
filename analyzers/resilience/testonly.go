package resilience

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// TestOnlyFeatures reports fault injection and full mirroring outside test
// namespaces.
var TestOnlyFeatures = &analysis.Analyzer{
	Name: "resilience.TestOnlyFeatures",
	Doc: "fault injection and full mirroring outside test namespaces\n\n" +
		"A namespace is a test namespace when its meshpilot.io/environment label (else environment, else env) " +
		"is one of " + strings.Join(testWords, ", ") + ", or, with none of those labels, when a dash-, dot- or " +
		"underscore-separated part of its name is.",
	Codes: []*analysis.Code{codes.FaultInjectionOutsideTest, codes.FullMirrorOutsideTest},
	Run:   runTestOnly,
}

// EnvironmentLabels are read in this order; the first present decides.
var EnvironmentLabels = []string{"meshpilot.io/environment", "environment", "env"}

var testWords = []string{"test", "testing", "dev", "development", "qa", "staging", "stage", "sandbox", "e2e",
	"perf", "load", "ci", "preview"}

// mirrorSample is the share fixes keep mirroring.
const mirrorSample = 10

func isTestWord(s string) bool {
	s = strings.ToLower(s)
	for _, w := range testWords {
		if s == w {
			return true
		}
	}
	return false
}

// testNamespace says whether ns is a test namespace, and why.
func testNamespace(s *mesh.Snapshot, ns string) bool {
	if n := s.Namespace(ns); n != nil {
		for _, l := range EnvironmentLabels {
			if v, ok := n.Labels[l]; ok {
				return isTestWord(v)
			}
		}
	}
	for _, part := range strings.FieldsFunc(ns, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
		if isTestWord(part) {
			return true
		}
	}
	return false
}

func runTestOnly(p *analysis.Pass) (any, error) {
	verdict := map[string]bool{}
	for _, vs := range virtualServices(p.Snapshot) {
		ns := vs.Obj.Namespace()
		isTest, seen := verdict[ns]
		if !seen {
			isTest = testNamespace(p.Snapshot, ns)
			verdict[ns] = isTest
		}
		if isTest {
			continue
		}
		for i, r := range vs.Spec.GetHttp() {
			if r == nil {
				continue
			}
			rc := routeCtx{vs: vs.Obj, i: i, r: r}
			checkFault(p, rc)
			checkMirror(p, rc)
		}
	}
	return nil, nil
}

func checkFault(p *analysis.Pass, rc routeCtx) {
	f := rc.r.GetFault()
	var kinds []string
	if d := f.GetDelay(); d != nil && (d.GetPercentage().GetValue() > 0 || (d.GetPercentage() == nil && d.GetPercent() > 0)) {
		kinds = append(kinds, "delays")
	}
	if a := f.GetAbort(); a != nil && a.GetPercentage().GetValue() > 0 {
		kinds = append(kinds, "aborts")
	}
	if len(kinds) == 0 {
		return
	}
	what := strings.Join(kinds, " and ")
	report(p, codes.FaultInjectionOutsideTest, rc.vs,
		fixFor("remove the fault injection", fmt.Sprintf("Removes the fault injection from %s: requests are no longer %s on purpose in namespace %s, which is not a test namespace.",
			rc.label(), map[string]string{"delays": "delayed", "aborts": "aborted", "delays and aborts": "delayed and aborted"}[what], rc.vs.Namespace()),
			del(rc.vs, rc.path("fault"))),
		"%s injects %s in namespace %s, which is not a test namespace", rc.where(), what, rc.vs.Namespace())
}

func checkMirror(p *analysis.Pass, rc routeCtx) {
	r := rc.r
	if m := r.GetMirror(); m != nil && fullMirror(r) {
		report(p, codes.FullMirrorOutsideTest, rc.vs, mirrorFix(rc, rc.path("mirrorPercentage"), m),
			"%s mirrors all of its traffic to %s in namespace %s, which is not a test namespace", rc.where(), m.GetHost(), rc.vs.Namespace())
	}
	for j, mp := range r.GetMirrors() {
		if mp.GetDestination() == nil || (mp.GetPercentage() != nil && mp.GetPercentage().GetValue() < 100) {
			continue
		}
		report(p, codes.FullMirrorOutsideTest, rc.vs, mirrorFix(rc, rc.path("mirrors", j, "percentage"), mp.GetDestination()),
			"%s mirrors all of its traffic to %s (mirrors[%d]) in namespace %s, which is not a test namespace",
			rc.where(), mp.GetDestination().GetHost(), j, rc.vs.Namespace())
	}
}

// fullMirror: mirrorPercentage wins over the deprecated mirrorPercent;
// with neither, Istio mirrors everything.
func fullMirror(r *networking.HTTPRoute) bool {
	if mp := r.GetMirrorPercentage(); mp != nil {
		return mp.GetValue() >= 100
	}
	if mp := r.GetMirrorPercent(); mp != nil {
		return mp.GetValue() >= 100
	}
	return true
}

func mirrorFix(rc routeCtx, path string, to *networking.Destination) []analysis.Fix {
	return fixFor(fmt.Sprintf("mirror a %d%% sample", mirrorSample),
		fmt.Sprintf("Mirrors %d%% of the traffic of %s to %s instead of all of it: the shadow still sees real requests, but production load on it drops tenfold.",
			mirrorSample, rc.label(), to.GetHost()),
		set(rc.vs, path, map[string]any{"value": mirrorSample}))
}
