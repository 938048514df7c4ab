package envoyfilter_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/envoyfilter"
)

func TestPatches(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "patches"), envoyfilter.Patches)
}

func TestPatchesMessages(t *testing.T) {
	tests := []struct {
		file, resource, want string
	}{
		{"operations.yaml", "EnvoyFilter storefront/lua-headers",
			"configPatches[0] (INSERT_BEFORE on HTTP_FILTER), configPatches[1] (REMOVE on NETWORK_FILTER): relative operation"},
		{"operations.yaml", "EnvoyFilter storefront/route-tweaks", "configPatches[2] (REPLACE on CLUSTER): REPLACE only applies"},
		{"proxyversion.yaml", "EnvoyFilter istio-system/wasm-stats-override", "only applies to some proxy versions"},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			fs := analysistest.Findings(t, filepath.Join("testdata", "patches", tt.file), envoyfilter.Patches)
			for _, f := range fs {
				if f.Resource == tt.resource && strings.Contains(f.Message, tt.want) {
					return
				}
			}
			t.Errorf("no finding on %s containing %q; got %v", tt.resource, tt.want, fs)
		})
	}
}
