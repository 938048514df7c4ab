// Package ranchertest runs an in-process server that speaks the slice of
// Rancher's v3 API that package rancher uses, with Rancher's response shapes:
// norman collections, limit/marker pagination, the clusterId filter on
// projects, bearer-token auth with Rancher's error bodies, and the
// /k8s/clusters/<id> proxy to each cluster's Kubernetes API, which
// authenticates the Rancher token and impersonates its user downstream as
// Rancher does (see proxy.go).
package ranchertest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cluster is a cluster the server knows. Backend, or else BackendURL, serves
// its Kubernetes API behind /k8s/clusters/<ID>; with neither the proxy
// answers as Rancher does for a cluster that is not provisioned (503).
type Cluster struct {
	ID, Name, State string
	Labels          map[string]string
	Annotations     map[string]string
	// Backend serves the cluster's API in-process. The proxy hands it the
	// request as it would send it downstream: path without the
	// /k8s/clusters/<ID> prefix, the caller's Authorization replaced by
	// BearerToken (or removed), and the impersonation headers set.
	Backend http.Handler
	// BackendURL is the cluster's API server (Rancher's status.apiEndpoint),
	// such as https://127.0.0.1:6443, reached with TLS (nil: the system
	// roots) and BearerToken. ClusterFromKubeconfig fills all three.
	BackendURL string
	TLS        *tls.Config
	// BearerToken is the credential the proxy presents downstream. Rancher
	// uses a per-user service account (cattle-impersonation-system/
	// cattle-impersonation-<user>) whose only right is to impersonate that
	// user, its groups and extras; an admin token of a test API server
	// (system:masters) may impersonate anyone and so stands in for it.
	BearerToken string
}

// Project is a project; ID is "<clusterId>:<projectId>".
type Project struct {
	ID, Name, ClusterID, State string
}

// Token is an API token, "token-xxxxx:secret", and the Rancher user it
// authenticates.
type Token struct {
	Value string
	// Clusters lists the ids of the clusters the token's user is a member
	// of; nil means every cluster (an administrator). The others are hidden
	// from /v3 and refused by the proxy with Rancher's 403.
	Clusters []string
	// User is the Rancher user id, such as u-abc12: the proxy impersonates
	// it downstream, so RBAC there binds it (kind User). Empty means "u-"
	// followed by the token name without its "token-" prefix.
	User string
	// Groups are the user's group principals, such as local://g-ops or
	// github_team://1234; the proxy impersonates them with "local://"
	// removed, plus system:authenticated and system:cattle:authenticated.
	Groups []string
	// Principal is the user's principal id (Impersonate-Extra-principalid);
	// empty means local://<User>. Username is the login name
	// (Impersonate-Extra-username), sent when set.
	Principal, Username string
	// ClusterName makes the token cluster-scoped, as Rancher's token field
	// clusterName does: it authenticates only requests whose path names that
	// cluster (/k8s/clusters/<id>/..., /v3/clusters/<id>); anywhere else,
	// /v3/clusters included, Rancher answers 401 must authenticate.
	ClusterName string
}

// Options configure a Server.
type Options struct {
	Clusters []Cluster
	Projects []Project
	Tokens   []Token
	// TLS serves https, as Rancher does, with httptest's certificate for
	// 127.0.0.1; CAPEM returns the certificate to trust and Client a client
	// that trusts it.
	TLS bool
	// UnreachableDelay is how long a request to an unreachable cluster
	// waits before the error (0: none). Real Rancher waits for the agent to
	// reconnect for about 20 to 40 seconds first (pkg/dialer/factory.go:
	// four jittered 5 s sleeps).
	UnreachableDelay time.Duration
	// OnRequest, when set, sees each authenticated request before it is
	// served: tests use it to change the server mid-run (SetUnreachable
	// once the clusters were listed). It must not block.
	OnRequest func(*http.Request)
	// Services stands servers on loopback in for the endpoints of
	// downstream services, for the API server's service proxy: keys are
	// "clusterID/namespace/service" with the service as the proxy path
	// names it ("c-east1/cattle-monitoring-system/http:rancher-monitoring-prometheus:9090"),
	// values base URLs. The cluster's API server still authorizes each
	// request (see services.go).
	Services map[string]string
}

// Server is a running fake Rancher on loopback.
type Server struct {
	*httptest.Server
	opts     Options
	backends map[string]*backend

	// ctx is cancelled by Close, so that streams in flight (watches) end
	// and httptest.Server.Close does not wait for them forever.
	ctx    context.Context
	cancel context.CancelFunc
}

