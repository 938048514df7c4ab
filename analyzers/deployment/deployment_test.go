package deployment_test

import (
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/deployment"
)

func TestMultiService(t *testing.T) {
	analysistest.Run(t, "testdata/multiservice", deployment.MultiService)
}
