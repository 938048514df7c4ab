package serviceentry_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/serviceentry"
)

func TestAddresses(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "addresses"), serviceentry.Addresses)
	analysistest.Run(t, filepath.Join("testdata", "addresses-autoallocate"), serviceentry.Addresses)
}

func TestConflictingProtocols(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "conflictingprotocols"), serviceentry.ConflictingProtocols)
}

func TestMessages(t *testing.T) {
	tests := []struct {
		a              *analysis.Analyzer
		file, resource string
		want           string
	}{
		{serviceentry.Addresses, "addresses/addresses.yaml", "ServiceEntry billing/message-broker", "port 5672 (amqp), 5671 (amqps) serves TCP"},
		{serviceentry.ConflictingProtocols, "conflictingprotocols/conflicts.yaml", "ServiceEntry integrations/partner-api-tls",
			"host api.partner.example.com port 8443 is declared with protocols HTTP, TLS by ServiceEntries integrations/partner-api-http, integrations/partner-api-tls"},
		{serviceentry.ConflictingProtocols, "conflictingprotocols/exportto.yaml", "ServiceEntry shared/queue",
			"protocols HTTP, TCP by ServiceEntries shared/queue, team-a/queue (visible together in namespace team-a)"},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			fs := analysistest.Findings(t, filepath.Join("testdata", tt.file), tt.a)
			for _, f := range fs {
				if f.Resource == tt.resource && strings.Contains(f.Message, tt.want) {
					return
				}
			}
			t.Errorf("no finding on %s containing %q; got %v", tt.resource, tt.want, fs)
		})
	}
}
