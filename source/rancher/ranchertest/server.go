// Package ranchertest runs an in-process server that speaks the slice of
// Rancher's v3 API that package rancher uses, with Rancher's response shapes:
// norman collections, limit/marker pagination, the clusterId filter on
// projects, bearer-token auth with Rancher's error bodies, and the
// /k8s/clusters/<id> proxy to a backend per cluster.
package ranchertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Cluster is a cluster the server knows. Backend, or else BackendURL, serves
// its Kubernetes API behind /k8s/clusters/<ID>; with neither the proxy
// answers 503 as Rancher does for a cluster it cannot reach.
type Cluster struct {
	ID, Name, State string
	Labels          map[string]string
	Annotations     map[string]string
	Backend         http.Handler
	BackendURL      string
}

// Project is a project; ID is "<clusterId>:<projectId>".
type Project struct {
	ID, Name, ClusterID, State string
}

// Token is an API token, "token-xxxxx:secret". Clusters lists the cluster
// ids it may use; nil means every cluster.
type Token struct {
	Value    string
	Clusters []string
}

// Options configure a Server.
type Options struct {
	Clusters []Cluster
	Projects []Project
	Tokens   []Token
}

// Server is a running fake Rancher on loopback.
type Server struct {
	*httptest.Server
	opts     Options
	backends map[string]http.Handler
}

// NewServer starts a server; Close it when done.
func NewServer(opts Options) *Server {
	s := &Server{opts: opts, backends: map[string]http.Handler{}}
	for _, c := range opts.Clusters {
		switch {
		case c.Backend != nil:
			s.backends[c.ID] = c.Backend
		case c.BackendURL != "":
			if u, err := url.Parse(c.BackendURL); err == nil {
				s.backends[c.ID] = httputil.NewSingleHostReverseProxy(u)
			}
		}
	}
	s.Server = httptest.NewServer(s)
	return s
}

// ServeHTTP routes a request as Rancher does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := s.authenticate(r)
	if !ok {
		writeAuthError(w, http.StatusUnauthorized, "must authenticate")
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/k8s/clusters/"):
		s.proxy(w, r, tok, strings.TrimPrefix(path, "/k8s/clusters/"))
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

func (s *Server) cluster(id string) (Cluster, bool) {
	for _, c := range s.opts.Clusters {
		if c.ID == id {
			return c, true
		}
	}
	return Cluster{}, false
}

// proxy forwards /k8s/clusters/<id>/rest to the cluster's backend as /rest.
// The Authorization header goes along unchanged (real Rancher instead
// authenticates the token itself and impersonates its user downstream).
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, tok Token, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	if _, ok := s.cluster(id); !ok {
		writeAPIError(w, http.StatusNotFound, "NotFound", "clusters.management.cattle.io \""+id+"\" not found")
		return
	}
	if !tok.allows(id) {
		writeKubeForbidden(w, id)
		return
	}
	backend, ok := s.backends[id]
	if !ok {
		writeAPIError(w, http.StatusServiceUnavailable, "ClusterUnavailable", "cluster agent disconnected")
		return
	}
	out := r.Clone(r.Context())
	out.URL.Path = "/" + sub
	out.URL.RawPath = ""
	out.RequestURI = ""
	backend.ServeHTTP(w, out)
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
	return map[string]any{
		"type": "cluster", "id": c.ID, "baseType": "cluster",
		"links": map[string]string{
			"self":     self,
			"projects": self + "/projects",
			"remove":   self,
			"update":   self,
		},
		"actions":     map[string]string{},
		"name":        c.Name,
		"state":       orDefault(c.State, "active"),
		"labels":      orEmpty(c.Labels),
		"annotations": orEmpty(c.Annotations),
		"internal":    c.ID == "local",
		"uuid":        "uuid-" + c.ID,
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

// writeKubeForbidden answers a proxied request for a cluster the token's user
// has no access to the way the downstream API server does: a v1 Status.
func writeKubeForbidden(w http.ResponseWriter, clusterID string) {
	writeJSON(w, http.StatusForbidden, map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "reason": "Forbidden", "code": http.StatusForbidden,
		"message": "the token's user has no access to cluster " + clusterID,
	})
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
