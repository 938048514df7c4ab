package rancher

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Secret is a credential. It prints as <secret> in every fmt verb and in JSON,
// so a Config can be logged or wrapped into an error without leaking it.
type Secret string

func (Secret) String() string               { return "<secret>" }
func (Secret) GoString() string             { return `"<secret>"` }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"<secret>"`), nil }

// Config says how to reach Rancher.
type Config struct {
	// URL is Rancher's base URL, such as https://rancher.example.com; a trailing
	// /v3 is accepted and ignored.
	URL string
	// Token is an API token, "token-xxxxx:secret", sent as a bearer token.
	Token Secret
	// HTTPClient defaults to a client without a timeout: bound calls with ctx.
	HTTPClient *http.Client
	// PageLimit is the page size asked of Rancher; 0 means 1000, Rancher's own
	// default. Rancher caps it at 3000.
	PageLimit int
	// MaxPages bounds how many pages one listing follows; 0 means 100.
	MaxPages int
}

const (
	defaultPageLimit = 1000
	defaultMaxPages  = 100
)

func (c Config) validate() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("rancher url is empty")
	}
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSuffix(c.URL, "/"), "/v3"))
	if err != nil {
		return nil, fmt.Errorf("rancher url: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("rancher url %q: want http(s)://host", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("rancher url %q: put credentials in the token, not the url", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("rancher url %q: want no query or fragment", u.Redacted())
	}
	if c.Token == "" {
		return nil, errors.New("rancher token is empty")
	}
	if strings.ContainsAny(string(c.Token), " \t\r\n") {
		// Not echoed: the value is the secret.
		return nil, errors.New("rancher token contains white space")
	}
	if c.PageLimit < 0 || c.MaxPages < 0 {
		return nil, errors.New("rancher page limit and max pages must not be negative")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}
