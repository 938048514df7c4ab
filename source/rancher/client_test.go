package rancher_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/source/rancher"
	"github.com/meshpilot/meshpilot/source/rancher/ranchertest"
)

const (
	adminToken   = "token-admin:s3cr3tadminvalue"
	limitedToken = "token-ltd:s3cr3tlimitedvalue"
)

func newServer(t *testing.T, backend http.Handler) *ranchertest.Server {
	t.Helper()
	var clusters []ranchertest.Cluster
	for i := range 7 {
		clusters = append(clusters, ranchertest.Cluster{ID: fmt.Sprintf("c-%05d", i), Name: fmt.Sprintf("cl-%d", i)})
	}
	clusters = append(clusters,
		ranchertest.Cluster{ID: "c-dup01", Name: "twin"},
		ranchertest.Cluster{ID: "c-dup02", Name: "twin"},
		ranchertest.Cluster{ID: "local", Name: "local", Backend: backend},
	)
	s := ranchertest.NewServer(ranchertest.Options{
		Clusters: clusters,
		Projects: []ranchertest.Project{
			{ID: "local:p-aaaaa", Name: "Default", ClusterID: "local"},
			{ID: "local:p-bbbbb", Name: "System", ClusterID: "local"},
			{ID: "c-00001:p-ccccc", Name: "Default", ClusterID: "c-00001"},
			{ID: "c-00001:p-ddddd", Name: "shop", ClusterID: "c-00001"},
		},
		Tokens: []ranchertest.Token{
			{Value: adminToken},
			{Value: limitedToken, Clusters: []string{"c-00001"}},
		},
	})
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, url, token string, pageLimit int) *rancher.Client {
	t.Helper()
	c, err := rancher.New(rancher.Config{URL: url, Token: rancher.Secret(token), PageLimit: pageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClustersPagination(t *testing.T) {
	s := newServer(t, nil)
	for _, limit := range []int{1, 2, 3, 10, 0} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			got, err := newClient(t, s.URL, adminToken, limit).Clusters(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 10 {
				t.Fatalf("got %d clusters, want 10", len(got))
			}
			seen := map[string]bool{}
			for _, c := range got {
				if seen[c.ID] || c.Type != "cluster" || c.Links["self"] == "" || c.State != "active" {
					t.Errorf("bad or repeated cluster %+v", c)
				}
				seen[c.ID] = true
			}
		})
	}
}

func TestMaxPages(t *testing.T) {
	s := newServer(t, nil)
	c, err := rancher.New(rancher.Config{URL: s.URL, Token: adminToken, PageLimit: 1, MaxPages: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clusters(context.Background()); err == nil || !strings.Contains(err.Error(), "more than 3 pages") {
		t.Fatalf("err = %v, want a page bound", err)
	}
}

func TestProjectsFilterAndVisibility(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		token, cluster string
		want           int
	}{
		{adminToken, "", 4},
		{adminToken, "local", 2},
		{adminToken, "c-00001", 2},
		{adminToken, "c-nope", 0},
		{limitedToken, "", 2},
		{limitedToken, "local", 0},
	}
	for _, tt := range tests {
		got, err := newClient(t, s.URL, tt.token, 1).Projects(context.Background(), tt.cluster)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("%s %q: got %d projects, want %d", tt.token[:9], tt.cluster, len(got), tt.want)
		}
		for _, p := range got {
			if tt.cluster != "" && p.ClusterID != tt.cluster || !strings.HasPrefix(p.ID, p.ClusterID+":") {
				t.Errorf("project %+v outside cluster %q", p, tt.cluster)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	s := newServer(t, nil)
	c := newClient(t, s.URL, adminToken, 2)
	ctx := context.Background()
	clusters := []struct{ in, want, err string }{
		{"c-00003", "c-00003", ""},
		{"cl-4", "c-00004", ""},
		{"local", "local", ""},
		{"twin", "", `cluster name "twin" is ambiguous: c-dup01, c-dup02; give the id`},
		{"nope", "", `no cluster with id or name "nope"`},
	}
	for _, tt := range clusters {
		got, err := c.ResolveCluster(ctx, tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ResolveCluster(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			if !errors.Is(err, rancher.ErrNotFound) && !errors.Is(err, rancher.ErrAmbiguous) {
				t.Errorf("ResolveCluster(%q) err = %v, want one matching ErrNotFound or ErrAmbiguous", tt.in, err)
			}
			continue
		}
		if err != nil || got.ID != tt.want {
			t.Errorf("ResolveCluster(%q) = %q, %v; want %q", tt.in, got.ID, err, tt.want)
		}
	}
	projects := []struct{ in, want, err string }{
		{"local:p-bbbbb", "local:p-bbbbb", ""},
		{"shop", "c-00001:p-ddddd", ""},
		{"Default", "", `project name "Default" is ambiguous: c-00001:p-ccccc, local:p-aaaaa; give the id`},
		{"local:p-zzzzz", "", `no project with id or name "local:p-zzzzz"`},
		{"nope", "", `no project with id or name "nope"`},
	}
	for _, tt := range projects {
		got, err := c.ResolveProject(ctx, tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ResolveProject(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			if !errors.Is(err, rancher.ErrNotFound) && !errors.Is(err, rancher.ErrAmbiguous) {
				t.Errorf("ResolveProject(%q) err = %v, want one matching ErrNotFound or ErrAmbiguous", tt.in, err)
			}
			continue
		}
		if err != nil || got.ID != tt.want {
			t.Errorf("ResolveProject(%q) = %q, %v; want %q", tt.in, got.ID, err, tt.want)
		}
	}
}

func TestAuthErrors(t *testing.T) {
	s := newServer(t, nil)
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"baseType":"error","code":"PermissionDenied","message":"clusters.management.cattle.io is forbidden","status":403,"type":"error"}`)
	}))
	defer forbidden.Close()
	unauthorizedWithCode := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"error","status":"401","code":"Unauthorized","message":"must authenticate"}`)
	}))
	defer unauthorizedWithCode.Close()

	tests := []struct {
		name, url, token string
		is               error
		want             string
	}{
		{"wrong token", s.URL, "token-admin:wrong", rancher.ErrUnauthorized,
			"rancher " + s.URL + "/v3/clusters?limit=1000: token rejected (401: must authenticate)"},
		{"unknown token", s.URL, "token-other:whatever", rancher.ErrUnauthorized, "token rejected (401: must authenticate)"},
		{"401 with code", unauthorizedWithCode.URL, adminToken, rancher.ErrUnauthorized, "token rejected (401 Unauthorized: must authenticate)"},
		{"403", forbidden.URL, adminToken, rancher.ErrForbidden,
			"not allowed for this token (403 PermissionDenied: clusters.management.cattle.io is forbidden)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newClient(t, tt.url, tt.token, 0).Clusters(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			var apiErr *rancher.APIError
			if !errors.As(err, &apiErr) {
				t.Errorf("%v is not an *APIError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q leaks the token", err)
			}
		})
	}
}