// NewServer starts a server; Close it when done. It panics on an invalid
// BackendURL, as httptest does on setup errors.
func NewServer(opts Options) *Server {
	opts.Clusters = slices.Clone(opts.Clusters)
	opts.Tokens = slices.Clone(opts.Tokens)
	s := &Server{opts: opts, backends: map[string]*backend{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, c := range opts.Clusters {
		b, err := newBackend(s.ctx, c)
		if err != nil {
			panic(fmt.Sprintf("ranchertest: cluster %s: %v", c.ID, err))
		}
		if b != nil {
			s.backends[c.ID] = b
		}
	}
	s.Server = httptest.NewUnstartedServer(s)
	if opts.TLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	return s
}

// Close ends the streams in flight, then closes the server.
func (s *Server) Close() {
	s.cancel()
	s.Server.Close()
	for _, b := range s.backends {
		b.closeIdle()
	}
}

// ServeHTTP routes a request as Rancher does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := s.authenticate(r)
	if !ok {
		writeAuthError(w, http.StatusUnauthorized, "must authenticate")
		return
	}
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(r)
	}
	path := r.URL.Path
	// A cluster-scoped token is refused (401, "clusterID does not match")
	// wherever the path does not name its cluster (rancher/rancher
	// pkg/auth/requests/authenticate.go, Authenticate).
	if tok.ClusterName != "" && tok.ClusterName != clusterIDOf(path) {
		writeAuthError(w, http.StatusUnauthorized, "must authenticate")
		return
	}
	switch {
	case strings.HasPrefix(path, "/k8s/clusters/"):
		s.proxy(w, r, tok)
	case path == "/v3/clusters":
		s.listClusters(w, r, tok)
	case path == "/v3/projects":
		s.listProjects(w, r, tok)
	case strings.HasPrefix(path, "/v3/clusters/"):
		s.getCluster(w, r, tok, strings.TrimPrefix(path, "/v3/clusters/"))
	case strings.HasPrefix(path, "/v3/projects/"):
		s.getProject(w, r, tok, strings.TrimPrefix(path, "/v3/projects/"))
	default:
		writeAPIError(w, http.StatusNotFound, "NotFound", "not found")
	}
}

// clusterIDOf is the cluster a path names, as Rancher's
// clusterrouter.GetClusterID reads it: /k8s|v3/clusters|cluster|proxy/<id>.
func clusterIDOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 3 && parts[0] == "" && (parts[1] == "k8s" || parts[1] == "v3") &&
		(parts[2] == "clusters" || parts[2] == "cluster" || parts[2] == "proxy") {
		return parts[3]
	}
	return ""
}

// authenticate accepts the token as a bearer token, or as basic auth with
// the access key as user and the secret as password, as Rancher does.
func (s *Server) authenticate(r *http.Request) (Token, bool) {
	value := ""
	if user, pass, ok := r.BasicAuth(); ok {
		value = user + ":" + pass
	} else if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		value = strings.TrimSpace(v)
	}
	if value == "" {
		return Token{}, false
	}
	for _, t := range s.opts.Tokens {
		if t.Value == value {
			return t, true
		}
	}
	return Token{}, false
}

func (t Token) allows(clusterID string) bool {
	return t.Clusters == nil || slices.Contains(t.Clusters, clusterID)
}

// name is the token's name, the part before the colon (token-xxxxx).
func (t Token) name() string {
	name, _, _ := strings.Cut(t.Value, ":")
	return name
}

func (t Token) user() string {
	if t.User != "" {
		return t.User
	}
	return "u-" + strings.TrimPrefix(t.name(), "token-")
}

func (s *Server) cluster(id string) (Cluster, bool) {
	for _, c := range s.opts.Clusters {
		if c.ID == id {
			return c, true
		}
	}
	return Cluster{}, false
}

func (s *Server) visibleClusters(tok Token) []map[string]any {
	var out []map[string]any
	for _, c := range s.opts.Clusters {
		if tok.allows(c.ID) {
			out = append(out, s.clusterResource(c))
		}
	}
	return out
}

func (s *Server) visibleProjects(tok Token, clusterID string) []map[string]any {
	var out []map[string]any
	for _, p := range s.opts.Projects {
		if tok.allows(p.ClusterID) && (clusterID == "" || p.ClusterID == clusterID) {
			out = append(out, s.projectResource(p))
		}
	}
	return out
}

func (s *Server) listClusters(w http.ResponseWriter, r *http.Request, tok Token) {
	s.writeCollection(w, r, "cluster", s.visibleClusters(tok), nil)
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, tok Token) {
	clusterID := r.URL.Query().Get("clusterId")
	var filters map[string][]condition
	if clusterID != "" {
		filters = map[string][]condition{"clusterId": {{Modifier: "eq", Value: clusterID}}}
	}
	s.writeCollection(w, r, "project", s.visibleProjects(tok, clusterID), filters)
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request, tok Token, id string) {
	if c, ok := s.cluster(id); ok && tok.allows(id) {
		writeJSON(w, http.StatusOK, s.clusterResource(c))
		return
	}
	writeAPIError(w, http.StatusNotFound, "NotFound", "clusters.management.cattle.io \""+id+"\" not found")
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, tok Token, id string) {
	for _, p := range s.opts.Projects {
		if p.ID == id && tok.allows(p.ClusterID) {
			writeJSON(w, http.StatusOK, s.projectResource(p))
			return
		}
	}
	writeAPIError(w, http.StatusNotFound, "NotFound", "projects.management.cattle.io \""+id+"\" not found")
}

