package gateway_test

import (
	"context"
	"testing"

	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/internal/conformance"
)

func TestZZDebug(t *testing.T) {
	dir := "/work/shared/conformance/istio-analyzers"
	cases, _ := conformance.ReadCases(dir)
	for i := 0; i < 20; i++ {
		for _, c := range cases {
			if c.Index != "8" {
				continue
			}
			r := conformance.Run(context.Background(), dir, c, analyzers.All())
			t.Logf("%v", r.Got)
		}
	}
}
