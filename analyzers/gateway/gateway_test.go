package gateway_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/gateway"
)

func TestAnalyzers(t *testing.T) {
	for _, tc := range []struct {
		dir string
		a   *analysis.Analyzer
	}{
		{"selector", gateway.Selector},
		{"ingressgatewayport", gateway.IngressGatewayPort},
		{"secret", gateway.Secret},
		{"conflictinggateway", gateway.ConflictingGateway},
		{"certificate", gateway.Certificate},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", tc.dir), tc.a)
		})
	}
}

func TestValidate(t *testing.T) {
	if err := analysis.Validate(gateway.Analyzers); err != nil {
		t.Fatal(err)
	}
}

// TestOddInput runs every analyzer of the package over objects with missing
// parts: none may break, whatever they report.
func TestOddInput(t *testing.T) {
	for _, a := range gateway.Analyzers {
		t.Run(a.Name, func(t *testing.T) {
			analysistest.Findings(t, filepath.Join("testdata", "odd", "odd.yaml"), a)
		})
	}
}