func TestMissingTokenBody(t *testing.T) {
	s := newServer(t, nil)
	resp, err := http.Get(s.URL + "/v3/clusters")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := `{"message":"must authenticate","status":"401","type":"error"}`
	if resp.StatusCode != 401 || strings.TrimSpace(string(body)) != want {
		t.Fatalf("got %d %s, want 401 %s", resp.StatusCode, body, want)
	}
}

func TestProxy(t *testing.T) {
	type seen struct{ path, query, auth, user string }
	got := make(chan seen, 1)
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Impersonate-User")}
		io.WriteString(w, `{"kind":"NamespaceList"}`)
	})
	s := newServer(t, backend)
	c := newClient(t, s.URL, adminToken, 0)
	if want := s.URL + "/k8s/clusters/local"; c.KubeURL("local") != want {
		t.Fatalf("KubeURL = %q, want %q", c.KubeURL("local"), want)
	}
	tests := []struct {
		name, cluster, token string
		status               int
	}{
		{"admin", "local", adminToken, 200},
		{"no access", "local", limitedToken, 403},
		{"no backend", "c-00001", limitedToken, 503},
		{"unknown cluster", "c-nope", adminToken, 404},
		{"wrong token", "local", "token-admin:wrong", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", c.KubeURL(tt.cluster)+"/api/v1/namespaces?limit=5", nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			// Rancher keeps its token to itself and impersonates the token's
			// user downstream.
			g := <-got
			if g.path != "/api/v1/namespaces" || g.query != "limit=5" || g.auth != "" || g.user != "u-admin" {
				t.Errorf("backend saw %+v", g)
			}
		})
	}
}