func (s *Server) clusterResource(c Cluster) map[string]any {
	self := s.URL + "/v3/clusters/" + c.ID
	state, ready := orDefault(c.State, "active"), map[string]any{"type": "Ready", "status": "True"}
	transitioning, transitioningMessage := "no", ""
	if b, ok := s.backends[c.ID]; ok {
		if _, reachable := b.reachable(); !reachable {
			// As Rancher shows a cluster whose agent is gone (the condition
			// is quoted in rancher/rancher#36589 and #48585).
			state, transitioning, transitioningMessage = "unavailable", "error", "Cluster agent is not connected"
			ready = map[string]any{"type": "Ready", "status": "False", "reason": "Disconnected", "message": transitioningMessage}
		}
	}
	return map[string]any{
		"type": "cluster", "id": c.ID, "baseType": "cluster",
		"links": map[string]string{
			"self":     self,
			"projects": self + "/projects",
			"remove":   self,
			"update":   self,
		},
		"actions":              map[string]string{},
		"name":                 c.Name,
		"state":                state,
		"transitioning":        transitioning,
		"transitioningMessage": transitioningMessage,
		"conditions":           []map[string]any{ready},
		"labels":               orEmpty(c.Labels),
		"annotations":          orEmpty(c.Annotations),
		"internal":             c.ID == "local",
		"uuid":                 "uuid-" + c.ID,
	}
}

func (s *Server) projectResource(p Project) map[string]any {
	self := s.URL + "/v3/projects/" + p.ID
	return map[string]any{
		"type": "project", "id": p.ID, "baseType": "project",
		"links": map[string]string{
			"self":   self,
			"remove": self,
			"update": self,
		},
		"actions":     map[string]string{},
		"name":        p.Name,
		"clusterId":   p.ClusterID,
		"namespaceId": p.ClusterID,
		"state":       orDefault(p.State, "active"),
		"labels":      map[string]string{},
		"annotations": map[string]string{},
		"uuid":        "uuid-" + p.ID,
	}
}

// Rancher's defaults: 1000 items a page, at most 3000.
const (
	defaultLimit = 1000
	maxLimit     = 3000
)

type condition struct {
	Modifier string `json:"modifier"`
	Value    any    `json:"value"`
}

// writeCollection pages data as norman does: sorted by id, limit from the
// query (clamped), marker the id of the first item of the page, and
// pagination.next the request URL with the next page's marker.
func (s *Server) writeCollection(w http.ResponseWriter, r *http.Request, resourceType string, data []map[string]any, filters map[string][]condition) {
	sort.Slice(data, func(i, j int) bool { return data[i]["id"].(string) < data[j]["id"].(string) })
	q := r.URL.Query()
	limit := defaultLimit
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 0 {
		limit = min(n, maxLimit)
	}
	start := 0
	if m := q.Get("marker"); m != "" {
		for i, d := range data {
			if d["id"] == m {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(data))
	pagination := map[string]any{"limit": limit, "total": len(data)}
	if m := q.Get("marker"); m != "" {
		pagination["marker"] = m
	}
	if end < len(data) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("marker", data[end]["id"].(string))
		pagination["next"] = s.URL + r.URL.Path + "?" + next.Encode()
		pagination["partial"] = true
	}
	if filters == nil {
		filters = map[string][]condition{}
	}
	page := data[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	self := s.URL + r.URL.Path
	writeJSON(w, http.StatusOK, map[string]any{
		"type":         "collection",
		"resourceType": resourceType,
		"links":        map[string]string{"self": self},
		"createTypes":  map[string]string{},
		"actions":      map[string]string{},
		"pagination":   pagination,
		"sort": map[string]any{
			"order":   "asc",
			"reverse": self + "?order=desc",
			"links":   map[string]string{"name": self + "?sort=name", "state": self + "?sort=state"},
		},
		"filters": filters,
		"data":    page,
	})
}

// writeAuthError writes the body Rancher's auth filter returns: status as a
// string and no code (rancher/rancher#14235).
func writeAuthError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"type": "error", "status": strconv.Itoa(status), "message": message})
}

// writeAPIError writes norman's API error body: numeric status and a code.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"type": "error", "baseType": "error", "status": status, "code": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
