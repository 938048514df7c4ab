package service_test

import (
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/service"
)

func TestPortName(t *testing.T) {
	analysistest.Run(t, "testdata/portname", service.PortName)
}

func TestPortNameMessages(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // substrings, one per finding
	}{
		{"testdata/portname/services.yaml", []string{"unnamed port 8080", `"metrics" (9102)`, `"http-legacy" (80)`}},
		{"testdata/portname/external-name.yaml", []string{`port "api" (443), unnamed port 8443`, `"tcp" (5432)`}},
	} {
		fs := analysistest.Findings(t, tc.file, service.PortName)
		if len(fs) != len(tc.want) {
			t.Fatalf("%s: got %d findings, want %d", tc.file, len(fs), len(tc.want))
		}
		for _, w := range tc.want {
			found := false
			for _, f := range fs {
				found = found || strings.Contains(f.Message, w)
			}
			if !found {
				t.Errorf("%s: no finding mentions %q", tc.file, w)
			}
		}
	}
}
