package authn_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/authn"
)

func TestBlockedCIDRs(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "blockedcidrs"), authn.BlockedCIDRs)
}

func TestBlockedCIDRsMessage(t *testing.T) {
	fs := analysistest.Findings(t, filepath.Join("testdata", "blockedcidrs", "unrestricted.yaml"), authn.BlockedCIDRs)
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	for _, want := range []string{"istio-system/istiod", "BLOCKED_CIDRS_IN_JWKS_URIS", "1 RequestAuthentication(s) (storefront/api-jwt)"} {
		if !strings.Contains(fs[0].Message, want) {
			t.Errorf("message %q lacks %q", fs[0].Message, want)
		}
	}
}
