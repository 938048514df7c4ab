package rancher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client talks to one Rancher server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     Secret
	hc        *http.Client
	pageLimit int
	maxPages  int
}

// New checks cfg and returns a client; it does no I/O.
func New(cfg Config) (*Client, error) {
	base, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, token: cfg.Token, hc: cfg.HTTPClient, pageLimit: cfg.PageLimit, maxPages: cfg.MaxPages}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.pageLimit == 0 {
		c.pageLimit = defaultPageLimit
	}
	if c.maxPages == 0 {
		c.maxPages = defaultMaxPages
	}
	return c, nil
}

// Clusters lists every cluster the token can see, following pagination.
func (c *Client) Clusters(ctx context.Context) ([]Cluster, error) {
	return list[Cluster](ctx, c, "clusters", nil)
}

// Projects lists the projects of clusterID, or of every cluster when
// clusterID is empty.
func (c *Client) Projects(ctx context.Context, clusterID string) ([]Project, error) {
	var q url.Values
	if clusterID != "" {
		q = url.Values{"clusterId": {clusterID}}
	}
	return list[Project](ctx, c, "projects", q)
}

// KubeURL is the URL of a cluster's Kubernetes API through Rancher's proxy;
// the same token authenticates there.
func (c *Client) KubeURL(clusterID string) string {
	return c.base.String() + "/k8s/clusters/" + url.PathEscape(clusterID)
}

const maxBody = 64 << 20

func list[T any](ctx context.Context, c *Client, kind string, q url.Values) ([]T, error) {
	first := *c.base
	first.Path += "/v3/" + kind
	query := url.Values{}
	for k, v := range q {
		query[k] = v
	}
	query.Set("limit", strconv.Itoa(c.pageLimit))
	first.RawQuery = query.Encode()

	var out []T
	seen := map[string]bool{}
	next := first.String()
	for page := 0; next != ""; page++ {
		if page == c.maxPages {
			return nil, fmt.Errorf("list %s: more than %d pages of %d; raise the page limit", kind, c.maxPages, c.pageLimit)
		}
		if seen[next] {
			return nil, fmt.Errorf("list %s: rancher returned page %s twice", kind, redact(next))
		}
		seen[next] = true
		var coll collection[T]
		if err := c.get(ctx, next, &coll); err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		out = append(out, coll.Data...)
		next = ""
		if coll.Pagination != nil && coll.Pagination.Next != "" {
			u, err := c.sameOrigin(coll.Pagination.Next)
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", kind, err)
			}
			next = u
		}
	}
	return out, nil
}

// sameOrigin resolves a next link and refuses one that leaves the Rancher
// server, since the token goes with every request.
func (c *Client) sameOrigin(link string) (string, error) {
	u, err := c.base.Parse(link)
	if err != nil {
		return "", fmt.Errorf("next page link: %w", err)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host || u.User != nil {
		return "", fmt.Errorf("next page link %s leaves %s; is Rancher's server-url setting or a proxy's X-Forwarded-Host wrong?", u.Redacted(), c.base.Redacted())
	}
	return u.String(), nil
}

func (c *Client) get(ctx context.Context, target string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(c.token))
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error names the URL and never the header that carries the token.
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", redact(target), err)
	}
	if len(body) > maxBody {
		return fmt.Errorf("read %s: response larger than %d bytes", redact(target), maxBody)
	}
	if resp.StatusCode/100 != 2 {
		return newAPIError(redact(target), resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", redact(target), err)
	}
	return nil
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<bad url>"
	}
	return u.Redacted()
}

// ProjectOfNamespace reads the project a namespace belongs to from its
// annotations. Rancher records membership in the field.cattle.io/projectId
// annotation as "<clusterId>:<projectId>"; the label of the same name holds
// only the project part, so it cannot tell clusters apart and is not used.
// The returned projectID is the full v3 id, "<clusterId>:<projectId>".
func ProjectOfNamespace(annotations map[string]string) (clusterID, projectID string, ok bool) {
	v, found := annotations[ProjectIDAnnotation]
	if !found {
		return "", "", false
	}
	cluster, project, found := strings.Cut(v, ":")
	if !found || cluster == "" || project == "" || strings.Contains(project, ":") {
		return "", "", false
	}
	return cluster, v, true
}

// ProjectIDAnnotation is the namespace annotation that names its project.
const ProjectIDAnnotation = "field.cattle.io/projectId"
