package codes

import "github.com/meshpilot/meshpilot/analysis"

// Guardrail lists the organisation guardrail findings (MP5xxx).
var Guardrail = []*analysis.Code{}
