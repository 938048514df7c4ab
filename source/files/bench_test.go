package files

import (
	"context"
	"testing"

	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/synth"
)

// BenchmarkLoadValidate10k loads the same mesh validating every Istio
// object against its CRD, as 'meshpilot analyze' does.
func BenchmarkLoadValidate10k(b *testing.B) {
	m := synth.Generate(synth.Options{Services: 10000, Seed: 1})
	schemas, err := crd.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(m.YAML)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := LoadBytes(context.Background(), []Named{{Name: "mesh.yaml", Data: m.YAML}}, Options{Schemas: schemas})
		if err != nil || len(res.Problems) > 0 {
			b.Fatalf("load: %v %v", err, res.Problems)
		}
	}
}

// BenchmarkLoad10k loads the 10,000-service synthetic mesh (about 40,000
// documents) from memory.
func BenchmarkLoad10k(b *testing.B) {
	m := synth.Generate(synth.Options{Services: 10000, Seed: 1})
	b.SetBytes(int64(len(m.YAML)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := LoadBytes(context.Background(), []Named{{Name: "mesh.yaml", Data: m.YAML}}, Options{})
		if err != nil || len(res.Problems) > 0 {
			b.Fatalf("load: %v %v", err, res.Problems)
		}
	}
}
