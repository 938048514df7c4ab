package routerules

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"
)

// prefixMatch is an http match on a URI prefix, reduced to what Istio
// compares to decide that an earlier prefix match covers a later one.
// String conditions are written "exact:v" or "prefix:v"; other kinds of
// string match reduce to "".
type prefixMatch struct {
	rule, match string
	prefix      string
	port        uint32
	method      string
	authority   string
	headers     map[string]string
	query       map[string]string
	without     map[string]string
}

func condition(s *networking.StringMatch) string {
	if v := s.GetExact(); v != "" {
		return "exact:" + v
	}
	if v := s.GetPrefix(); v != "" {
		return "prefix:" + v
	}
	return ""
}

func conditions(m map[string]*networking.StringMatch) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = condition(v)
	}
	return out
}

// newPrefixMatch returns nil for matches without a URI prefix.
func newPrefixMatch(m *networking.HTTPMatchRequest, rule, match string) *prefixMatch {
	prefix := m.GetUri().GetPrefix()
	if prefix == "" {
		return nil
	}
	method := condition(m.GetMethod())
	if method == "" {
		// Istio takes a match without method to mean GET here.
		method = "exact:GET"
	}
	return &prefixMatch{
		rule: rule, match: match, prefix: prefix, port: m.GetPort(), method: method,
		authority: condition(m.GetAuthority()),
		headers:   conditions(m.GetHeaders()),
		query:     conditions(m.GetQueryParams()),
		without:   conditions(m.GetWithoutHeaders()),
	}
}

// compatible is Istio's test for one condition of an earlier match a
// against the same condition of a later match b.
func compatible(a, b string) bool {
	return a == b || strings.HasPrefix(a, b)
}

func compatibleMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !compatible(av, bv) {
			return false
		}
	}
	return true
}

// covers reports whether earlier match a takes all the traffic of later
// match b: b's URI prefix extends a's, and the other conditions agree.
func covers(a, b *prefixMatch) bool {
	return strings.HasPrefix(b.prefix, a.prefix) &&
		a.port == b.port &&
		compatible(a.method, b.method) &&
		compatible(a.authority, b.authority) &&
		compatibleMaps(a.headers, b.headers) &&
		compatibleMaps(a.query, b.query) &&
		compatibleMaps(a.without, b.without)
}

// checkCoveredPrefixes compares every pair of prefix matches of one
// VirtualService in order; identical prefixes were handled as duplicates.
func checkCoveredPrefixes(r *reporter, ms []*prefixMatch) {
	for i, a := range ms {
		for _, b := range ms[i+1:] {
			if a.prefix != b.prefix && covers(a, b) {
				r.covered(b.rule, b, a)
			}
		}
	}
}
