package codes

import "github.com/meshpilot/meshpilot/analysis"

// Resilience lists the resilience checks (MP1xxx).
var Resilience = []*analysis.Code{}
