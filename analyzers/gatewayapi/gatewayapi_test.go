package gatewayapi_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/gatewayapi"
)

func TestRoutes(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "routes"), gatewayapi.Routes)
}

func TestGateways(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "gateways"), gatewayapi.Gateways)
}

func TestReferenceGrants(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "referencegrants"), gatewayapi.ReferenceGrants)
}
