package deprecation_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/deprecation"
)

func TestFields(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "Fields"), deprecation.Fields)
}
