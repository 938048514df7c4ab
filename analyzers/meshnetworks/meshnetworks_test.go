package meshnetworks_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/meshnetworks"
)

func TestServiceRegistries(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "serviceregistries"), meshnetworks.ServiceRegistries)
}

func TestServiceRegistriesFindings(t *testing.T) {
	fs := analysistest.Findings(t, filepath.Join("testdata", "serviceregistries", "registries.yaml"), meshnetworks.ServiceRegistries)
	want := []string{`network network-east endpoints[0] takes endpoints from registry "east-cluster"`,
		`network network-west endpoints[1] takes endpoints from registry "kubernetes"`}
	if len(fs) != len(want) {
		t.Fatalf("got %d findings, want %d: %v", len(fs), len(want), fs)
	}
	for i, f := range fs {
		if f.Resource != "MeshNetworks istio-system/meshnetworks" {
			t.Errorf("finding %d: resource %q", i, f.Resource)
		}
		if !strings.HasPrefix(f.Message, want[i]) {
			t.Errorf("finding %d: message %q, want prefix %q", i, f.Message, want[i])
		}
	}
}
