package incremental

import (
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/mesh"
)

// globalKey is the reader key of global objects: their findings are
// recomputed by full runs only, so a change that reaches them forces one.
const globalKey = "\x00global"

// counts is a multiset of strings.
type counts map[string]int

func (c counts) add(k string, n int) {
	if v := c[k] + n; v > 0 {
		c[k] = v
	} else {
		delete(c, k)
	}
}

// counts2 maps a key to a multiset, dropping empty ones.
type counts2 map[string]counts

func (c counts2) add(k, v string, n int) {
	m := c[k]
	if m == nil {
		if n <= 0 {
			return
		}
		m = counts{}
		c[k] = m
	}
	m.add(v, n)
	if len(m) == 0 {
		delete(c, k)
	}
}

// readSet is what the objects of one reader key read, counted.
type readSet struct {
	all, first, exists, ns, patterns, parts counts
}

func newReadSet() *readSet {
	return &readSet{all: counts{}, first: counts{}, exists: counts{}, ns: counts{}, patterns: counts{}, parts: counts{}}
}

func (r *readSet) empty() bool {
	return len(r.all)+len(r.first)+len(r.exists)+len(r.ns)+len(r.patterns)+len(r.parts) == 0
}

// existsQuery is a label set some reader needs a workload for, and the
// partitions holding a workload that carries it.
type existsQuery struct {
	labels map[string]string
	match  map[string]bool
}

// index is the link relation, maintained per object change.
type index struct {
	providers    counts2 // token → partition → count
	partProvides counts2 // partition → token → count
	readers      counts2 // token → reader key → count

	firstProviders map[string]map[*item]bool // token → providers, first by seq
	firstReaders   counts2

	partReaders counts2 // partition read whole → reader keys
	nsReaders   counts2 // lower-cased namespace → reader keys
	patReaders  counts2 // pattern → reader keys
	patMatches  counts  // pattern → non-empty partitions matching it

	existsReaders counts2 // query key → reader keys
	exists        map[string]*existsQuery
	existsByPair  map[[2]string]map[string]bool // label pair → query keys

	reads map[string]*readSet // reader key → its reads
}

func newIndex() *index {
	return &index{
		providers: counts2{}, partProvides: counts2{}, readers: counts2{},
		firstProviders: map[string]map[*item]bool{}, firstReaders: counts2{},
		partReaders: counts2{}, nsReaders: counts2{}, patReaders: counts2{}, patMatches: counts{},
		existsReaders: counts2{}, exists: map[string]*existsQuery{}, existsByPair: map[[2]string]map[string]bool{},
		reads: map[string]*readSet{},
	}
}

func (x *index) provide(part, tok string, n int) {
	x.providers.add(tok, part, n)
	x.partProvides.add(part, tok, n)
}

func (x *index) readSet(key string) *readSet {
	r := x.reads[key]
	if r == nil {
		r = newReadSet()
		x.reads[key] = r
	}
	return r
}

// apply adds (n = 1) or removes (n = -1) an item's deps. e supplies the
// partitions for pattern counts and workloads for existence queries.
func (e *Engine) apply(it *item, d *deps, n int) {
	x := e.idx
	rk := it.readerKey()
	rs := x.readSet(rk)
	for _, t := range d.provides {
		x.provide(it.part, t, n)
	}
	for _, t := range d.reads {
		x.readers.add(t, rk, n)
		rs.all.add(t, n)
	}
	for _, t := range d.firstProvides {
		m := x.firstProviders[t]
		if m == nil {
			m = map[*item]bool{}
			x.firstProviders[t] = m
		}
		if n > 0 {
			m[it] = true
		} else {
			delete(m, it)
			if len(m) == 0 {
				delete(x.firstProviders, t)
			}
		}
	}
	for _, t := range d.firstReads {
		x.firstReaders.add(t, rk, n)
		rs.first.add(t, n)
	}
	for _, p := range d.parts {
		x.partReaders.add(p, rk, n)
		rs.parts.add(p, n)
	}
	for _, s := range d.nsExists {
		x.nsReaders.add(s, rk, n)
		rs.ns.add(s, n)
	}
	for _, p := range d.patterns {
		if n > 0 && x.patReaders[p] == nil {
			x.patMatches[p] = e.countPattern(p)
		}
		x.patReaders.add(p, rk, n)
		rs.patterns.add(p, n)
		if x.patReaders[p] == nil {
			delete(x.patMatches, p)
		}
	}
	for _, l := range d.exists {
		k := mesh.FormatLabels(l)
		if n > 0 && x.existsReaders[k] == nil {
			e.registerExists(k, l)
		}
		x.existsReaders.add(k, rk, n)
		rs.exists.add(k, n)
		if x.existsReaders[k] == nil {
			x.unregisterExists(k)
		}
	}
	if rs.empty() {
		delete(x.reads, rk)
	}
}

