package codes

import "github.com/meshpilot/meshpilot/analysis"

// Ambient lists the ambient mode, Gateway API and Inference Extension checks (MP4xxx).
var Ambient = []*analysis.Code{}
