package yamlfast

import (
	"bytes"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/synth"
)

func synthDocs(tb testing.TB) [][]byte {
	data := synth.Generate(synth.Options{Services: 2000, Seed: 1}).YAML
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		tb.Fatal("no documents")
	}
	return docs
}

func totalSize(docs [][]byte) int64 {
	var n int64
	for _, d := range docs {
		n += int64(len(d))
	}
	return n
}

func TestSynthAllFast(t *testing.T) {
	var p Parser
	docs := synthDocs(t)
	for i, d := range docs {
		got, err := p.Parse(d)
		if err != nil {
			t.Fatalf("doc %d unsupported:\n%s", i, d)
		}
		want, _ := reference(d)
		if diff := equalNodes(got, want); diff != "" {
			t.Fatalf("doc %d: %s", i, diff)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	docs := synthDocs(b)
	var p Parser
	b.SetBytes(totalSize(docs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			if _, err := p.Parse(d); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(docs)), "docs")
}

func BenchmarkYAMLv3(b *testing.B) {
	docs := synthDocs(b)
	b.SetBytes(totalSize(docs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			var n yaml.Node
			if err := yaml.Unmarshal(d, &n); err != nil {
				b.Fatal(err)
			}
		}
	}
}
