package auth_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/auth"
)

func TestAuthorizationPolicies(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "authorizationpolicies"), auth.AuthorizationPolicies)
}

func TestAuthorizationPoliciesMessages(t *testing.T) {
	tests := []struct {
		file, resource, want string
	}{
		{"workloads.yaml", "AuthorizationPolicy orders/orders-api-v1-only", "selector app=orders-api,version=v1 matches no mesh workload"},
		{"workloads.yaml", "AuthorizationPolicy archive/deny-all", "namespace archive has no mesh workload"},
		{"workloads.yaml", "AuthorizationPolicy istio-system/legacy-mesh", "in any namespace"},
		{"namespaces.yaml", "AuthorizationPolicy frontend/web-deny-unknown", `rules[0].from[1].source.notNamespaces: "qa-*" matches no namespace`},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			fs := analysistest.Findings(t, filepath.Join("testdata", "authorizationpolicies", tt.file), auth.AuthorizationPolicies)
			for _, f := range fs {
				if f.Resource == tt.resource && strings.Contains(f.Message, tt.want) {
					return
				}
			}
			t.Errorf("no finding on %s containing %q; got %v", tt.resource, tt.want, fs)
		})
	}
}
