// Package analyzers gathers every check meshpilot runs.
package analyzers

import (
	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/schema"
)

// All returns every analyzer, in a stable order.
func All() []*analysis.Analyzer {
	var out []*analysis.Analyzer
	for _, family := range [][]*analysis.Analyzer{
		schema.Analyzers,
	} {
		out = append(out, family...)
	}
	return out
}
