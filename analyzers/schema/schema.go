// Package schema reports what decoding found wrong with objects against
// their kinds' schemas (IST0106 for Istio kinds, MP0106 for Kubernetes and
// Gateway API kinds), and objects defined twice.
package schema

import (
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Validation, Duplicates}

// Validation reports schema errors found on load.
var Validation = &analysis.Analyzer{
	Name:  "schema.Validation",
	Doc:   "report fields of the wrong type, unknown fields and invalid values\n\nEvery Istio object is decoded against its API's schema; each field that does not fit is reported with its path and line, and the rest of the object is still analyzed.",
	Codes: []*analysis.Code{codes.SchemaValidationError, codes.KubernetesSchemaError},
	Run: func(p *analysis.Pass) (any, error) {
		for _, o := range p.Snapshot.Objects() {
			code := codes.KubernetesSchemaError
			if isIstio(o.Group) {
				code = codes.SchemaValidationError
			}
			for _, e := range o.SchemaErrors {
				f := analysis.NewFinding(code, o, fieldMessage(e))
				if e.Line > 0 {
					f.Line = e.Line
				}
				p.Report(f)
			}
		}
		return nil, nil
	},
}

func fieldMessage(e mesh.FieldError) string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

func isIstio(group string) bool { return strings.HasSuffix(group, ".istio.io") }

// Duplicates reports objects defined more than once.
var Duplicates = &analysis.Analyzer{
	Name:  "schema.Duplicates",
	Doc:   "report objects defined more than once\n\nTwo definitions of the same kind, namespace and name cannot both exist in a cluster: whichever is applied last silently wins.",
	Codes: []*analysis.Code{codes.DuplicateResource},
	Run: func(p *analysis.Pass) (any, error) {
		for _, d := range p.Snapshot.Duplicates() {
			first, again := d[0], d[1]
			p.Reportf(codes.DuplicateResource, again, "%s is defined twice: at %s and at %s", again.Ref(), first.Source, again.Source)
		}
		return nil, nil
	},
}
