package virtualservice

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	networking "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/mesh"
)

func TestAnalyzers(t *testing.T) {
	for _, tc := range []struct {
		dir string
		a   *analysis.Analyzer
	}{
		{"conflictingmeshgatewayhosts", ConflictingMeshGatewayHosts},
		{"destinationhost", DestinationHost},
		{"destinationrule", DestinationRule},
		{"gateway", Gateway},
		{"jwtclaimroute", JWTClaimRoute},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			analysistest.Run(t, filepath.Join("testdata", tc.dir), tc.a)
		})
	}
}

func TestValidate(t *testing.T) {
	if err := analysis.Validate(Analyzers); err != nil {
		t.Fatal(err)
	}
}

// TestMessages checks that findings name what is missing.
func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		file string
		a    *analysis.Analyzer
		want []string // each must appear in some message
	}{
		{"destinationhost/hosts.yaml", DestinationHost, []string{
			`destination host "catalgo"`, `mirror host "catalog-shadow"`, "catalog:80", "ports 8080, 9090",
			`"partner.example.org"`}},
		{"destinationhost/ingress_subsets.yaml", DestinationHost, []string{"shop/reviews", `subset "canary"`}},
		{"destinationrule/subsets.yaml", DestinationRule, []string{`subset "v3"`, `subset "shadow"`, "shop/tax"}},
		{"gateway/istio_gateways.yaml", Gateway, []string{`"edge/public-old"`, "Gateway edge/public",
			"Kubernetes Gateway edge/web"}},
		{"conflictingmeshgatewayhosts/exact.yaml", ConflictingMeshGatewayHosts, []string{
			`"cart.shop.svc.cluster.local"`, "VirtualService shop/cart-canary"}},
		{"jwtclaimroute/claims.yaml", JWTClaimRoute, []string{`"@request.auth.claims.groups"`, "edge/edge-gateway"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var all strings.Builder
			for _, f := range analysistest.Findings(t, filepath.Join("testdata", tc.file), tc.a) {
				all.WriteString(f.Message + "\n")
			}
			for _, w := range tc.want {
				if !strings.Contains(all.String(), w) {
					t.Errorf("no message mentions %s; got:\n%s", w, all.String())
				}
			}
		})
	}
}

func TestHostMatches(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.example.com", "a.example.com", true},
		{"a.example.com", "b.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"a.example.com", "*.example.com", true},
		{"*.example.com", "example.com", false},
		{"*", "anything", true},
		{"*.a.example.com", "*.example.com", true},
		{"*.example.com", "*.example.org", false},
	} {
		if got := hostMatches(tc.a, tc.b); got != tc.want {
			t.Errorf("hostMatches(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestIsClaimHeader(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want bool
	}{
		{"@request.auth.claims.sub", true},
		{"@Request.Auth.Claims.groups", true},
		{"@request.auth.claims[nested][key]", true},
		{"@request.auth.claims", false},
		{"@request.auth.claims.", false},
		{"@request.auth.claims[]", false},
		{"x-user", false},
	} {
		if got := isClaimHeader(tc.h); got != tc.want {
			t.Errorf("isClaimHeader(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

// TestScale runs every analyzer over 10,000 VirtualServices; indexing keeps
// it well under the bound even on a slow machine.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	var objs []*mesh.Object
	for i := 0; i < 10000; i++ {
		ns := fmt.Sprintf("ns%d", i%50)
		host := fmt.Sprintf("svc%d", i/2) // pairs collide
		vs := &networking.VirtualService{
			Hosts:    []string{host, "*.wild.example.com"},
			Gateways: []string{"mesh", "edge/public"},
			ExportTo: []string{"."},
			Http: []*networking.HTTPRoute{{Route: []*networking.HTTPRouteDestination{
				{Destination: &networking.Destination{Host: host}},
				{Destination: &networking.Destination{Host: host, Subset: "v1"}},
			}}},
		}
		objs = append(objs, &mesh.Object{GroupKind: mesh.VirtualService, Version: "v1",
			Meta: &metav1.ObjectMeta{Name: fmt.Sprintf("vs%d", i), Namespace: ns}, Obj: vs})
	}
	snap := mesh.New(objs, mesh.Options{})
	sel, err := analysis.Select(Analyzers, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	fs, err := analysis.Run(context.Background(), snap, sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v over 10,000 VirtualServices", d)
	}
	for _, f := range fs {
		if f.Code == analysis.InternalError.ID {
			t.Fatalf("analyzer broke: %s", f.Message)
		}
	}
}
