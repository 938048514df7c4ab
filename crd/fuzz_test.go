package crd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	yamlv3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"
)

// FuzzValidate: no decoded document makes Validate panic, whatever kind it
// is validated as.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	files = append(files, "testdata/valid.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, d := range splitDocuments(data) {
			f.Add(d)
		}
	}
	kinds := [][3]string{
		{"networking.istio.io", "v1", "VirtualService"},
		{"networking.istio.io", "v1", "DestinationRule"},
		{"networking.istio.io", "v1", "Sidecar"},
		{"security.istio.io", "v1", "AuthorizationPolicy"},
		{"gateway.networking.k8s.io", "v1", "HTTPRoute"},
	}
	s := set(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var objs []map[string]any
		var a map[string]any
		if yaml.Unmarshal(data, &a) == nil {
			objs = append(objs, a)
		}
		var b map[string]any
		if yamlv3.Unmarshal(data, &b) == nil {
			objs = append(objs, b)
		}
		for _, obj := range objs {
			for _, k := range kinds {
				s.Validate(context.Background(), k[0], k[1], k[2], obj)
			}
		}
	})
}
