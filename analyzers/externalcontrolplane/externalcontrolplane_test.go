package externalcontrolplane_test

import (
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/externalcontrolplane"
)

func TestExternalControlPlane(t *testing.T) {
	analysistest.Run(t, "testdata/externalcontrolplane", externalcontrolplane.ExternalControlPlane)
}
