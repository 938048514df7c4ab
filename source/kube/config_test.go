package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/source/kube"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: east
  cluster: {server: "https://127.0.0.1:6443"}
- name: west
  cluster: {server: "https://127.0.0.1:7443"}
users:
- name: me
  user: {token: abc}
contexts:
- name: east-admin
  context: {cluster: east, user: me}
- name: west-admin
  context: {cluster: west, user: me}
current-context: east-admin
`

func TestTargetConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name              string
		target            kube.Target
		wantHost, wantErr string
		wantName          string
	}{
		{name: "current context", target: kube.Target{Kubeconfig: path}, wantHost: "https://127.0.0.1:6443", wantName: "east-admin"},
		{name: "named context", target: kube.Target{Kubeconfig: path, Context: "west-admin"}, wantHost: "https://127.0.0.1:7443", wantName: "west-admin"},
		{name: "cluster name override", target: kube.Target{Kubeconfig: path, ClusterName: "prod-eu"}, wantHost: "https://127.0.0.1:6443", wantName: "prod-eu"},
		{name: "unknown context lists the known ones", target: kube.Target{Kubeconfig: path, Context: "north"},
			wantErr: `no context "north" (contexts: east-admin, west-admin)`},
		{name: "missing file named", target: kube.Target{Kubeconfig: filepath.Join(dir, "nope")}, wantErr: "kubeconfig " + filepath.Join(dir, "nope")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, name, err := c.target.Config()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != c.wantHost || name != c.wantName {
				t.Errorf("host %q name %q, want %q %q", cfg.Host, name, c.wantHost, c.wantName)
			}
		})
	}
}

func TestTargetConfigBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\ncontexts: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := kube.Target{Kubeconfig: path}.Config()
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
}
