package ambient_test

import (
	"slices"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/ambient"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/analyzers/gatewayapi"
	"github.com/meshpilot/meshpilot/analyzers/inference"
)

// kialiCoverage lists every Kiali code issue 3 item 4 assigns to the
// ambient, Gateway API and Inference Extension checks: the meshpilot code
// naming it in Equivalents, or, for those another family owns, that code and
// why.
var kialiCoverage = []struct {
	kia, mp string
	ours    bool   // reported by an analyzer of these packages
	reason  string // when not ours
}{
	{"KIA0109", "MP4010", true, ""},
	{"KIA0110", "MP4011", true, ""},
	{"KIA0210", "MP4012", true, ""},
	{"KIA0211", "MP4013", true, ""},
	{"KIA0212", "MP4014", true, ""},
	{"KIA1109", "MP4015", true, ""},
	{"KIA1110", "MP4016", true, ""},
	{"KIA1111", "MP4017", true, ""},
	{"KIA1112", "MP4018", true, ""},
	{"KIA1113", "MP4019", true, ""},
	{"KIA1114", "MP4020", true, ""},
	{"KIA1115", "MP4021", true, ""},
	{"KIA1116", "MP4022", true, ""},
	{"KIA1117", "MP4023", true, ""},
	{"KIA1311", "MP4002", true, ""},
	{"KIA1312", "MP4003", true, ""},
	{"KIA1313", "MP4004", true, ""},
	{"KIA1314", "MP4005", true, ""},
	{"KIA1315", "MP4006", true, ""},
	{"KIA1316", "MP4007", true, ""},
	{"KIA1317", "MP4008", true, ""},
	{"KIA1401", "MP4030", true, ""},
	{"KIA1402", "MP4031", true, ""},
	{"KIA1501", "MP4033", true, ""},
	{"KIA1502", "MP4034", true, ""},
	{"KIA1503", "MP4035", true, ""},
	{"KIA1504", "MP4036", true, ""},
	{"KIA1601", "MP4037", true, ""},
	{"KIA1701", "MP4025", true, ""},
	{"KIA1702", "MP4026", true, ""},
}

func TestKialiCoverage(t *testing.T) {
	reported := map[string]bool{}
	for _, family := range [][]*analysis.Analyzer{ambient.Analyzers, gatewayapi.Analyzers, inference.Analyzers} {
		for _, a := range family {
			for _, c := range a.Codes {
				reported[c.ID] = true
			}
		}
	}
	for _, tt := range kialiCoverage {
		c := codes.Lookup(tt.mp)
		if c == nil {
			t.Errorf("%s: code %s is not defined", tt.kia, tt.mp)
			continue
		}
		if !slices.Contains(c.Equivalents, tt.kia) {
			t.Errorf("%s: code %s does not name it in Equivalents (%v)", tt.kia, tt.mp, c.Equivalents)
		}
		if tt.ours {
			if !reported[tt.mp] || !slices.Contains(codes.Ambient, c) {
				t.Errorf("%s: %s is not an MP4xxx code reported by the ambient, gatewayapi or inference analyzers", tt.kia, tt.mp)
			}
		} else if tt.reason == "" {
			t.Errorf("%s: covered elsewhere without a reason", tt.kia)
		}
	}
}
