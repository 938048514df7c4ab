package incremental

import (
	"fmt"
	"sort"

	"github.com/meshpilot/meshpilot/mesh"
)

// DebugDeps describes an object's deps, for failing tests.
func (e *Engine) DebugDeps(o *mesh.Object) string {
	d := e.env.depsOf(o)
	d.compact()
	return fmt.Sprintf("%s part=%q provides=%v reads=%v parts=%v ns=%v pat=%v exists=%v first=%v/%v",
		o.Ref(), partitionOf(o), d.provides, d.reads, d.parts, d.nsExists, d.patterns, d.exists, d.firstProvides, d.firstReads)
}

// DebugContext returns the partitions a re-analysis of ns would read.
func (e *Engine) DebugContext(ns ...string) []string {
	a := map[string]bool{}
	for _, n := range ns {
		a[n] = true
	}
	var out []string
	for p := range e.contextOf(a) {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