func TestProjectOfNamespace(t *testing.T) {
	tests := []struct {
		ann             map[string]string
		cluster, projID string
		ok              bool
	}{
		{map[string]string{"field.cattle.io/projectId": "c-abcde:p-xyz12"}, "c-abcde", "c-abcde:p-xyz12", true},
		{map[string]string{"field.cattle.io/projectId": "local:p-xyz12"}, "local", "local:p-xyz12", true},
		{map[string]string{"field.cattle.io/projectId": "p-xyz12"}, "", "", false},
		{map[string]string{"field.cattle.io/projectId": ":p-xyz12"}, "", "", false},
		{map[string]string{"field.cattle.io/projectId": "c-abcde:"}, "", "", false},
		{map[string]string{"field.cattle.io/projectId": "a:b:c"}, "", "", false},
		{map[string]string{"other": "c-abcde:p-xyz12"}, "", "", false},
		{nil, "", "", false},
	}
	for _, tt := range tests {
		c, p, ok := rancher.ProjectOfNamespace(tt.ann)
		if c != tt.cluster || p != tt.projID || ok != tt.ok {
			t.Errorf("ProjectOfNamespace(%v) = %q, %q, %v; want %q, %q, %v", tt.ann, c, p, ok, tt.cluster, tt.projID, tt.ok)
		}
	}
}

func TestConfigHidesToken(t *testing.T) {
	cfg := rancher.Config{URL: "https://rancher.example.com", Token: adminToken}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{cfg, &cfg, cfg.Token} {
			if out := fmt.Sprintf(f, v); strings.Contains(out, "s3cr3t") || !strings.Contains(out, "<secret>") {
				t.Errorf("%s of %T = %s", f, v, out)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  rancher.Config
		want string
	}{
		{rancher.Config{Token: adminToken}, "rancher url is empty"},
		{rancher.Config{URL: "rancher.example.com", Token: adminToken}, "want http(s)://host"},
		{rancher.Config{URL: "https://u:p@rancher.example.com", Token: adminToken}, "credentials in the token"},
		{rancher.Config{URL: "https://rancher.example.com"}, "rancher token is empty"},
		{rancher.Config{URL: "https://rancher.example.com", Token: "token-a:b c"}, "white space"},
	}
	for _, tt := range tests {
		_, err := rancher.New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), ":p@") {
			t.Errorf("New(%v) err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestNextLinkMustStayOnServer(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"type":"collection","resourceType":"cluster","pagination":{"next":"http://elsewhere.example/v3/clusters?marker=x"},"data":[{"id":"c-1","name":"a"}]}`)
	}))
	defer s.Close()
	_, err := newClient(t, s.URL, adminToken, 0).Clusters(context.Background())
	if err == nil || !strings.Contains(err.Error(), "leaves") {
		t.Fatalf("err = %v, want a refusal to follow the link", err)
	}
}

func TestContextCancel(t *testing.T) {
	s := newServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newClient(t, s.URL, adminToken, 0).Clusters(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
