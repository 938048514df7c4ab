package kiali_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/kiali"
)

func TestAnalyzers(t *testing.T) {
	for _, tc := range []struct {
		dir string
		a   *analysis.Analyzer
	}{
		{"authorizationpolicy", kiali.AuthorizationPolicy},
		{"destinationrule", kiali.DestinationRule},
		{"peerauthentication", kiali.PeerAuthentication},
		{"service", kiali.Service},
		{"sidecar", kiali.Sidecar},
		{"virtualservice", kiali.VirtualService},
		{"serviceentry", kiali.ServiceEntry},
		{"exportto", kiali.ExportTo},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", tc.dir), tc.a)
		})
	}
}

func TestValidate(t *testing.T) {
	if err := analysis.Validate(kiali.Analyzers); err != nil {
		t.Fatal(err)
	}
}
