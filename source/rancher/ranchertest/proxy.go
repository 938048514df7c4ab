package ranchertest

// The /k8s/clusters/<id> proxy, modelled on what Rancher does for the
// Kubernetes API paths (/api, /apis) of a downstream cluster. Sources, all in
// github.com/rancher/rancher:
//
//   - pkg/auth/requests/authenticate.go (tokenAuthenticator.Authenticate): the
//     token yields the user id (u-xxxxx), its group principals with "local://"
//     removed plus system:authenticated and system:cattle:authenticated, and
//     the extras requesttokenid (the token name), requesthost (the request's
//     Host), principalid and username; a token with clusterName is refused
//     (401) on any path that does not name that cluster.
//   - pkg/auth/requests/filter.go (authHeaderHandler.ServeHTTP): those become
//     Impersonate-User, Impersonate-Group (one header per group) and
//     Impersonate-Extra-<key> headers on the request.
//   - pkg/k8slookup/lookup.go and pkg/norman/store/proxy: the cluster is
//     looked up as the user (a norman ByID of the v3 cluster), so a user who
//     is no member gets the local API server's 403 for clusters.management.
//     cattle.io "<id>", translated to a norman APIError.
//   - pkg/clusterrouter/router.go (Router.ServeHTTP, response): lookup errors
//     are written as json.Encode(httperror.APIError), a struct without JSON
//     tags ({"Code":{"Code":..,"Status":..},"Message":..,"Cause":null,
//     "FieldName":""}), and the Content-Type is set after WriteHeader, so it
//     is never sent. rancher/rancher#13778 quotes such a body.
//   - pkg/clusterrouter/proxy/proxy_server.go (NewRemote, ServeHTTP): a
//     cluster not provisioned is 503 ClusterUnavailable "cluster not
//     provisioned"; otherwise the request goes to status.apiEndpoint with the
//     prefix cut, the impersonation headers kept, Authorization replaced by
//     the impersonator service account's token (pkg/impersonation), through
//     apimachinery's UpgradeAwareHandler whose errorResponder writes 500 and
//     err.Error() as plain text for any transport error.
//   - pkg/dialer/factory.go (clusterDialer): with no tunnel session (agent
//     disconnected) the dialer waits about 30 s for the agent, then fails with
//     ErrAgentDisconnected, "cluster agent disconnected": that is the 500's
//     body. A downstream API server that is down behind a connected agent
//     fails the dial instead, and the 500 carries the dial error.
//
// Not modelled: impersonation by the caller (kubectl --as; refused here with
// a 403), the steve API under /k8s/clusters/<id>/v1, the local cluster's
// special path, and an agent reconnecting while a request waits.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// backend is one cluster's downstream API and whether it can be reached.
type backend struct {
	handler   http.Handler
	token     string
	transport *http.Transport // nil for an in-process Backend

	parent      context.Context
	mu          sync.Mutex
	unreachable bool
	ctx         context.Context // cancelled when the cluster becomes unreachable
	cancel      context.CancelFunc
}

func newBackend(parent context.Context, c Cluster) (*backend, error) {
	b := &backend{token: c.BearerToken, parent: parent}
	b.ctx, b.cancel = context.WithCancel(parent)
	switch {
	case c.Backend != nil:
		b.handler = c.Backend
	case c.BackendURL != "":
		u, err := url.Parse(c.BackendURL)
		if err != nil {
			return nil, fmt.Errorf("backend url: %w", err)
		}
		if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("backend url %q: want http(s)://host[:port]", c.BackendURL)
		}
		// Like Rancher's &http.Transport{} with a custom TLS config: HTTP/1.1,
		// no proxy; bounded dials so a dead address fails instead of hanging.
		b.transport = &http.Transport{
			TLSClientConfig:     c.TLS.Clone(),
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 16,
		}
		b.handler = &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
			Transport: b.transport,
			// Watches: pass every chunk on as it arrives.
			FlushInterval: -1,
			ErrorHandler:  b.transportError,
			ErrorLog:      log.New(io.Discard, "", 0),
		}
	default:
		return nil, nil
	}
	return b, nil
}

// transportError answers as Rancher's errorResponder does: 500 and the
// error's text. A request cut because the cluster became unreachable gets
// the disconnected agent's error.
func (b *backend) transportError(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := b.reachable(); !ok {
		err = errAgentDisconnected
	}
	writeText(w, http.StatusInternalServerError, err.Error())
}

var errAgentDisconnected = errors.New("cluster agent disconnected")

// reachable returns the context that ends when the cluster becomes
// unreachable, and false when it is unreachable now.
func (b *backend) reachable() (context.Context, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ctx, !b.unreachable
}

func (b *backend) setUnreachable(v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v == b.unreachable {
		return
	}
	b.unreachable = v
	if v {
		// The tunnel is gone: so are the streams through it.
		b.cancel()
		return
	}
	b.ctx, b.cancel = context.WithCancel(b.parent)
}

func (b *backend) closeIdle() {
	if b.transport != nil {
		b.transport.CloseIdleConnections()
	}
}

