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

// MP lists meshpilot's own core codes (MP0xxx).
var MP = []*analysis.Code{KubernetesSchemaError, DuplicateResource}

// All lists every code: IST first, then meshpilot's by family. Code ranges:
// MP0xxx core, MP1xxx resilience, MP2xxx security, MP3xxx Kiali checks
// istioctl lacks, MP4xxx ambient, Gateway API and Inference Extension,
// MP5xxx guardrails.
func All() []*analysis.Code {
	var out []*analysis.Code
	for _, family := range [][]*analysis.Code{IST, MP, Resilience, Security, Kiali, Ambient, Guardrail, Traffic} {
		out = append(out, family...)
	}
	return out
}

// Lookup finds a code by ID ("IST0101") or name, or returns nil.
func Lookup(idOrName string) *analysis.Code {
	for _, c := range All() {
		if c.ID == idOrName || c.Name == idOrName {
			return c
		}
	}
	return nil
}
