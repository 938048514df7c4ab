package ranchertest

// The service proxy of a downstream cluster's API server, through Rancher:
// /k8s/clusters/<id>/api/v1/namespaces/<ns>/services/<svc>/proxy/<path>.
// A real API server authorizes the caller (as impersonated by Rancher) for
// services/proxy, with the verb of the HTTP method (GET is "get", POST is
// "create"), then forwards to one of the service's endpoints. It refuses
// endpoints on loopback, so a test cannot point a real Service at a server
// of its own: Options.Services names the server that stands in for the
// endpoints, and the authorization is still the real API server's,
// asked with a SelfSubjectAccessReview under the same impersonation.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
)

// serviceTarget matches a proxied service path of cluster id against
// Options.Services.
func (s *Server) serviceTarget(id, path string) (target *url.URL, ns, svc, rest string, ok bool) {
	p, found := strings.CutPrefix(path, "/api/v1/namespaces/")
	if !found {
		return nil, "", "", "", false
	}
	parts := strings.SplitN(p, "/", 5)
	if len(parts) < 4 || parts[1] != "services" || parts[3] != "proxy" {
		return nil, "", "", "", false
	}
	raw, found := s.opts.Services[id+"/"+parts[0]+"/"+parts[2]]
	if !found {
		return nil, "", "", "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", "", "", false
	}
	rest = "/"
	if len(parts) == 5 {
		rest += parts[4]
	}
	return u, parts[0], parts[2], rest, true
}

// serviceProxy authorizes r (already carrying Rancher's impersonation and
// the cluster's credential) with the cluster's API server and forwards it
// to target.
func (s *Server) serviceProxy(w http.ResponseWriter, r *http.Request, b *backend, target *url.URL, ns, svc, rest string) {
	verb := map[string]string{http.MethodGet: "get", http.MethodHead: "get", http.MethodPost: "create", http.MethodPut: "update",
		http.MethodPatch: "patch", http.MethodDelete: "delete"}[r.Method]
	allowed, err := s.allowed(r, b, ns, svc, verb)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !allowed {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Failure",
			"message": fmt.Sprintf("services %q is forbidden: User %q cannot %s resource \"services/proxy\" in API group \"\" in the namespace %q",
				svc, r.Header.Get("Impersonate-User"), verb, ns),
			"reason":  "Forbidden",
			"details": map[string]any{"name": svc, "kind": "services"},
			"code":    http.StatusForbidden,
		})
		return
	}
	out := r.Clone(r.Context())
	for k := range out.Header {
		if strings.HasPrefix(k, "Impersonate-") {
			out.Header.Del(k)
		}
	}
	out.Header.Del("Authorization")
	out.URL.Path, out.URL.RawPath = rest, ""
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, out)
}

// allowed asks the cluster's API server whether the impersonated user may
// use verb on services/proxy of svc.
func (s *Server) allowed(r *http.Request, b *backend, ns, svc, verb string) (bool, error) {
	body, _ := json.Marshal(map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
		"spec": map[string]any{"resourceAttributes": map[string]any{
			"namespace": ns, "verb": verb, "resource": "services", "subresource": "proxy", "name": svc}},
	})
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "Impersonate-") || k == "Authorization" {
			req.Header[k] = vs
		}
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
		return false, fmt.Errorf("ranchertest: access review: %d %s", rec.Code, rec.Body.String())
	}
	var review struct {
		Status struct {
			Allowed bool `json:"allowed"`
		} `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil {
		return false, fmt.Errorf("ranchertest: access review: %w", err)
	}
	return review.Status.Allowed, nil
}
