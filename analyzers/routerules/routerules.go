// Package routerules reports VirtualService routing rules that can never
// apply: rules shadowed by earlier ones and matches that an earlier match
// already covers. Istio evaluates rules in order and the first match wins.
package routerules

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Shadowed}

// Shadowed reports unreachable rules and ineffective matches.
var Shadowed = &analysis.Analyzer{
	Name: "routerules.Shadowed",
	Doc: "report VirtualService rules and matches that earlier ones shadow\n\n" +
		"Within each of a VirtualService's http, tcp and tls rule lists, a rule is unreachable when it has no " +
		"match after another rule without match, or when every one of its matches repeats an earlier match; a " +
		"single match is ineffective when it repeats an earlier one, or (http) when an earlier URI prefix match " +
		"with the same method, authority, port, headers and query parameters already covers it.",
	Codes: []*analysis.Code{codes.VirtualServiceUnreachableRule, codes.VirtualServiceIneffectiveMatch},
	Run:   run,
}

func run(p *analysis.Pass) (any, error) {
	for _, o := range p.Snapshot.List(mesh.VirtualService) {
		vs, _ := o.Obj.(*networking.VirtualService)
		if vs == nil {
			continue
		}
		r := &reporter{pass: p, obj: o}
		checkHTTP(r, vs.GetHttp())
		checkTCP(r, vs.GetTcp())
		checkTLS(r, vs.GetTls())
	}
	return nil, nil
}

// reporter words the findings of one VirtualService.
type reporter struct {
	pass *analysis.Pass
	obj  *mesh.Object
}

func (r *reporter) unreachable(list, rule, why string) {
	r.pass.Reportf(codes.VirtualServiceUnreachableRule, r.obj, "%s rule %s is never used: %s", list, rule, why)
}

func (r *reporter) duplicate(list, rule, match, earlierRule string) {
	r.pass.Reportf(codes.VirtualServiceIneffectiveMatch, r.obj,
		"%s rule %s match %s never applies: rule %s has the same match earlier", list, rule, match, earlierRule)
}

func (r *reporter) covered(rule string, later, earlier *prefixMatch) {
	r.pass.Reportf(codes.VirtualServiceIneffectiveMatch, r.obj,
		"http rule %s match %s (uri prefix %q) never applies: match %s of rule %s (uri prefix %q) covers it earlier",
		rule, later.match, later.prefix, earlier.match, earlier.rule, earlier.prefix)
}

const (
	whyCatchAll  = "an earlier rule without match already takes all traffic; only the last rule may omit match"
	whyAllShadow = "each of its matches repeats a match of an earlier rule"
)

// ordinal names the n-th rule or match: its quoted name when it has one.
func ordinal(name string, n int) string {
	if name != "" {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("#%d", n)
}

// matchKey serializes a match deterministically so equal matches compare
// equal; a nil match has its own key.
func matchKey(m proto.Message, isNil bool) string {
	if isNil {
		return "nil"
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return "error:" + err.Error()
	}
	return "m:" + string(b)
}

// seen tracks, for one rule list, the first rule of every match and
// whether a rule without match has been met.
type seen struct {
	first    map[string]int
	catchAll bool
}

func newSeen() *seen { return &seen{first: map[string]int{}} }

func checkHTTP(r *reporter, rules []*networking.HTTPRoute) {
	s := newSeen()
	var prefixes []*prefixMatch
	for i, rule := range rules {
		if rule == nil {
			continue
		}
		name := ordinal(rule.GetName(), i)
		if len(rule.GetMatch()) == 0 {
			if s.catchAll {
				r.unreachable("http", name, whyCatchAll)
			}
			s.catchAll = true
			continue
		}
		dups := 0
		for j, m := range rule.GetMatch() {
			key := httpMatchKey(m)
			if k, ok := s.first[key]; ok {
				r.duplicate("http", name, ordinal(m.GetName(), j), ordinal(rules[k].GetName(), k))
				dups++
				continue
			}
			s.first[key] = i
			if pm := newPrefixMatch(m, name, ordinal(m.GetName(), j)); pm != nil {
				prefixes = append(prefixes, pm)
			}
		}
		if dups == len(rule.GetMatch()) {
			r.unreachable("http", name, whyAllShadow)
		}
	}
	checkCoveredPrefixes(r, prefixes)
}

// httpMatchKey ignores the match's name, which does not affect routing.
func httpMatchKey(m *networking.HTTPMatchRequest) string {
	if m == nil {
		return matchKey(nil, true)
	}
	if m.GetName() != "" {
		c := proto.Clone(m).(*networking.HTTPMatchRequest)
		c.Name = ""
		m = c
	}
	return matchKey(m, false)
}

func checkTCP(r *reporter, rules []*networking.TCPRoute) {
	s := newSeen()
	for i, rule := range rules {
		if rule == nil {
			continue
		}
		keys := make([]string, len(rule.GetMatch()))
		for j, m := range rule.GetMatch() {
			keys[j] = matchKey(m, m == nil)
		}
		checkUnnamed(r, s, "tcp", i, keys)
	}
}

func checkTLS(r *reporter, rules []*networking.TLSRoute) {
	s := newSeen()
	for i, rule := range rules {
		if rule == nil {
			continue
		}
		keys := make([]string, len(rule.GetMatch()))
		for j, m := range rule.GetMatch() {
			keys[j] = matchKey(m, m == nil)
		}
		checkUnnamed(r, s, "tls", i, keys)
	}
}

// checkUnnamed applies the duplicate rules to tcp and tls rules, whose
// rules and matches have no names.
func checkUnnamed(r *reporter, s *seen, list string, i int, keys []string) {
	name := ordinal("", i)
	if len(keys) == 0 {
		if s.catchAll {
			r.unreachable(list, name, whyCatchAll)
		}
		s.catchAll = true
		return
	}
	dups := 0
	for j, key := range keys {
		if k, ok := s.first[key]; ok {
			r.duplicate(list, name, ordinal("", j), ordinal("", k))
			dups++
			continue
		}
		s.first[key] = i
	}
	if dups == len(keys) {
		r.unreachable(list, name, whyAllShadow)
	}
}
