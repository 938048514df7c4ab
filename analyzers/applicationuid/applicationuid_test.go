package applicationuid_test

import (
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/applicationuid"
)

func TestApplicationUID(t *testing.T) {
	analysistest.Run(t, "testdata/applicationuid", applicationuid.ApplicationUID)
}
