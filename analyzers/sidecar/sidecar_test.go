package sidecar_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/sidecar"
)

func TestSelector(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "selector"), sidecar.Selector)
}

func TestSelectorMessages(t *testing.T) {
	tests := []struct {
		file, resource, want string
	}{
		{"selectors.yaml", "Sidecar shop/payments-egress", "app=payments matches no workload in namespace shop"},
		{"selectors.yaml", "Sidecar shop/cart-egress", "cart-egress, backend-tier"},
		{"namespace-wide.yaml", "Sidecar billing/default", "namespace billing has several Sidecars"},
		{"templates.yaml", "Sidecar search/indexer", "Deployment indexer (pod template)"},
		{"ambient.yaml", "Sidecar edge/default", "namespace edge runs in ambient mode"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.resource, func(t *testing.T) {
			fs := analysistest.Findings(t, filepath.Join("testdata", "selector", tt.file), sidecar.Selector)
			for _, f := range fs {
				if f.Resource == tt.resource && strings.Contains(f.Message, tt.want) {
					return
				}
			}
			t.Errorf("no finding on %s containing %q; got %v", tt.resource, tt.want, fs)
		})
	}
}
