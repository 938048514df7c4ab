package ranchertest_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/source/rancher/ranchertest"
)

const (
	adminTok  = "token-adm01:adminsecret"
	viewerTok = "token-view1:viewersecret"
	scopedTok = "token-kcfg1:scopedsecret"
)

var testTokens = []ranchertest.Token{
	{Value: adminTok, User: "u-adm01", Groups: []string{"local://g-ops", "github_team://42"}, Username: "admin"},
	{Value: viewerTok, User: "u-view1", Clusters: []string{"c-a"}},
	{Value: scopedTok, User: "u-adm01", ClusterName: "c-a"},
}

// get sends a GET with the token and returns status, Content-Type and body.
func get(t *testing.T, c *http.Client, url, token string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestProxyImpersonatesTheTokensUser(t *testing.T) {
	seen := make(chan *http.Request, 1)
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		io.WriteString(w, `{"kind":"NamespaceList"}`)
	})
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters: []ranchertest.Cluster{{ID: "c-a", Name: "alpha", Backend: backend, BearerToken: "downstream-secret"}},
		Tokens:   testTokens,
	})
	defer s.Close()

	status, _, body := get(t, s.Client(), s.URL+"/k8s/clusters/c-a/api/v1/namespaces/a%2Fb/pods?watch=1&limit=5", adminTok)
	if status != 200 || body != `{"kind":"NamespaceList"}` {
		t.Fatalf("got %d %s", status, body)
	}
	r := <-seen
	u, _ := url.Parse(s.URL)
	want := map[string][]string{
		"Authorization":                    {"Bearer downstream-secret"},
		"Impersonate-User":                 {"u-adm01"},
		"Impersonate-Group":                {"g-ops", "github_team://42", "system:authenticated", "system:cattle:authenticated"},
		"Impersonate-Extra-Principalid":    {"local://u-adm01"},
		"Impersonate-Extra-Username":       {"admin"},
		"Impersonate-Extra-Requesttokenid": {"token-adm01"},
		"Impersonate-Extra-Requesthost":    {u.Host},
	}
	for k, v := range want {
		if !slices.Equal(r.Header.Values(k), v) {
			t.Errorf("%s = %q, want %q", k, r.Header.Values(k), v)
		}
	}
	if r.URL.EscapedPath() != "/api/v1/namespaces/a%2Fb/pods" || r.URL.RawQuery != "watch=1&limit=5" {
		t.Errorf("backend got %s ? %s", r.URL.EscapedPath(), r.URL.RawQuery)
	}

	// Impersonation by the caller is not modelled: refused, not ignored.
	req, _ := http.NewRequest("GET", s.URL+"/k8s/clusters/c-a/api", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	req.Header.Set("Impersonate-User", "system:admin")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("caller's Impersonate-User: status %d, want 403", resp.StatusCode)
	}
}

func TestProxyErrorsAreRanchers(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters: []ranchertest.Cluster{
			{ID: "c-a", Name: "alpha", Backend: ok},
			{ID: "c-b", Name: "beta", Backend: ok},
			{ID: "c-new", Name: "provisioning", State: "provisioning"},
		},
		Tokens: testTokens,
	})
	defer s.Close()
	forbidden := func(id, user string) string {
		return `{"Code":{"Code":"Forbidden","Status":403},"Message":"clusters.management.cattle.io \"` + id +
			`\" is forbidden: User \"` + user + `\" cannot get resource \"clusters\" in API group \"management.cattle.io\" at the cluster scope","Cause":null,"FieldName":""}`
	}
	const mustAuth = `{"message":"must authenticate","status":"401","type":"error"}`
	tests := []struct {
		name, path, token string
		status            int
		body              string
	}{
		{"member", "/k8s/clusters/c-a/api", viewerTok, 200, "ok"},
		{"not a member", "/k8s/clusters/c-b/api", viewerTok, 403, forbidden("c-b", "u-view1")},
		{"not a member, no such cluster", "/k8s/clusters/c-zzz/api", viewerTok, 403, forbidden("c-zzz", "u-view1")},
		{"admin, no such cluster", "/k8s/clusters/c-zzz/api", adminTok, 404,
			`{"Code":{"Code":"NotFound","Status":404},"Message":"clusters.management.cattle.io \"c-zzz\" not found","Cause":null,"FieldName":""}`},
		{"not provisioned", "/k8s/clusters/c-new/api", adminTok, 503,
			`{"Code":{"Code":"ClusterUnavailable","Status":503},"Message":"cluster not provisioned","Cause":null,"FieldName":""}`},
		{"scoped token, its cluster", "/k8s/clusters/c-a/api", scopedTok, 200, "ok"},
		{"scoped token, its v3 cluster", "/v3/clusters/c-a", scopedTok, 200, ""},
		{"scoped token, other cluster", "/k8s/clusters/c-b/api", scopedTok, 401, mustAuth},
		{"scoped token, cluster list", "/v3/clusters", scopedTok, 401, mustAuth},
		{"bad token", "/k8s/clusters/c-a/api", "token-adm01:wrong", 401, mustAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body := get(t, s.Client(), s.URL+tt.path, tt.token)
			if status != tt.status || tt.body != "" && strings.TrimSpace(body) != tt.body {
				t.Fatalf("got %d %s\nwant %d %s", status, body, tt.status, tt.body)
			}
			// The router's errors go out without a JSON content type.
			if strings.HasPrefix(tt.body, `{"Code"`) && !strings.HasPrefix(ctype, "text/plain") {
				t.Errorf("Content-Type %q, want Go's sniffed text/plain", ctype)
			}
		})
	}
}

