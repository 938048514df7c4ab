// Package traffictest checks a source of traffic evidence end to end
// against the ground truth of a synthetic mesh (synth/traffic): it runs
// the checks against traffic over the mesh and compares their findings
// with the planted defects. The Prometheus and access-log sources share
// it, so both are held to the same standard.
package traffictest

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	synth "github.com/meshpilot/meshpilot/synth/traffic"
	"github.com/meshpilot/meshpilot/telemetry"
)

// Analyze loads the mesh's YAML (any problem in it fails the test) and
// runs every analyzer marked Telemetry over it with g.
func Analyze(t testing.TB, m *synth.Mesh, g *telemetry.Graph) []analysis.Finding {
	t.Helper()
	schemas, err := crd.Load()
	if err != nil {
		t.Fatal(err)
	}
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "synth.yaml", Data: m.YAML}}, files.Options{Schemas: schemas})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Errorf("synthetic YAML: %v", p)
	}
	var traffic []string
	for _, a := range analyzers.All() {
		if a.Telemetry {
			traffic = append(traffic, a.Name)
		}
	}
	sel, err := analysis.Select(analyzers.All(), traffic, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := analysis.Run(context.Background(), res.Snapshot(mesh.Options{}), sel, analysis.Options{Telemetry: g})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// CheckFindings fails the test unless the traffic findings (MP60xx) are
// exactly the planted defects: each flagged with its code on its object,
// and none anywhere else. No analyzer may break.
func CheckFindings(t testing.TB, m *synth.Mesh, fs []analysis.Finding) {
	t.Helper()
	var got []string
	for _, f := range fs {
		if strings.HasPrefix(f.Code, "MP60") {
			got = append(got, f.Code+" "+f.Resource)
		}
		if f.Code == analysis.InternalError.ID {
			t.Errorf("analyzer broke: %s", f.Message)
		}
	}
	sort.Strings(got)
	want := append([]string(nil), m.Truth...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("traffic findings differ from the planted defects\n got: %v\nwant: %v", got, want)
		for _, f := range fs {
			if strings.HasPrefix(f.Code, "MP60") {
				t.Logf("%s %s: %s", f.Code, f.Resource, f.Message)
			}
		}
	}
	t.Logf("%d planted defects, %d traffic findings", len(want), len(got))
}