// first returns the first provider of a token in load order.
func (x *index) first(t string) *item {
	var best *item
	for it := range x.firstProviders[t] {
		if best == nil || it.seq < best.seq {
			best = it
		}
	}
	return best
}

// matchPattern: "prefix*" and "*suffix", as auth.AuthorizationPolicies
// reads source namespaces.
func matchPattern(p, ns string) bool {
	switch {
	case p == "*":
		return true
	case strings.HasPrefix(p, "*"):
		return strings.HasSuffix(ns, p[1:])
	case strings.HasSuffix(p, "*"):
		return strings.HasPrefix(ns, p[:len(p)-1])
	}
	return ns == p
}

func (e *Engine) countPattern(p string) int {
	n := 0
	for name, pt := range e.parts {
		if name != clusterScope && len(pt.items) > 0 && matchPattern(p, name) {
			n++
		}
	}
	return n
}

func (e *Engine) registerExists(k string, l map[string]string) {
	x := e.idx
	q := &existsQuery{labels: l, match: map[string]bool{}}
	x.exists[k] = q
	if len(l) == 0 {
		x.pairKeys([2]string{}, k, true)
	}
	for lk, lv := range l {
		x.pairKeys([2]string{lk, lv}, k, true)
	}
	// Candidates: partitions with a workload carrying the rarest pair.
	cands := x.providers[selectorToken(l, nil)]
	for _, lk := range sortedKeys(l) {
		if c := x.providers[wlToken(lk, l[lk])]; len(c) < len(cands) {
			cands = c
		}
	}
	for p := range cands {
		if e.parts[p].matches(l) {
			q.match[p] = true
		}
	}
}

func (x *index) unregisterExists(k string) {
	q := x.exists[k]
	if q == nil {
		return
	}
	delete(x.exists, k)
	if len(q.labels) == 0 {
		x.pairKeys([2]string{}, k, false)
	}
	for lk, lv := range q.labels {
		x.pairKeys([2]string{lk, lv}, k, false)
	}
}

func (x *index) pairKeys(pair [2]string, k string, add bool) {
	m := x.existsByPair[pair]
	if add {
		if m == nil {
			m = map[string]bool{}
			x.existsByPair[pair] = m
		}
		m[k] = true
		return
	}
	delete(m, k)
	if len(m) == 0 {
		delete(x.existsByPair, pair)
	}
}

// setWorkloads replaces a partition's workloads (their labels), keeping
// the workload tokens it provides and the existence queries current. It
// returns the reader keys of queries whose answer (some workload anywhere
// carries the labels) flipped.
func (e *Engine) setWorkloads(p *partition, ws []map[string]string) []string {
	x := e.idx
	old := p.workloads
	for _, l := range old {
		x.provide(p.name, wlAny, -1)
		for k, v := range l {
			x.provide(p.name, wlToken(k, v), -1)
		}
	}
	p.workloads = ws
	for _, l := range ws {
		x.provide(p.name, wlAny, 1)
		for k, v := range l {
			x.provide(p.name, wlToken(k, v), 1)
		}
	}
	// Queries whose answer for p may have changed.
	keys := map[string]bool{}
	for k := range x.existsByPair[[2]string{}] {
		keys[k] = true
	}
	for _, list := range [2][]map[string]string{old, ws} {
		for _, l := range list {
			for lk, lv := range l {
				for k := range x.existsByPair[[2]string{lk, lv}] {
					keys[k] = true
				}
			}
		}
	}
	var flipped []string
	for k := range keys {
		q := x.exists[k]
		had := len(q.match) > 0
		if p.matches(q.labels) {
			q.match[p.name] = true
		} else {
			delete(q.match, p.name)
		}
		if had != (len(q.match) > 0) {
			for rk := range x.existsReaders[k] {
				flipped = append(flipped, rk)
			}
		}
	}
	return flipped
}