// streamingBackend writes a line, flushes, and repeats every 20ms until the
// request ends.
var streamingBackend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	for i := 0; ; i++ {
		fmt.Fprintf(w, "{\"event\":%d}\n", i)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
})

func TestSetUnreachable(t *testing.T) {
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters: []ranchertest.Cluster{
			{ID: "c-a", Name: "alpha", Backend: streamingBackend},
			{ID: "c-b", Name: "beta", Backend: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })},
		},
		Tokens: testTokens,
	})
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/k8s/clusters/c-a/api/v1/namespaces?watch=1", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || lines.Text() != `{"event":0}` {
		t.Fatalf("first event: %q %v", lines.Text(), lines.Err())
	}

	began := time.Now()
	s.SetUnreachable("c-a", true)
	for lines.Scan() {
	}
	if time.Since(began) > 2*time.Second {
		t.Errorf("the stream ran on for %s after the cluster became unreachable", time.Since(began))
	}
	status, ctype, body := get(t, s.Client(), s.URL+"/k8s/clusters/c-a/api", adminTok)
	if status != 500 || body != "cluster agent disconnected" || !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("unreachable: got %d %q %q, want 500 text/plain \"cluster agent disconnected\"", status, ctype, body)
	}
	if status, _, body := get(t, s.Client(), s.URL+"/k8s/clusters/c-b/api", adminTok); status != 200 || body != "ok" {
		t.Errorf("the other cluster: got %d %s", status, body)
	}
	const disconnected = `"conditions":[{"message":"Cluster agent is not connected","reason":"Disconnected","status":"False","type":"Ready"}]`
	if _, _, body := get(t, s.Client(), s.URL+"/v3/clusters/c-a", adminTok); !strings.Contains(body, `"state":"unavailable"`) || !strings.Contains(body, disconnected) {
		t.Errorf("v3 cluster while unreachable: %s", body)
	}
	s.SetUnreachable("c-a", false)
	if _, _, body := get(t, s.Client(), s.URL+"/v3/clusters/c-a", adminTok); !strings.Contains(body, `"state":"active"`) {
		t.Errorf("v3 cluster reconnected: %s", body)
	}
	req, _ = http.NewRequestWithContext(ctx, "GET", s.URL+"/k8s/clusters/c-a/api", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp2, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Errorf("reconnected: status %d", resp2.StatusCode)
	}
}

func TestUnreachableDelay(t *testing.T) {
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters:         []ranchertest.Cluster{{ID: "c-a", Backend: streamingBackend}},
		Tokens:           testTokens,
		UnreachableDelay: 300 * time.Millisecond,
	})
	defer s.Close()
	s.SetUnreachable("c-a", true)
	began := time.Now()
	if status, _, _ := get(t, s.Client(), s.URL+"/k8s/clusters/c-a/api", adminTok); status != 500 || time.Since(began) < 300*time.Millisecond {
		t.Errorf("status %d after %s, want 500 after the delay", status, time.Since(began))
	}
	// A client that gives up first is not kept waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/k8s/clusters/c-a/api", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	if _, err := s.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the client's deadline", err)
	}
}

