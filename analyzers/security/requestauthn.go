package security

import (
	"strings"

	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// RequestAuthentications checks that JWT validation is required and
// reaches the workloads meant.
var RequestAuthentications = &analysis.Analyzer{
	Name: "security.RequestAuthentications",
	Doc: "report RequestAuthentications that do not make a token required or apply nowhere\n\n" +
		"A RequestAuthentication only rejects invalid tokens; without an AuthorizationPolicy requiring a request " +
		"principal, requests without a token pass. Also reports several RequestAuthentications on one workload, " +
		"selectors matching nothing, and selector-attached policies on ambient workloads (ztunnel does no JWT).",
	Codes: []*analysis.Code{codes.TokenNotRequired, codes.MultipleRequestAuthentications,
		codes.RequestAuthenticationSelectsNothing},
	Run: runRequestAuthn,
}

func runRequestAuthn(pass *analysis.Pass) (any, error) {
	ras := pass.Snapshot.List(mesh.RequestAuthentication)
	if len(ras) == 0 {
		return nil, nil
	}
	x := newIndex(pass.Snapshot)
	requiring := tokenRequiringPolicies(pass, x)
	count := map[*mesh.Workload][]*mesh.Object{}
	for _, o := range ras {
		ra, ok := o.Obj.(*security.RequestAuthentication)
		if !ok || ra == nil || ra.GetTargetRef() != nil || len(ra.GetTargetRefs()) > 0 {
			continue
		}
		sel := ra.GetSelector().GetMatchLabels()
		ws := x.scope(o.Namespace(), sel)
		if len(ws) == 0 {
			if len(sel) > 0 {
				pass.Reportf(codes.RequestAuthenticationSelectsNothing, o, "the selector %s matches no mesh workload, so this policy validates no token", mesh.FormatLabels(sel))
			}
			continue
		}
		var open []*mesh.Workload
		for _, w := range ws {
			count[w] = append(count[w], o)
			if !requiring[w] {
				open = append(open, w)
			}
		}
		if len(open) > 0 {
			pass.Reportf(codes.TokenNotRequired, o,
				"no AuthorizationPolicy requires a request principal for %s, so requests without a token are accepted; only invalid tokens are rejected", names(open, 3))
		}
	}
	reported := map[*mesh.Object]bool{}
	for _, w := range pass.Snapshot.Workloads() {
		l := count[w]
		if len(l) < 2 {
			continue
		}
		for _, o := range l {
			if reported[o] {
				continue
			}
			reported[o] = true
			var others []string
			for _, p := range l {
				if p != o {
					others = append(others, p.Namespace()+"/"+p.Name())
				}
			}
			pass.Reportf(codes.MultipleRequestAuthentications, o,
				"workload %s is also selected by RequestAuthentication %s; their JWT rules combine", w.Object.Name(), strings.Join(others, ", "))
		}
	}
	return nil, nil
}

// tokenRequiringPolicies marks the workloads that an enforced policy
// requires a request principal for: ALLOW on requestPrincipals or
// request.auth claims, or DENY on notRequestPrincipals.
func tokenRequiringPolicies(pass *analysis.Pass, x *index) map[*mesh.Workload]bool {
	out := map[*mesh.Workload]bool{}
	for _, o := range pass.Snapshot.List(mesh.AuthorizationPolicy) {
		ap, ok := o.Obj.(*security.AuthorizationPolicy)
		if !ok || ap == nil || o.Annotations()["istio.io/dry-run"] == "true" || !requiresToken(ap) {
			continue
		}
		var ws []*mesh.Workload
		if ap.GetTargetRef() == nil && len(ap.GetTargetRefs()) == 0 {
			ws = x.scope(o.Namespace(), ap.GetSelector().GetMatchLabels())
		}
		for _, w := range ws {
			out[w] = true
		}
	}
	return out
}

func requiresToken(ap *security.AuthorizationPolicy) bool {
	for _, r := range ap.GetRules() {
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			if ap.GetAction() == security.AuthorizationPolicy_ALLOW && len(s.GetRequestPrincipals()) > 0 {
				return true
			}
			if ap.GetAction() == security.AuthorizationPolicy_DENY && len(s.GetNotRequestPrincipals()) > 0 {
				return true
			}
		}
		for _, c := range r.GetWhen() {
			if ap.GetAction() == security.AuthorizationPolicy_ALLOW && strings.HasPrefix(c.GetKey(), "request.auth.") && len(c.GetValues()) > 0 {
				return true
			}
		}
	}
	return false
}
