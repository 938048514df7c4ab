package injection_test

import (
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/injection"
)

func TestAnalyzers(t *testing.T) {
	for _, tc := range []struct {
		dir string
		a   *analysis.Analyzer
	}{
		{"testdata/injection", injection.Injection},
		{"testdata/image", injection.Image},
		{"testdata/imageauto", injection.ImageAuto},
	} {
		t.Run(tc.a.Name, func(t *testing.T) { analysistest.Run(t, tc.dir, tc.a) })
	}
}

func TestValidate(t *testing.T) {
	if err := analysis.Validate(injection.Analyzers); err != nil {
		t.Fatal(err)
	}
}

func TestImageMessage(t *testing.T) {
	fs := analysistest.Findings(t, "testdata/image/revisions.yaml", injection.Image)
	want := map[string][]string{
		"Namespace checkout": {"cart-6f7c9d-abcde (docker.io/istio/proxyv2:1.23.0)", "cart-6f7c9d-fghij", "docker.io/istio/proxyv2:1.24.2"},
		"Namespace catalog":  {"catalog-5c6d7e-pqrst", "istio-sidecar-injector-stable-1-24"},
	}
	if len(fs) != len(want) {
		t.Fatalf("got %d findings, want %d", len(fs), len(want))
	}
	for _, f := range fs {
		for _, w := range want[f.Resource] {
			if !strings.Contains(f.Message, w) {
				t.Errorf("%s: %q does not mention %q", f.Resource, f.Message, w)
			}
		}
	}
}