func TestCloseEndsStreams(t *testing.T) {
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters: []ranchertest.Cluster{{ID: "c-a", Backend: streamingBackend}},
		Tokens:   testTokens,
	})
	req, _ := http.NewRequest("GET", s.URL+"/k8s/clusters/c-a/api/v1/pods?watch=1", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for a stream in flight")
	}
}

// TestRemoteBackend proxies to an https backend described by a kubeconfig:
// the backend's CA and token are used, chunks are passed on as they come,
// and a backend that is gone is Rancher's 500 with the dial error, at once.
func TestRemoteBackend(t *testing.T) {
	release := make(chan struct{})
	seen := make(chan [2]string, 1)
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- [2]string{r.Header.Get("Authorization"), r.Header.Get("Impersonate-User")}
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "second\n")
	}))
	kc := writeKubeconfig(t, api.URL, api.Certificate().Raw, "backend-admin-token")
	c, err := ranchertest.ClusterFromKubeconfig("c-a", "alpha", kc)
	if err != nil {
		t.Fatal(err)
	}
	s := ranchertest.NewServer(ranchertest.Options{Clusters: []ranchertest.Cluster{c}, Tokens: testTokens, TLS: true})
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/k8s/clusters/c-a/api/v1/namespaces?watch=1", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || lines.Text() != "first" {
		t.Fatalf("first chunk before the backend finished: %q %v", lines.Text(), lines.Err())
	}
	close(release)
	if !lines.Scan() || lines.Text() != "second" {
		t.Fatalf("second chunk: %q %v", lines.Text(), lines.Err())
	}
	resp.Body.Close()
	if got := <-seen; got != [2]string{"Bearer backend-admin-token", "u-adm01"} {
		t.Errorf("backend saw Authorization %q, Impersonate-User %q", got[0], got[1])
	}

	api.Close()
	began := time.Now()
	status, _, body := get(t, s.Client(), s.URL+"/k8s/clusters/c-a/api", adminTok)
	if status != 500 || !strings.Contains(body, "connection refused") || time.Since(began) > 5*time.Second {
		t.Errorf("backend gone: got %d %q after %s, want 500 with the dial error at once", status, body, time.Since(began))
	}
}

func writeKubeconfig(t *testing.T, server string, caDER []byte, token string) string {
	t.Helper()
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	path := filepath.Join(t.TempDir(), "kubeconfig")
	err := os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters:
- name: api
  cluster: {server: "`+server+`", certificate-authority-data: "`+ca+`"}
users:
- name: admin
  user: {token: "`+token+`"}
- name: exec
  user: {exec: {command: get-token, apiVersion: client.authentication.k8s.io/v1}}
contexts:
- name: admin
  context: {cluster: api, user: admin}
- name: exec
  context: {cluster: api, user: exec}
current-context: admin
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubeconfig: the kubeconfig the server writes for a cluster reads back
// as a Cluster that reaches the proxy with the server's CA and the token.
func TestKubeconfig(t *testing.T) {
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters: []ranchertest.Cluster{{ID: "c-a", Name: "alpha", Backend: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Header.Get("Impersonate-User"))
		})}},
		Tokens: testTokens,
		TLS:    true,
	})
	defer s.Close()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, s.Kubeconfig("c-a", viewerTok), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ranchertest.ClusterFromKubeconfig("x", "x", path)
	if err != nil {
		t.Fatal(err)
	}
	if c.BackendURL != s.URL+"/k8s/clusters/c-a" || c.BearerToken != viewerTok {
		t.Fatalf("got %+v", c)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: c.TLS}}
	if status, _, body := get(t, client, c.BackendURL+"/api", c.BearerToken); status != 200 || body != "u-view1" {
		t.Errorf("through the kubeconfig's CA and token: %d %q", status, body)
	}

	// An exec credential cannot be read.
	kc := writeKubeconfig(t, "https://127.0.0.1:1", s.Certificate().Raw, "x")
	b, _ := os.ReadFile(kc)
	os.WriteFile(kc, []byte(strings.Replace(string(b), "current-context: admin", "current-context: exec", 1)), 0o600)
	if _, err := ranchertest.ClusterFromKubeconfig("x", "x", kc); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("exec credential: err = %v", err)
	}
}
