package guardrail

import (
	"context"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

const fixMesh = `apiVersion: v1
kind: Namespace
metadata:
  name: checkout
  labels:
    tier: prod
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
  namespace: shop
spec:
  hosts: [cart]
  http:
  - route:
    - destination:
        host: cart
    timeout: 30s
  - route:
    - destination:
        host: cart
    timeout: 5s
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: cart
  namespace: shop
spec:
  host: cart
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pay
  namespace: checkout
spec:
  replicas: 3
  selector:
    matchLabels:
      app: pay
  template:
    metadata:
      labels:
        app: pay
    spec:
      containers:
      - name: pay
        image: pay:1
`

func loadFixMesh(t testing.TB) *mesh.Snapshot {
	t.Helper()
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: []byte(fixMesh)}}, files.Options{})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("load: %v %v", err, res.Problems)
	}
	return res.Snapshot(mesh.Options{})
}

func TestCheckFix(t *testing.T) {
	p := mustLoad(t, "testdata/policy.yaml")
	snap := loadFixMesh(t)
	vs := snap.Get(mesh.VirtualService, "shop", "cart")
	dr := snap.Get(mesh.DestinationRule, "shop", "cart")
	dep := snap.Get(mesh.Deployment, "checkout", "pay")
	edit := func(obj *mesh.Object, path string, v any) analysis.Edit {
		return analysis.Edit{Resource: obj.Ref().String(), Path: path, Value: v}
	}
	for _, tc := range []struct {
		name   string
		obj    *mesh.Object
		edits  []analysis.Edit
		reason string // "" when the fix is allowed
	}{
		{"timeout within the limit", vs, []analysis.Edit{edit(vs, "/spec/http/1/timeout", "8s")}, ""},
		{"timeout above the limit", vs, []analysis.Edit{edit(vs, "/spec/http/1/timeout", "60s")},
			`it would break guardrail limit "budgets": http[1].timeout 60s is above maxRouteTimeout 10s`},
		// http[0] already breaks the limit: a fix that leaves it so is not refused for it.
		{"existing violation kept", vs, []analysis.Edit{edit(vs, "/spec/http/0/timeout", "20s")}, ""},
		{"retries created on the way", vs, []analysis.Edit{edit(vs, "/spec/http/1/retries/attempts", 4)},
			`it would break guardrail limit "budgets": http[1].retries.attempts 4 is above maxRetryAttempts 3`},
		{"retryOn not allowed", vs, []analysis.Edit{edit(vs, "/spec/http/1/retries", map[string]any{"attempts": 2, "retryOn": "5xx,reset"})},
			`it would break guardrail limit "budgets": http[1].retries.retryOn "reset" is not in allowedRetryOn (5xx, connect-failure, 503)`},
		{"deleting a timeout breaks a rule", vs, []analysis.Edit{{Resource: vs.Ref().String(), Path: "/spec/http/0/timeout", Delete: true}},
			`it would break guardrail rule "route-timeouts": every HTTP route needs a timeout`},
		{"a legacy label takes the object out of the rule's scope", vs, []analysis.Edit{
			{Resource: vs.Ref().String(), Path: "/spec/http/0/timeout", Delete: true},
			edit(vs, "/metadata/labels", map[string]any{"meshpilot.io/legacy": "true"})}, ""},
		{"appended route without timeout", vs, []analysis.Edit{edit(vs, "/spec/http/-", map[string]any{"route": []any{}})},
			`it would break guardrail rule "route-timeouts": every HTTP route needs a timeout`},
		{"plaintext in a prod namespace is not in scope", dr, []analysis.Edit{edit(dr, "/spec/trafficPolicy/tls/mode", "DISABLE")}, ""},
		{"replicas below the rule", dep, []analysis.Edit{edit(dep, "/spec/replicas", 1)},
			`it would break guardrail rule "prod-replicas": replicas 1 in a prod namespace`},
		{"replicas within the rule", dep, []analysis.Edit{edit(dep, "/spec/replicas", 2)}, ""},
		{"edits of other objects are ignored", dep, []analysis.Edit{edit(vs, "/spec/http/1/timeout", "60s")}, ""},
		{"bad pointer", vs, []analysis.Edit{edit(vs, "/spec/http/7/timeout", "1s")},
			`its edit of /spec/http/7/timeout cannot be applied: index "7" out of range or not a number (the list has 2 items)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := CheckFix(p, snap, tc.obj, analysis.Fix{Message: "fix", Edits: tc.edits})
			if ok != (tc.reason == "") || reason != tc.reason {
				t.Errorf("got %v %q, want reason %q", ok, reason, tc.reason)
			}
		})
	}
	// The object's own map is left as it was.
	if m, _ := toMap(vs, nil); len(list(obj(m["spec"])["http"])) != 2 {
		t.Error("CheckFix changed the object")
	}
}

func TestFilterFixes(t *testing.T) {
	p := mustLoad(t, "testdata/policy.yaml")
	snap := loadFixMesh(t)
	vs := snap.Get(mesh.VirtualService, "shop", "cart")
	f := analysis.NewFinding(&analysis.Code{ID: "MP1001", Level: analysis.Warning}, vs, "http[1] times out too soon")
	f.Fixes = []analysis.Fix{
		{Message: "set a 60s timeout", Edits: []analysis.Edit{{Resource: vs.Ref().String(), Path: "/spec/http/1/timeout", Value: "60s"}}},
		{Message: "set an 8s timeout", Edits: []analysis.Edit{{Resource: vs.Ref().String(), Path: "/spec/http/1/timeout", Value: "8s"}}},
	}
	findings := []analysis.Finding{f}
	withheld := FilterFixes(p, snap, findings)
	if len(withheld) != 1 || withheld[0].Fix != "set a 60s timeout" {
		t.Fatalf("withheld %+v", withheld)
	}
	if len(findings[0].Fixes) != 1 || findings[0].Fixes[0].Message != "set an 8s timeout" {
		t.Errorf("fixes left: %+v", findings[0].Fixes)
	}
	want := `http[1] times out too soon (fix "set a 60s timeout" withheld: it would break guardrail limit "budgets": http[1].timeout 60s is above maxRouteTimeout 10s)`
	if findings[0].Message != want {
		t.Errorf("message:\n%s\nwant:\n%s", findings[0].Message, want)
	}
	if FilterFixes(nil, snap, findings) != nil {
		t.Error("a nil policy withholds nothing")
	}
}

func TestApplyEdit(t *testing.T) {
	doc := map[string]any{"a": map[string]any{"b~c/d": []any{1, 2}}}
	got, err := applyEdit(doc, analysis.Edit{Path: "/a/b~0c~1d/0", Delete: true})
	if err != nil {
		t.Fatal(err)
	}
	if l := list(obj(obj(got)["a"])["b~c/d"]); len(l) != 1 || l[0] != 2 {
		t.Errorf("got %v", got)
	}
	if l := list(obj(doc["a"])["b~c/d"]); len(l) != 2 {
		t.Errorf("the original changed: %v", doc)
	}
	for _, bad := range []string{"a/b", "/a/b~0c~1d/x", "/a/b~0c~1d/01"} {
		if _, err := applyEdit(doc, analysis.Edit{Path: bad, Value: 1}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestToMap checks the protoreflect walk against protojson itself.
func TestToMap(t *testing.T) {
	snap := loadFixMesh(t)
	m, err := toMap(snap.Get(mesh.VirtualService, "shop", "cart"), nil)
	if err != nil {
		t.Fatal(err)
	}
	http := list(obj(m["spec"])["http"])
	if got := str(obj(http[0])["timeout"]); got != "30s" {
		t.Errorf("timeout %q", got)
	}
	if m["apiVersion"] != "networking.istio.io/v1" || obj(m["metadata"])["namespace"] != "shop" {
		t.Errorf("header %v %v", m["apiVersion"], m["metadata"])
	}
	for _, tc := range []struct {
		secs, nanos int64
		want        string
	}{{3, 0, "3s"}, {1, 500_000_000, "1.500s"}, {0, 1, "0.000000001s"}, {-2, -250_000, "-2.000250s"}} {
		if got := formatDuration(tc.secs, tc.nanos); got != tc.want {
			t.Errorf("formatDuration(%d, %d) = %q, want %q", tc.secs, tc.nanos, got, tc.want)
		}
	}
	dep, err := toMap(snap.Get(mesh.Deployment, "checkout", "pay"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := obj(dep["spec"])["replicas"].(int64); !ok || r != 3 {
		t.Errorf("replicas %#v", obj(dep["spec"])["replicas"])
	}
	if !strings.HasPrefix(dep["apiVersion"].(string), "apps/") {
		t.Errorf("apiVersion %v", dep["apiVersion"])
	}
}
