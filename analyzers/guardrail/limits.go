package guardrail

import (
	"fmt"
	"strings"
	"time"

	"github.com/meshpilot/meshpilot/mesh"
)

// violation is one broken limit or rule on one object. key says what was
// broken, without the value found, so that a fix can be told apart from
// one that leaves an existing violation as it was.
type violation struct {
	limit *limit
	rule  *rule
	key   string
	msg   string
}

// limitMasks name the fields of Istio specs that limits read: objects
// that no rule applies to are converted only that far.
var limitMasks = func() map[mesh.GroupKind]mask {
	tp := mask{"tls": nil, "portLevelSettings": {"tls": nil}}
	return map[mesh.GroupKind]mask{
		mesh.VirtualService:     {"http": {"timeout": nil, "retries": nil}},
		mesh.DestinationRule:    {"host": nil, "trafficPolicy": tp, "subsets": {"trafficPolicy": tp}},
		mesh.PeerAuthentication: {"mtls": nil, "portLevelMtls": nil},
	}
}()

// checkMap checks the limits that concern an object's fields against its
// JSON-shaped form.
func (l *limit) checkMap(gk mesh.GroupKind, m map[string]any, report func(key, msg string)) {
	spec, _ := m["spec"].(map[string]any)
	switch gk {
	case mesh.VirtualService:
		for i, r := range list(spec["http"]) {
			l.checkVirtualServiceRoute(fmt.Sprintf("http[%d]", i), obj(r), report)
		}
	case mesh.HTTPRoute:
		for i, r := range list(spec["rules"]) {
			l.checkHTTPRouteRule(fmt.Sprintf("rules[%d]", i), obj(r), report)
		}
	case mesh.PeerAuthentication:
		if l.mtls != "" {
			l.checkMode("mtls.mode", obj(spec["mtls"])["mode"], report)
			for port, pl := range obj(spec["portLevelMtls"]) {
				l.checkMode(fmt.Sprintf("portLevelMtls[%s].mode", port), obj(pl)["mode"], report)
			}
		}
	case mesh.DestinationRule:
		if l.mtls == "STRICT" && inMeshHost(str(spec["host"])) {
			l.checkTrafficPolicy("trafficPolicy", obj(spec["trafficPolicy"]), report)
			for i, s := range list(spec["subsets"]) {
				l.checkTrafficPolicy(fmt.Sprintf("subsets[%d].trafficPolicy", i), obj(obj(s)["trafficPolicy"]), report)
			}
		}
	}
}

func (l *limit) checkVirtualServiceRoute(at string, r map[string]any, report func(key, msg string)) {
	if v, ok := r["timeout"]; ok {
		l.checkTimeout(at+".timeout", v, report)
	}
	retries := obj(r["retries"])
	if v, ok := retries["attempts"]; ok {
		l.checkAttempts(at+".retries.attempts", v, report)
	}
	if l.allowedRetryOn == nil {
		return
	}
	for _, v := range strings.Split(str(retries["retryOn"]), ",") {
		if v = strings.TrimSpace(v); v != "" && !l.allowedRetryOn[v] {
			key := at + ".retries.retryOn." + v
			report(key, fmt.Sprintf("%s.retries.retryOn %q is not in allowedRetryOn (%s)", at, v, strings.Join(l.allowedList, ", ")))
		}
	}
}

func (l *limit) checkHTTPRouteRule(at string, r map[string]any, report func(key, msg string)) {
	timeouts := obj(r["timeouts"])
	for _, f := range []string{"request", "backendRequest"} {
		if v, ok := timeouts[f]; ok {
			l.checkTimeout(at+".timeouts."+f, v, report)
		}
	}
	if v, ok := obj(r["retry"])["attempts"]; ok {
		l.checkAttempts(at+".retry.attempts", v, report)
	}
}

func (l *limit) checkTimeout(at string, v any, report func(key, msg string)) {
	if l.maxTimeout <= 0 {
		return
	}
	d, err := time.ParseDuration(str(v))
	switch {
	case err != nil:
		report(at, fmt.Sprintf("%s %v is not a duration, so maxRouteTimeout %s cannot be checked", at, v, l.maxTimeout))
	case d == 0:
		// Istio and Gateway API read 0 as no timeout at all.
		report(at, fmt.Sprintf("%s 0s disables the timeout, above maxRouteTimeout %s", at, l.maxTimeout))
	case d > l.maxTimeout:
		report(at, fmt.Sprintf("%s %s is above maxRouteTimeout %s", at, str(v), l.maxTimeout))
	}
}

func (l *limit) checkAttempts(at string, v any, report func(key, msg string)) {
	if l.maxAttempts < 0 {
		return
	}
	n, ok := toInt(v)
	switch {
	case !ok:
		report(at, fmt.Sprintf("%s %v is not a number, so maxRetryAttempts %d cannot be checked", at, v, l.maxAttempts))
	case n > int64(l.maxAttempts):
		report(at, fmt.Sprintf("%s %d is above maxRetryAttempts %d", at, n, l.maxAttempts))
	}
}

var modeRank = map[string]int{"DISABLE": 0, "PERMISSIVE": 1, "STRICT": 2}

func (l *limit) checkMode(at string, v any, report func(key, msg string)) {
	mode := str(v)
	if r, ok := modeRank[mode]; ok && r < modeRank[l.mtls] {
		report(at, fmt.Sprintf("%s %s is weaker than requiredMtlsMode %s", at, mode, l.mtls))
	}
}

// checkTrafficPolicy flags client-side plaintext (tls.mode DISABLE), which
// a STRICT server refuses.
func (l *limit) checkTrafficPolicy(at string, tp map[string]any, report func(key, msg string)) {
	if plaintext(tp) {
		report(at+".tls.mode", fmt.Sprintf("%s.tls.mode DISABLE sends plaintext, which requiredMtlsMode %s refuses", at, l.mtls))
	}
	for i, pl := range list(tp["portLevelSettings"]) {
		if plaintext(obj(pl)) {
			p := fmt.Sprintf("%s.portLevelSettings[%d].tls.mode", at, i)
			report(p, fmt.Sprintf("%s DISABLE sends plaintext, which requiredMtlsMode %s refuses", p, l.mtls))
		}
	}
}

// plaintext reports whether a traffic policy sets tls with mode DISABLE,
// which is mode's zero value and so absent from the map.
func plaintext(tp map[string]any) bool {
	tls, ok := tp["tls"].(map[string]any)
	if !ok {
		return false
	}
	mode, set := tls["mode"]
	return !set || mode == "DISABLE"
}

// inMeshHost reports whether a DestinationRule host names a cluster
// service (short, or under .svc.), where the mesh's mTLS applies.
func inMeshHost(h string) bool {
	return h != "" && (!strings.Contains(h, ".") || strings.Contains(h, ".svc."))
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}
