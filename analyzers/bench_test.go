package analyzers_test

import (
	"context"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth"
)

// BenchmarkAnalyze10k runs every analyzer over the loaded 10,000-service
// synthetic mesh (loading is measured by source/files' BenchmarkLoad10k).
func BenchmarkAnalyze10k(b *testing.B) {
	m := synth.Generate(synth.Options{Services: 10000, Seed: 1})
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		snap := res.Snapshot(mesh.Options{})
		if _, err := analysis.Run(context.Background(), snap, sel, analysis.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEndToEnd10k loads and analyzes, as 'meshpilot analyze' does.
func BenchmarkEndToEnd10k(b *testing.B) {
	m := synth.Generate(synth.Options{Services: 10000, Seed: 1})
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(m.YAML)))
	for b.Loop() {
		res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := analysis.Run(context.Background(), res.Snapshot(mesh.Options{}), sel, analysis.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
