package guardrail

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

func TestLoadInvalid(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"unknown-key.yaml", []string{
			`testdata/invalid/unknown-key.yaml:9:5: spec.limits[0].maxRetries: unknown field "maxRetries" (known: name, description, level, scope, maxRouteTimeout, maxRetryAttempts, allowedRetryOn, requiredMtlsMode, forbiddenKinds)`}},
		{"bad-cel.yaml", []string{
			`testdata/invalid/bad-cel.yaml:10:17: spec.rules[0].expression: compile CEL: <input>:1:39: Syntax error: missing ')' at '<EOF>'`}},
		{"non-bool-cel.yaml", []string{
			`testdata/invalid/non-bool-cel.yaml:10:17: spec.rules[0].expression: CEL expression must evaluate to bool, not int`}},
		{"bad-level.yaml", []string{
			`testdata/invalid/bad-level.yaml:8:12: spec.limits[0].level: unknown level "critical" (want info, warning or error)`}},
		{"bad-glob.yaml", []string{
			`testdata/invalid/bad-glob.yaml:9:20: spec.limits[0].scope.namespaces[0]: invalid namespace pattern "team-[0-9": syntax error in pattern`}},
		{"bad-yaml.yaml", []string{
			`testdata/invalid/bad-yaml.yaml:7:1: invalid YAML: did not find expected key`}},
		{"many-errors.yaml", []string{
			`testdata/invalid/many-errors.yaml:1:13: apiVersion: must be meshpilot.io/v1alpha1, not "meshpilot.io/v1"`,
			`testdata/invalid/many-errors.yaml:8:22: spec.limits[0].maxRouteTimeout: expected a string, got int 10 (quote it if it is meant as text)`,
			`testdata/invalid/many-errors.yaml:9:23: spec.limits[0].maxRetryAttempts: must not be negative, not -1`,
			`testdata/invalid/many-errors.yaml:10:27: spec.limits[0].allowedRetryOn[1]: unknown retryOn value "sometimes" (want an Envoy retry policy such as 5xx, gateway-error, connect-failure, or an HTTP status code)`,
			`testdata/invalid/many-errors.yaml:11:23: spec.limits[0].requiredMtlsMode: must be STRICT or PERMISSIVE, not "strict"`,
			`testdata/invalid/many-errors.yaml:12:22: spec.limits[0].forbiddenKinds[0]: unknown kind "EnvoyFiltre" (want a kind meshpilot models, as Kind or Kind.group)`,
			`testdata/invalid/many-errors.yaml:13:5: spec.limits[1]: limit "timeouts" sets no limit (maxRouteTimeout, maxRetryAttempts, allowedRetryOn, requiredMtlsMode or forbiddenKinds)`,
			`testdata/invalid/many-errors.yaml:13:11: spec.limits[1].name: name "timeouts" is already used by spec.limits[0]`,
			`testdata/invalid/many-errors.yaml:15:18: spec.limits[1].scope.projects[0]: "payments-team" is neither a Rancher project id (p-xxxxx or <cluster>:p-xxxxx) nor a project named in spec.projects`,
			`testdata/invalid/many-errors.yaml:17:9: spec.limits[1].scope.namespaceSelector: invalid label selector: "Among" is not a valid label selector operator`,
			`testdata/invalid/many-errors.yaml:21:5: spec.rules[0].scope.kinds: required: a rule names the kinds it applies to`,
			`testdata/invalid/many-errors.yaml:23:12: spec.rules[0].level: unknown level "Error" (want info, warning or error)`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", "invalid", tc.file))
			errs := Errors(err)
			if errs == nil {
				t.Fatalf("got %v, want a *LoadError", err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func mustLoad(t testing.TB, file string) *Policy {
	t.Helper()
	p, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzer(t *testing.T) {
	a := Analyzer(mustLoad(t, "testdata/policy.yaml"))
	if err := analysis.Validate([]*analysis.Analyzer{a}); err != nil {
		t.Fatal(err)
	}
	analysistest.Run(t, "testdata/mesh", a)
}

// TestMessages checks that findings name the limit or rule and the value
// found, at the level the policy gives.
func TestMessages(t *testing.T) {
	a := Analyzer(mustLoad(t, "testdata/policy.yaml"))
	var got []string
	for _, file := range []string{"limits.yaml", "scopes.yaml"} {
		for _, f := range analysistest.Findings(t, filepath.Join("testdata", "mesh", file), a) {
			got = append(got, f.Level.String()+" "+f.Resource+": "+f.Message)
		}
	}
	want := []string{
		`Error DestinationRule shop/cart: guardrail limit "security": trafficPolicy.tls.mode DISABLE sends plaintext, which requiredMtlsMode STRICT refuses`,
		`Error EnvoyFilter shop/lua: guardrail limit "security": kind EnvoyFilter is forbidden in namespace shop`,
		`Error PeerAuthentication shop/default: guardrail limit "security": mtls.mode PERMISSIVE is weaker than requiredMtlsMode STRICT`,
		`Error PeerAuthentication shop/default: guardrail limit "security": portLevelMtls[8080].mode DISABLE is weaker than requiredMtlsMode STRICT`,
		`Error VirtualService shop/cart: guardrail limit "budgets": http[0].retries.attempts 5 is above maxRetryAttempts 3`,
		`Error VirtualService shop/cart: guardrail limit "budgets": http[0].retries.retryOn "refused-stream" is not in allowedRetryOn (5xx, connect-failure, 503)`,
		`Error VirtualService shop/cart: guardrail limit "budgets": http[0].retries.retryOn "reset" is not in allowedRetryOn (5xx, connect-failure, 503)`,
		`Error VirtualService shop/cart: guardrail limit "budgets": http[0].timeout 30s is above maxRouteTimeout 10s`,
		`Error HTTPRoute team-a/web: guardrail limit "budgets": rules[0].timeouts.request 1m is above maxRouteTimeout 10s`,
		`Error VirtualService team-a/catalog: guardrail limit "budgets": http[0].timeout 0s disables the timeout, above maxRouteTimeout 10s`,
		`Error Deployment checkout/pay: guardrail rule "prod-replicas": replicas 1 in a prod namespace`,
		`Error Namespace checkout: guardrail limit "security": namespace checkout gets mTLS mode PERMISSIVE from Istio's default, as no PeerAuthentication sets one, weaker than requiredMtlsMode STRICT`,
		`Warning VirtualService checkout/pay: guardrail rule "route-timeouts": every HTTP route needs a timeout`,
		`Warning Sidecar platform/default: guardrail limit "platform-only-sidecars": kind Sidecar is forbidden in namespace platform`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestExample runs the committed sample policy on the demo mesh.
func TestExample(t *testing.T) {
	p := mustLoad(t, "../../examples/guardrails.yaml")
	res, err := files.LoadBytes(context.Background(), demo.Inputs(), files.Options{})
	if err != nil {
		t.Fatal(err)
	}
	findings := run1(t, Analyzer(p), res.Snapshot(mesh.Options{}))
	var got []string
	for _, f := range findings {
		got = append(got, f.Code+" "+f.Resource+": "+f.Message)
	}
	want := []string{
		`MP5001 VirtualService payments/payments: guardrail limit "payments-latency": http[1].timeout 3s is above maxRouteTimeout 2s`,
		`MP5002 DestinationRule shop/reviews: guardrail rule "shop-outlier-detection": no trafficPolicy.outlierDetection: set one so that failing endpoints are ejected`,
		`MP5001 VirtualService shop/checkout: guardrail limit "route-budgets": http[0].retries.retryOn "refused-stream" is not in allowedRetryOn (connect-failure, reset, 5xx, gateway-error, unavailable)`,
		`MP5002 VirtualService shop/partner-api: guardrail rule "routes-have-timeouts": 1 of 1 HTTP routes have no timeout`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func run1(t testing.TB, a *analysis.Analyzer, snap *mesh.Snapshot) []analysis.Finding {
	t.Helper()
	sel, err := analysis.Select([]*analysis.Analyzer{a}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := analysis.Run(context.Background(), snap, sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Code == analysis.InternalError.ID {
			t.Fatalf("analyzer broke: %s", f.Message)
		}
	}
	return fs
}