// contextOf returns the partitions a re-analysis of the affected
// partitions needs: themselves, what they read, and a witness for each
// existence they depend on.
func (e *Engine) contextOf(affected map[string]bool) map[string]bool {
	x := e.idx
	c := map[string]bool{}
	for _, g := range e.globalParts() {
		c[g] = true
	}
	for p := range affected {
		c[p] = true
	}
	for p := range affected {
		rs := x.reads[p]
		if rs == nil {
			continue
		}
		for t := range rs.all {
			for q := range x.providers[t] {
				c[q] = true
			}
		}
		for t := range rs.first {
			if f := x.first(t); f != nil {
				c[f.part] = true
			}
		}
		for q := range rs.parts {
			c[q] = true
		}
		for s := range rs.ns {
			for q := range e.byLower[s] {
				c[q] = true
			}
		}
	}
	// Witnesses: one partition per existence read suffices.
	for p := range affected {
		rs := x.reads[p]
		if rs == nil {
			continue
		}
		for k := range rs.exists {
			if q := x.exists[k]; q != nil && len(q.match) > 0 && !anyIn(q.match, c) {
				c[minKey(q.match)] = true
			}
		}
		for pat := range rs.patterns {
			if x.patMatches[pat] > 0 && !e.patternIn(pat, c) {
				c[e.patternWitness(pat)] = true
			}
		}
	}
	e.factWitnesses(c)
	return c
}

func anyIn(m map[string]bool, c map[string]bool) bool {
	if len(c) < len(m) {
		for p := range c {
			if m[p] {
				return true
			}
		}
		return false
	}
	for p := range m {
		if c[p] {
			return true
		}
	}
	return false
}

func minKey(m map[string]bool) string {
	best, first := "", true
	for k := range m {
		if first || k < best {
			best, first = k, false
		}
	}
	return best
}

func (e *Engine) patternIn(pat string, c map[string]bool) bool {
	for p := range c {
		if pt := e.parts[p]; p != clusterScope && pt != nil && len(pt.items) > 0 && matchPattern(pat, p) {
			return true
		}
	}
	return false
}

func (e *Engine) patternWitness(pat string) string {
	var names []string
	for p, pt := range e.parts {
		if p != clusterScope && len(pt.items) > 0 && matchPattern(pat, p) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	return names[0]
}

// factWitnesses adds a partition holding a Namespace object, and one
// holding a live (clustered) object, when the mesh has some and the
// context none: analyzers skip namespace checks without Namespace objects,
// and assume a default ingress gateway without live objects.
func (e *Engine) factWitnesses(c map[string]bool) {
	facts := []struct {
		total  int
		of     func(*partition) int
		global func(*item) bool
	}{
		{e.nsObjects, func(p *partition) int { return p.nsObjects }, func(*item) bool { return false }},
		{e.clustered, func(p *partition) int { return p.clustered }, func(it *item) bool { return it.obj.Source.Cluster != "" }},
	}
	for _, f := range facts {
		if f.total == 0 || e.factIn(c, f.of, f.global) {
			continue
		}
		var names []string
		for name, pt := range e.parts {
			if f.of(pt) > 0 {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			c[names[0]] = true
		}
	}
}

func (e *Engine) factIn(c map[string]bool, of func(*partition) int, global func(*item) bool) bool {
	for p := range c {
		if pt := e.parts[p]; pt != nil && of(pt) > 0 {
			return true
		}
	}
	for it := range e.globals {
		if global(it) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
