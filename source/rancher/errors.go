package rancher

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ErrUnauthorized and ErrForbidden match an *APIError of status 401 and 403
// under errors.Is.
var (
	ErrUnauthorized = errors.New("token rejected")
	ErrForbidden    = errors.New("not allowed")
)

// APIError is an error response from Rancher. Rancher's API errors carry
// type "error", a status (a string from the auth filter, a number from the
// API), a code (absent from auth failures) and a message.
type APIError struct {
	URL        string // the request URL, credentials removed
	StatusCode int
	Code       string
	Message    string
}

func (e *APIError) Error() string {
	detail := strconv.Itoa(e.StatusCode)
	if e.Code != "" {
		detail += " " + e.Code
	}
	if e.Message != "" {
		detail += ": " + e.Message
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Sprintf("rancher %s: token rejected (%s); check that the token is valid and not expired", e.URL, detail)
	case http.StatusForbidden:
		return fmt.Sprintf("rancher %s: not allowed for this token (%s)", e.URL, detail)
	}
	return fmt.Sprintf("rancher %s: %s", e.URL, detail)
}

// Is makes errors.Is(err, ErrUnauthorized) and ErrForbidden work.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

type errorBody struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

const maxErrorText = 200

// newAPIError reads Rancher's JSON error body, or keeps a short excerpt of a
// body that is not one (a load balancer's HTML page, say).
func newAPIError(url string, status int, body []byte) *APIError {
	e := &APIError{URL: url, StatusCode: status}
	var b errorBody
	if json.Unmarshal(body, &b) == nil && b.Type == "error" {
		e.Code, e.Message = b.Code, b.Message
		return e
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "..."
	}
	e.Message = text
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(status))
	}
	return e
}
