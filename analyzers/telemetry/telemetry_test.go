package telemetry_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/telemetry"
)

func TestAnalyzers(t *testing.T) {
	for _, a := range telemetry.Analyzers {
		t.Run(a.Name, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", strings.TrimPrefix(a.Name, "telemetry.")), a)
		})
	}
}
