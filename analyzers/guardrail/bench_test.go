package guardrail

import (
	"context"
	"testing"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth"
)

// BenchmarkAnalyzer10k runs the sample policy's analyzer alone over the
// 10,000-service synthetic mesh: the time guardrails add to a run. Each
// iteration takes a fresh snapshot, so that nothing is cached across runs.
func BenchmarkAnalyzer10k(b *testing.B) {
	m := synth.Generate(synth.Options{Services: 10000, Seed: 1})
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{})
	if err != nil {
		b.Fatal(err)
	}
	a := Analyzer(mustLoad(b, "../../examples/guardrails.yaml"))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		snap := res.Snapshot(mesh.Options{})
		n = len(run1(b, a, snap))
	}
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkLoadExample measures loading and compiling the sample policy.
func BenchmarkLoadExample(b *testing.B) {
	for b.Loop() {
		mustLoad(b, "../../examples/guardrails.yaml")
	}
}

// BenchmarkToMap measures converting one VirtualService of the synthetic
// mesh, whole and with the limits' mask.
func BenchmarkToMap(b *testing.B) {
	m := synth.Generate(synth.Options{Services: 10, Seed: 1})
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{})
	if err != nil {
		b.Fatal(err)
	}
	vs := res.Snapshot(mesh.Options{}).List(mesh.VirtualService)[0]
	for _, tc := range []struct {
		name string
		mk   mask
	}{{"whole", nil}, {"masked", limitMasks[mesh.VirtualService]}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := toMap(vs, tc.mk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
