package codes

import "github.com/meshpilot/meshpilot/analysis"

// Security lists the security checks (MP2xxx).
var Security = []*analysis.Code{}
