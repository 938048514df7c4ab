package webhook_test

import (
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/webhook"
)

func TestWebhook(t *testing.T) {
	analysistest.Run(t, "testdata/webhook", webhook.Webhook)
}

func TestWebhookMessages(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // each mentioned by some finding
	}{
		{"testdata/webhook/revisions.yaml", []string{
			"webhook istio-sidecar-injector/namespace.sidecar-injector.istio.io selects the same namespaces and pods as istio-sidecar-injector-1-24/namespace.sidecar-injector.istio.io",
			"webhook istio-sidecar-injector-1-24/namespace.sidecar-injector.istio.io selects the same namespaces and pods as istio-sidecar-injector/namespace.sidecar-injector.istio.io",
		}},
		{"testdata/webhook/missing-service.yaml", []string{"service istio-system/istiod-canary, which does not exist"}},
	} {
		fs := analysistest.Findings(t, tc.file, webhook.Webhook)
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