// SetUnreachable makes a cluster's agent disconnected (true) or connected
// again (false). While it is disconnected, requests to the cluster get
// Rancher's 500 "cluster agent disconnected" (after Options.UnreachableDelay),
// the streams in flight, watches included, are cut, and /v3 shows the
// cluster unavailable with condition Ready False, reason Disconnected. It
// panics for a cluster without a backend.
func (s *Server) SetUnreachable(clusterID string, unreachable bool) {
	b, ok := s.backends[clusterID]
	if !ok {
		panic(fmt.Sprintf("ranchertest: SetUnreachable(%q): no such cluster with a backend", clusterID))
	}
	b.setUnreachable(unreachable)
}

// proxy forwards /k8s/clusters/<id>/<rest> to the cluster's API as /<rest>,
// with the caller's credential replaced by the cluster's and the token's
// user impersonated.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, tok Token) {
	escID, escRest, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/k8s/clusters/"), "/")
	id, err := url.PathUnescape(escID)
	if err != nil {
		writeRouterError(w, http.StatusNotFound, "NotFound", "failed to find cluster")
		return
	}
	if _, ok := s.cluster(id); !ok || !tok.allows(id) {
		if ok || tok.Clusters != nil {
			// The lookup runs as the user: RBAC refuses before existence is
			// known unless the user may get every cluster.
			writeRouterError(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(
				"clusters.management.cattle.io %q is forbidden: User %q cannot get resource \"clusters\" in API group \"management.cattle.io\" at the cluster scope",
				id, tok.user()))
			return
		}
		writeRouterError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("clusters.management.cattle.io %q not found", id))
		return
	}
	for k := range r.Header {
		if strings.HasPrefix(k, "Impersonate-") {
			writeRouterError(w, http.StatusForbidden, "Forbidden",
				"ranchertest: impersonation by the caller ("+k+", kubectl --as) is not modelled")
			return
		}
	}
	b, ok := s.backends[id]
	if !ok {
		writeRouterError(w, http.StatusServiceUnavailable, "ClusterUnavailable", "cluster not provisioned")
		return
	}
	clusterCtx, ok := b.reachable()
	if !ok {
		s.disconnected(w, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(clusterCtx, cancel)()

	out := r.Clone(ctx)
	out.URL.Path, err = url.PathUnescape("/" + escRest)
	if err != nil {
		writeRouterError(w, http.StatusNotFound, "NotFound", "bad path")
		return
	}
	out.URL.RawPath = "/" + escRest
	out.RequestURI = ""
	impersonate(out.Header, tok, r.Host)
	if b.token != "" {
		out.Header.Set("Authorization", "Bearer "+b.token)
	} else {
		out.Header.Del("Authorization")
	}
	if target, ns, svc, rest, ok := s.serviceTarget(id, out.URL.Path); ok {
		s.serviceProxy(w, out, b, target, ns, svc, rest)
		return
	}
	b.handler.ServeHTTP(w, out)
}

// impersonate sets the headers Rancher's auth filter sets for the token's
// user; the downstream API server then authorizes the request as that user.
func impersonate(h http.Header, tok Token, host string) {
	h.Set("Impersonate-User", tok.user())
	for _, g := range tok.Groups {
		h.Add("Impersonate-Group", strings.TrimPrefix(g, "local://"))
	}
	h.Add("Impersonate-Group", "system:authenticated")
	h.Add("Impersonate-Group", "system:cattle:authenticated")
	principal := tok.Principal
	if principal == "" {
		principal = "local://" + tok.user()
	}
	h.Set("Impersonate-Extra-Principalid", principal)
	if tok.Username != "" {
		h.Set("Impersonate-Extra-Username", tok.Username)
	}
	h.Set("Impersonate-Extra-Requesttokenid", tok.name())
	h.Set("Impersonate-Extra-Requesthost", host)
}

// disconnected answers for a cluster whose agent is gone, after the wait
// Rancher spends hoping it reconnects.
func (s *Server) disconnected(w http.ResponseWriter, r *http.Request) {
	if d := s.opts.UnreachableDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
		}
	}
	writeText(w, http.StatusInternalServerError, errAgentDisconnected.Error())
}

// routerError is norman's httperror.APIError as encoding/json writes it: no
// JSON tags, so Go's field names.
type routerError struct {
	Code struct {
		Code   string
		Status int
	}
	Message   string
	Cause     error
	FieldName string
}

// writeRouterError writes an error as Rancher's cluster router does. No
// Content-Type: Rancher sets it after WriteHeader, where it has no effect,
// so Go sniffs text/plain; client-go then quotes the body in its error.
func writeRouterError(w http.ResponseWriter, status int, code, message string) {
	var e routerError
	e.Code.Code, e.Code.Status, e.Message = code, status, message
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// writeText writes as Rancher's errorResponder: status and text, no
// Content-Type (Go sniffs text/plain).
func writeText(w http.ResponseWriter, status int, text string) {
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// CAPEM is the PEM certificate that clients of a TLS server must trust; nil
// without Options.TLS. Rancher publishes its own as the cacerts setting.
func (s *Server) CAPEM() []byte {
	cert := s.Certificate()
	if cert == nil {
		return nil
	}
	return pemCert(cert.Raw)
}
