package mesh

import "testing"

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
