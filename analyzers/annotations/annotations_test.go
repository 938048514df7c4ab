package annotations_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/annotations"
)

func TestAnalyzers(t *testing.T) {
	for _, a := range annotations.Analyzers {
		t.Run(a.Name, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", a.Name[len("annotations."):]), a)
		})
	}
}
