package synth_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth"
)

func TestDeterministic(t *testing.T) {
	a := synth.Generate(synth.Options{Services: 300, Seed: 7})
	b := synth.Generate(synth.Options{Services: 300, Seed: 7})
	if !bytes.Equal(a.YAML, b.YAML) {
		t.Error("same seed, different meshes")
	}
}

// TestGroundTruth checks that analyzing a generated mesh reports exactly the
// planted defects: every one found, nothing else.
func TestGroundTruth(t *testing.T) {
	m := synth.Generate(synth.Options{Services: 700, Seed: 3})
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("load: %v %v", err, res.Problems)
	}
	if len(res.Objects) != m.Docs {
		t.Errorf("%d objects, want %d", len(res.Objects), m.Docs)
	}
	sel, _ := analysis.Select(analyzers.All(), nil, nil)
	fs, err := analysis.Run(context.Background(), res.Snapshot(mesh.Options{}), sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range fs {
		got[f.Code+" "+f.Resource]++
	}
	for _, w := range m.Truth {
		if got[w] == 0 {
			t.Errorf("planted defect not found: %s", w)
			continue
		}
		got[w]--
	}
	for k, n := range got {
		if n > 0 {
			t.Errorf("unplanted finding (%d): %s", n, k)
		}
	}
	if len(m.Truth) < 7*3 {
		t.Errorf("only %d planted findings", len(m.Truth))
	}
}
