package routerules_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/routerules"
)

func TestShadowed(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "Shadowed"), routerules.Shadowed)
}
