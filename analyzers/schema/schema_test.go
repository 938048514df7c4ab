package schema

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
)

func TestValidation(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "validation"), Validation)
}

func TestDuplicates(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "duplicates"), Duplicates)
}

func TestMessages(t *testing.T) {
	tests := []struct {
		file, analyzer string
		want           []string
	}{
		{"validation/types.yaml", "validation", []string{
			"spec.http[0].timeout: expected a duration string",
			"spec.http[0].route[0].weight: expected an integer",
			`spec.http[1].retries.retryOnn: unknown field "retryOnn"`,
			`spec.trafficPolicy.loadBalancer.simple: unknown value "ROUND_ROBBIN"`,
			"spec.ports.port: expected int32",
		}},
		{"duplicates/twice.yaml", "duplicates", []string{"VirtualService shop/reviews is defined twice: at testdata/duplicates/twice.yaml:1 and at testdata/duplicates/twice.yaml:10"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := Validation
			if tt.analyzer == "duplicates" {
				a = Duplicates
			}
			fs := analysistest.Findings(t, filepath.Join("testdata", tt.file), a)
			var msgs []string
			for _, f := range fs {
				msgs = append(msgs, f.Message)
			}
			all := strings.Join(msgs, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no message containing %q in:\n%s", w, all)
				}
			}
		})
	}
}
