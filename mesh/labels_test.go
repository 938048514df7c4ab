package mesh

import (
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFormatLabels(t *testing.T) {
	for _, tc := range []struct {
		sel  map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"istio": "ingressgateway"}, "istio=ingressgateway"},
		{map[string]string{"istio": "ingressgateway", "app": "gw", "cusKey": "x"}, "app=gw,cusKey=x,istio=ingressgateway"},
		{map[string]string{"k": ""}, "k="},
	} {
		if got := FormatLabels(tc.sel); got != tc.want {
			t.Errorf("FormatLabels(%v) = %q, want %q", tc.sel, got, tc.want)
		}
	}
}

func TestFQDN(t *testing.T) {
	s := New(nil, Options{})
	for _, tc := range []struct{ host, ns, want string }{
		{"reviews", "default", "reviews.default.svc.cluster.local"},
		{"reviews.default", "shop", "reviews.default"},
		{"*.example.com", "shop", "*.example.com"},
		{"*", "shop", "*"},
	} {
		if got := s.FQDN(tc.host, tc.ns); got != tc.want {
			t.Errorf("FQDN(%q, %q) = %q, want %q", tc.host, tc.ns, got, tc.want)
		}
	}
}

func TestHostMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "example.com", false},
		{"*", "anything", true},
		{"a.example.com", "a.example.com", true},
		{"*.com", "*.example.com", true},
		{"*.example.com", "*.com", false},
	} {
		if got := HostMatches(tc.pattern, tc.host); got != tc.want {
			t.Errorf("HostMatches(%q, %q) = %v", tc.pattern, tc.host, got)
		}
	}
}

func TestListOf(t *testing.T) {
	vs := &networking.VirtualService{Hosts: []string{"a"}}
	s := New([]*Object{
		{GroupKind: VirtualService, Meta: &metav1.ObjectMeta{Name: "ok"}, Obj: vs},
		{GroupKind: VirtualService, Meta: &metav1.ObjectMeta{Name: "nil"}, Obj: (*networking.VirtualService)(nil)},
		{GroupKind: VirtualService, Meta: &metav1.ObjectMeta{Name: "other"}, Obj: &networking.Gateway{}},
	}, Options{})
	got := ListOf[*networking.VirtualService](s, VirtualService)
	if len(got) != 1 || got[0].Obj.Name() != "ok" || got[0].Spec != vs {
		t.Errorf("ListOf = %+v, want only the typed, non-nil VirtualService", got)
	}
}
