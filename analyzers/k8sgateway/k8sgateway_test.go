package k8sgateway

import (
	"path/filepath"
	"testing"

	"github.com/meshpilot/meshpilot/analysis/analysistest"
)

func TestSelector(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "Selector"), Selector)
}

func TestCRDVersion(t *testing.T) {
	analysistest.Run(t, filepath.Join("testdata", "CRDVersion"), CRDVersion)
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    version
		wantErr bool
	}{
		{in: "v1.4.1", want: version{1, 4, 1}},
		{in: "1.5", want: version{1, 5, 0}},
		{in: "v1.5.0-rc.1", want: version{1, 5, 0}},
		{in: "v1.2.3+build.7", want: version{1, 2, 3}},
		{in: "", wantErr: true},
		{in: "latest", wantErr: true},
		{in: "1.2.3.4", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseVersion(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseVersion(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("parseVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
