package codes

import "github.com/meshpilot/meshpilot/analysis"

// Kiali lists the checks Kiali makes that istioctl does not (MP3xxx), each naming its KIA code in Equivalents.
var Kiali = []*analysis.Code{}
