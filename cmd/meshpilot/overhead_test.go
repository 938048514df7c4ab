package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/overhead"
)

func TestOverheadDemoText(t *testing.T) {
	code, out, errOut := runCLI(t, "", "overhead", "--demo")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, errOut)
	}
	want := `NAMESPACE     WORKLOADS  PODS  WITH PROXY  WITHOUT  AMBIENT  PROXY CPU        PROXY MEMORY      AMBIENT CANDIDATE
identity      2          4     0           4        0        0                0                 yes
istio-system  2          4     2           2        0        200m [default]   256Mi [default]   n/a (control plane or system namespace)
payments      3          6     6           0        0        600m [default]   768Mi [default]   no
shop          9          18    18          0        0        1800m [default]  2304Mi [default]  no
TOTAL         16         32    26          6        0        2600m [default]  3328Mi [default]  identity

Pods count replicas; proxy CPU and memory are requests summed over pods, from:
  default:    Istio's defaults (100m CPU, 128Mi memory per proxy)

Not ambient candidates (these need an L7 proxy, a waypoint in ambient mode):
  payments:
    - AuthorizationPolicy payments/ledger-writers uses L7 attributes (methods)
    - VirtualService payments/payments: HTTP routes for host payments
  shop:
    - VirtualService shop/checkout: HTTP routes with retries for host checkout
    - VirtualService shop/reviews: HTTP routes for host reviews
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestOverheadDemoJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "overhead", "-o", "json", "--demo")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, errOut)
	}
	var rep overhead.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tot := rep.Total
	if tot.Workloads != 16 || tot.Pods != 32 || tot.WithProxy != 26 || tot.WithoutProxy != 6 || tot.Ambient != 0 {
		t.Errorf("total counts %+v", tot)
	}
	if tot.ProxyCPU.Quantity != "2600m" || tot.ProxyCPU.Value != 2600 ||
		!reflect.DeepEqual(tot.ProxyCPU.Sources, map[overhead.Source]int{overhead.SourceDefault: 26}) {
		t.Errorf("total CPU %+v", tot.ProxyCPU)
	}
	if tot.ProxyMemory.Quantity != "3328Mi" || tot.ProxyMemory.Value != 3328<<20 {
		t.Errorf("total memory %+v", tot.ProxyMemory)
	}
	if !reflect.DeepEqual(tot.AmbientCandidates, []string{"identity"}) {
		t.Errorf("candidates %v", tot.AmbientCandidates)
	}
	var shop *overhead.Namespace
	for i := range rep.Namespaces {
		if rep.Namespaces[i].Name == "shop" {
			shop = &rep.Namespaces[i]
		}
	}
	if shop == nil || shop.InjectionLabel != "istio-injection=enabled" || shop.ProxyCPU.Quantity != "1800m" ||
		len(shop.Entries) != 9 || shop.Entries[0].CPUSource != overhead.SourceDefault || shop.Entries[0].ProxyMemory != "128Mi" {
		t.Errorf("shop = %+v", shop)
	}
}

func TestOverheadErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"overhead"}, "no PATH given"},
		{[]string{"overhead", "-o", "xml", "--demo"}, "unknown output format"},
		{[]string{"overhead", "--demo", "x.yaml"}, "--demo takes no PATH"},
	} {
		code, _, errOut := runCLI(t, "", tt.args...)
		if code != exitInput || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, errOut)
		}
	}
	code, out, _ := runCLI(t, "", "overhead", "testdata/mesh.yaml", "testdata/broken.yaml")
	if code != exitInput || !strings.Contains(out, "TOTAL") {
		t.Errorf("bad input: exit %d, stdout %q", code, out)
	}
}
