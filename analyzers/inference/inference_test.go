package inference_test

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/inference"
)

func TestPools(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "pools"), inference.Pools)
}

func TestPoolRefs(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "poolrefs"), inference.PoolRefs)
}
