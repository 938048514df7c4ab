package ambient_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/ambient"
)

func TestEnrolment(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "enrolment"), ambient.Enrolment)
}

func TestL7Config(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "l7"), ambient.L7Config)
}

func TestWorkloadGroup(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "workloadgroup"), ambient.WorkloadGroup)
}
