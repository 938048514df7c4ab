package resilience

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// TakesWritesKey is the Service annotation that says whether a service
// accepts non-idempotent requests ("true"/"false"), overriding inference.
const TakesWritesKey = "meshpilot.io/takes-writes"

// RetryIdempotency reports retries after the request reached the service on
// routes that carry non-idempotent requests.
var RetryIdempotency = &analysis.Analyzer{
	Name: "resilience.RetryIdempotency",
	Doc: "retries that can repeat writes\n\n" +
		"Reports routes whose retryOn retries failures that happen after the service received the request " +
		"(5xx, gateway-error, reset, retriable-4xx, 500, 502, 504) while the route matches POST or PATCH, or " +
		"matches any method of a service that takes writes (annotated meshpilot.io/takes-writes: \"true\", or " +
		"with a route matching POST or PATCH anywhere).",
	Codes: []*analysis.Code{codes.RetryOnNonIdempotent},
	Run:   runRetryIdempotency,
}

// writeMethods are the non-idempotent methods (RFC 9110: PUT and DELETE
// are idempotent).
var writeMethods = []string{"POST", "PATCH"}

// unsafeRetryOn are retry conditions met after the upstream may have
// processed the request.
var unsafeRetryOn = map[string]bool{"5xx": true, "gateway-error": true, "reset": true, "retriable-4xx": true,
	"500": true, "502": true, "504": true}

const safeRetryOn = "connect-failure,refused-stream,unavailable,cancelled"

func runRetryIdempotency(p *analysis.Pass) (any, error) {
	vss := virtualServices(p.Snapshot)
	writes := inferredWrites(p.Snapshot, vss)
	for _, vs := range vss {
		for i, r := range vs.Spec.GetHttp() {
			rt := r.GetRetries()
			if !forwards(r) || rt.GetAttempts() <= 0 || rt.GetRetryOn() == "" {
				continue
			}
			var unsafe, safe []string
			for _, tok := range strings.Split(rt.GetRetryOn(), ",") {
				if tok = strings.TrimSpace(tok); tok == "" {
					continue
				}
				if unsafeRetryOn[strings.ToLower(tok)] {
					unsafe = append(unsafe, tok)
				} else {
					safe = append(safe, tok)
				}
			}
			if len(unsafe) == 0 {
				continue
			}
			why := writeExposure(p.Snapshot, vs, i, r, writes)
			if why == "" {
				continue
			}
			newOn := strings.Join(safe, ",")
			if newOn == "" {
				newOn = safeRetryOn
			}
			rc := routeCtx{vs: vs.Obj, i: i, r: r}
			fix := fixFor(fmt.Sprintf("retry only on %s", newOn),
				fmt.Sprintf("Replaces retryOn %q of %s with %q: a write that failed after reaching the service is no longer sent again, so it cannot be applied twice; failures before the request reached it (%s) are still retried.",
					rt.GetRetryOn(), rc.label(), newOn, newOn),
				set(vs.Obj, rc.path("retries", "retryOn"), newOn))
			f := analysis.NewFinding(codes.RetryOnNonIdempotent, vs.Obj,
				fmt.Sprintf("%s retries on %s, which can repeat a request the service already processed, and %s",
					rc.where(), strings.Join(unsafe, ","), why))
			f.Fixes = fix
			p.Report(f)
		}
	}
	return nil, nil
}

// inferredWrites maps each destination host (FQDN) to the write methods
// some route to it matches.
func inferredWrites(s *mesh.Snapshot, vss []virtualService) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, vs := range vss {
		for _, r := range vs.Spec.GetHttp() {
			var ms []string
			for _, m := range r.GetMatch() {
				ms = append(ms, matchedWrites(m.GetMethod())...)
			}
			if len(ms) == 0 {
				continue
			}
			for _, rd := range r.GetRoute() {
				h := s.FQDN(rd.GetDestination().GetHost(), vs.Obj.Namespace())
				if out[h] == nil {
					out[h] = map[string]bool{}
				}
				for _, m := range ms {
					out[h][m] = true
				}
			}
		}
	}
	return out
}

// matchedWrites returns the write methods a method match accepts.
func matchedWrites(m *networking.StringMatch) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, w := range writeMethods {
		switch {
		case m.GetExact() != "":
			if strings.EqualFold(m.GetExact(), w) {
				out = append(out, w)
			}
		case m.GetPrefix() != "":
			if strings.HasPrefix(w, strings.ToUpper(m.GetPrefix())) {
				out = append(out, w)
			}
		case m.GetRegex() != "":
			if re, err := regexp.Compile("^(?:" + m.GetRegex() + ")$"); err == nil && re.MatchString(w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// writeExposure says why route i carries writes, or "" when it does not.
func writeExposure(s *mesh.Snapshot, vs virtualService, i int, r *networking.HTTPRoute, writes map[string]map[string]bool) string {
	anyMethod := len(r.GetMatch()) == 0
	for _, m := range r.GetMatch() {
		if ms := matchedWrites(m.GetMethod()); len(ms) > 0 {
			return "it matches " + strings.Join(ms, " and ")
		}
		if m.GetMethod() == nil {
			anyMethod = true
		}
	}
	if !anyMethod {
		return ""
	}
	for _, rd := range r.GetRoute() {
		h := s.FQDN(rd.GetDestination().GetHost(), vs.Obj.Namespace())
		declared, ok := declaredWrites(s, h)
		if ok && !declared {
			continue
		}
		methods := writes[h]
		if ok {
			methods = map[string]bool{"POST": true, "PATCH": true}
		}
		left := uncaptured(vs.Spec.GetHttp()[:i], methods)
		if len(left) == 0 {
			continue
		}
		why := "a route to it matches " + strings.Join(left, " and ")
		if ok {
			why = "its Service is annotated " + TakesWritesKey + ": \"true\""
		}
		return fmt.Sprintf("it matches any method of %s, which takes writes (%s)", rd.GetDestination().GetHost(), why)
	}
	return ""
}

// declaredWrites reads the takes-writes annotation of the host's Services.
func declaredWrites(s *mesh.Snapshot, fqdn string) (takes, ok bool) {
	for _, sh := range s.ServiceHosts(fqdn) {
		if _, isSvc := sh.Object.Obj.(*corev1.Service); !isSvc {
			continue
		}
		switch strings.ToLower(sh.Object.Annotations()[TakesWritesKey]) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// uncaptured returns the methods (sorted) that no earlier route takes
// whole: a match on the method alone catches every such request first.
func uncaptured(earlier []*networking.HTTPRoute, methods map[string]bool) []string {
	left := map[string]bool{}
	for m := range methods {
		left[m] = true
	}
	for _, r := range earlier {
		for _, m := range r.GetMatch() {
			if !methodOnly(m) {
				continue
			}
			for _, w := range matchedWrites(m.GetMethod()) {
				delete(left, w)
			}
		}
	}
	out := make([]string, 0, len(left))
	for m := range left {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func methodOnly(m *networking.HTTPMatchRequest) bool {
	return m.GetMethod() != nil && m.GetUri() == nil && m.GetScheme() == nil && m.GetAuthority() == nil &&
		len(m.GetHeaders()) == 0 && m.GetPort() == 0 && len(m.GetSourceLabels()) == 0 && len(m.GetGateways()) == 0 &&
		len(m.GetQueryParams()) == 0 && len(m.GetWithoutHeaders()) == 0 && m.GetSourceNamespace() == ""
}
