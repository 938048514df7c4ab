package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

func TestCredentialProblem(t *testing.T) {
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	valid := &mesh.CertFacts{Key: "tls.crt", Paired: true, NotBefore: now.Add(-time.Hour).Unix(), NotAfter: now.Add(time.Hour).Unix()}
	for _, tc := range []struct {
		name string
		info *mesh.SecretInfo
		want string // substring of the problem; "" for none
	}{
		{"valid", &mesh.SecretInfo{Keys: []string{"tls.crt", "tls.key"}, Cert: valid}, ""},
		{"unreadable", nil, "could not be read"},
		{"no certificate", &mesh.SecretInfo{Keys: []string{"ca.crt"}}, "(keys: ca.crt)"},
		{"no keys", &mesh.SecretInfo{}, "(keys: none)"},
		{"unpaired", &mesh.SecretInfo{Keys: []string{"tls.crt"}, Cert: &mesh.CertFacts{Key: "tls.crt"}}, "no non-empty cert and key"},
		{"not pem", &mesh.SecretInfo{Cert: &mesh.CertFacts{Key: "cert", Paired: true, ParseErr: "no PEM block"}}, "cert is not a PEM certificate: no PEM block"},
		{"expired", &mesh.SecretInfo{Cert: &mesh.CertFacts{Key: "tls.crt", Paired: true, NotAfter: now.Add(-time.Second).Unix()}}, "expired on 2030-05-31T23:59:59Z"},
		{"not yet valid", &mesh.SecretInfo{Cert: &mesh.CertFacts{Key: "tls.crt", Paired: true, NotBefore: now.Add(time.Second).Unix(), NotAfter: now.Add(time.Hour).Unix()}}, "not valid before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := credentialProblem(tc.info, now)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("credentialProblem = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSelectorIngressOff: with ingressControllerMode OFF no default ingress
// gateway stands in, so a Gateway selecting it selects nothing.
func TestSelectorIngressOff(t *testing.T) {
	gw := &mesh.Object{
		GroupKind: mesh.Gateway,
		Meta:      &metav1.ObjectMeta{Name: "public", Namespace: "web"},
		Obj:       &networking.Gateway{Selector: map[string]string{"istio": "ingressgateway"}},
	}
	for _, tc := range []struct {
		mode meshconfig.MeshConfig_IngressControllerMode
		want int
	}{
		{meshconfig.MeshConfig_STRICT, 0},
		{meshconfig.MeshConfig_OFF, 1},
	} {
		snap := mesh.New([]*mesh.Object{gw}, mesh.Options{MeshConfig: &meshconfig.MeshConfig{IngressControllerMode: tc.mode}})
		sel, err := analysis.Select([]*analysis.Analyzer{Selector}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := analysis.Run(context.Background(), snap, sel, analysis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != tc.want {
			t.Errorf("mode %v: %d findings, want %d: %v", tc.mode, len(fs), tc.want, fs)
		}
	}
}
