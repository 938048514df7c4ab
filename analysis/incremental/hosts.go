package incremental

import "strings"

// Host tokens relate every object that names a host to every other object
// naming the same host, or a wildcard covering it, in any namespace. Three
// families of tokens keep wildcards cheap and exact:
//
//	E:<host>    the host itself, exactly as written after qualification
//	W:<suffix>  a wildcard "*<s>" registers under dotTrim(s)
//	H:<suffix>  a host registers under each suffix that starts at a dot, and ""
//
// A lookup of host h (find the entries equal to h or covering it) reads E:h
// and W:<every dot-suffix of h>; every wildcard "*s" with h ending in s is
// registered under dotTrim(s), which is such a dot-suffix (or ""). A
// wildcard reader covering other hosts ("*s" matching everything ending in
// s) reads H:dotTrim(s), which every host ending in s provides. Suffixes not
// starting at a dot ("*x.com" matches "ax.com") are rounded down to the next
// dot, so the relation over-approximates and never misses a pair.

// dotTrim cuts s at its first dot ("x.com" → ".com"); "" when it has none.
func dotTrim(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[i:]
	}
	return ""
}

// dotSuffixes calls f for each suffix of s that starts with a dot, and "".
func dotSuffixes(s string, f func(string)) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			f(s[i:])
		}
	}
	f("")
}

// entry registers h as something lookups find.
func (b *builder) entry(h string) {
	b.provide("E:" + h)
	if s, wild := strings.CutPrefix(h, "*"); wild {
		b.provide("W:" + dotTrim(s))
		dotSuffixes(s, func(x string) { b.provide("H:" + x) })
		return
	}
	dotSuffixes(h, func(x string) { b.provide("H:" + x) })
}

// lookup reads the entries equal to h or covering it.
func (b *builder) lookup(h string) {
	b.read("E:" + h)
	dotSuffixes(strings.TrimPrefix(h, "*"), func(x string) { b.read("W:" + x) })
}

// cover reads the entries a wildcard h covers; nothing for a plain host.
func (b *builder) cover(h string) {
	if s, wild := strings.CutPrefix(h, "*"); wild {
		b.read("H:" + dotTrim(s))
	}
}

// mention registers h and reads what shares it: the usual relation of a
// host an object declares or routes to.
func (b *builder) mention(h string) {
	b.entry(h)
	b.lookup(h)
}

// fqdns returns the qualified forms analyzers give a host written in
// namespace ns: mesh.Snapshot.FQDN's and, for an empty host, the form some
// analyzers build by plain concatenation.
func (b *builder) fqdns(host, ns string) []string {
	full := b.env.fqdn(host, ns)
	if host == "" {
		return []string{full, "." + ns + ".svc." + b.env.domain}
	}
	return []string{full}
}

func (v *env) fqdn(host, ns string) string {
	if host == "" || strings.HasPrefix(host, "*") || strings.Contains(host, ".") {
		return host
	}
	return host + "." + ns + ".svc." + v.domain
}

// hostNamespace is the namespace a host names when it has the form
// name.namespace[.svc[.domain]]: the partition whose Namespace object and
// Services analyzers then consult.
func hostNamespace(host string) (string, bool) {
	if host == "" || strings.HasPrefix(host, "*") {
		return "", false
	}
	parts := strings.Split(host, ".")
	if len(parts) < 2 || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}
