package conditions_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/conditions"
)

func TestNegative(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "Negative"), conditions.Negative)
}
