package multicluster_test

import (
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/multicluster"
)

func TestService(t *testing.T) {
	analysistest.Run(t, "testdata", multicluster.Service)
}

func TestServiceMessages(t *testing.T) {
	fs := analysistest.Findings(t, "testdata/services.yaml", multicluster.Service)
	want := map[string]string{
		"Service shop/reviews": "ports [http 9080/TCP] in east, [http 9081/TCP] in west",
		"Service shop/db":      "headless in east, not in west",
	}
	for _, f := range fs {
		if w, ok := want[f.Resource]; !ok || !strings.Contains(f.Message, w) || !strings.Contains(f.Message, "clusters east, west") {
			t.Errorf("%s: %s; want it to say %q", f.Resource, f.Message, w)
		}
		delete(want, f.Resource)
	}
	for r := range want {
		t.Errorf("no finding on %s", r)
	}
}
