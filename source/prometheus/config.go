package prometheus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
)

// Config says how to reach a Prometheus server.
type Config struct {
	// URL of the server (http://prometheus.monitoring:9090), or of a proxy
	// path in front of it (see RancherURL).
	URL string
	// BearerToken authenticates every request; it is never printed.
	BearerToken string
	// Username and Password give HTTP basic authentication.
	Username, Password string
	// CAFile verifies the server's certificate; InsecureSkipVerify skips
	// verification.
	CAFile             string
	InsecureSkipVerify bool
	// Timeout bounds each HTTP request (default 2m).
	Timeout time.Duration
	// GetOnly sends queries as GET requests. client_golang POSTs them, and
	// a Kubernetes service proxy (RancherURL) authorizes a POST as
	// "create services/proxy", which read-only monitoring roles lack.
	GetOnly bool
}

// RancherPrometheusPath is where Rancher's monitoring chart
// (rancher-monitoring) serves Prometheus through the Kubernetes service
// proxy of a downstream cluster.
const RancherPrometheusPath = "/api/v1/namespaces/cattle-monitoring-system/services/http:rancher-monitoring-prometheus:9090/proxy"

// RancherURL is the address of rancher-monitoring's Prometheus of cluster
// clusterID through Rancher at rancherURL. Using it needs the Kubernetes
// permission "get services/proxy" in cattle-monitoring-system.
func RancherURL(rancherURL, clusterID string) string {
	return strings.TrimRight(rancherURL, "/") + "/k8s/clusters/" + url.PathEscape(clusterID) + RancherPrometheusPath
}

// Client builds a client_golang API client for c.
func (c Config) Client() (api.Client, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: want http(s)://host[:port][/path]", c.URL)
	}
	if c.BearerToken != "" && c.Username != "" {
		return nil, fmt.Errorf("prometheus: give a bearer token or a username and password, not both")
	}
	tlsConf := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // the user asked for it
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("prometheus ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("prometheus ca file %s: no PEM certificate in it", c.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = tlsConf
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	base.ResponseHeaderTimeout = timeout
	var rt http.RoundTripper = base
	if c.GetOnly {
		rt = getTransport{next: rt}
	}
	if c.BearerToken != "" || c.Username != "" {
		rt = authTransport{next: rt, token: c.BearerToken, user: c.Username, pass: c.Password}
	}
	return api.NewClient(api.Config{Address: c.URL, RoundTripper: rt})
}

type authTransport struct {
	next              http.RoundTripper
	token, user, pass string
}

func (t authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	} else {
		req.SetBasicAuth(t.user, t.pass)
	}
	return t.next.RoundTrip(req)
}

// getTransport turns form POSTs into GETs with the form in the query.
type getTransport struct{ next http.RoundTripper }

func (t getTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return t.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("prometheus query form: %w", err)
	}
	get := req.Clone(req.Context())
	get.Method, get.Body, get.ContentLength = http.MethodGet, nil, 0
	get.GetBody = nil
	get.Header.Del("Content-Type")
	q := get.URL.Query()
	for k, vs := range form {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	get.URL.RawQuery = q.Encode()
	return t.next.RoundTrip(get)
}

// String describes c without its secrets.
func (c Config) String() string {
	auth := ""
	switch {
	case c.BearerToken != "":
		auth = " (bearer token <secret>)"
	case c.Username != "":
		auth = " (basic auth as " + c.Username + ")"
	}
	return "prometheus " + c.URL + auth
}
