package codes

import "github.com/meshpilot/meshpilot/analysis"

// meshpilot's own codes. MP0xxx: input and schema; later ranges by family.
var (
	KubernetesSchemaError = &analysis.Code{ID: "MP0106", Name: "KubernetesSchemaError", Level: analysis.Error,
		Doc: "A Kubernetes or Gateway API object has a field of the wrong type or shape; the API server would reject it.",
		Fix: "Correct the field named in the message to the type the API expects."}
	DuplicateResource = &analysis.Code{ID: "MP0002", Name: "DuplicateResource", Level: analysis.Error,
		Doc: "The same object (kind, namespace and name) is defined more than once in the inputs; only one can exist in a cluster, so the other silently wins.",
		Fix: "Keep one definition: delete the other or rename it."}
)

// MP lists meshpilot's own codes.
var MP = []*analysis.Code{KubernetesSchemaError, DuplicateResource}

// All lists every code, IST first.
func All() []*analysis.Code { return append(append([]*analysis.Code{}, IST...), MP...) }

// Lookup finds a code by ID ("IST0101") or name, or returns nil.
func Lookup(idOrName string) *analysis.Code {
	for _, c := range All() {
		if c.ID == idOrName || c.Name == idOrName {
			return c
		}
	}
	return nil
}
