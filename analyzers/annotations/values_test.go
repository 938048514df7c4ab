package annotations

import "testing"

func TestValueCheckers(t *testing.T) {
	tests := []struct {
		key, value string
		valid      bool
	}{
		{"sidecar.istio.io/interceptionMode", "TPROXY", true},
		{"sidecar.istio.io/interceptionMode", "redirect", false},
		{"readiness.status.sidecar.istio.io/periodSeconds", "10", true},
		{"readiness.status.sidecar.istio.io/periodSeconds", "-1", false},
		{"status.sidecar.istio.io/port", "15020", true},
		{"status.sidecar.istio.io/port", "70000", false},
		{"traffic.sidecar.istio.io/includeInboundPorts", "*", true},
		{"traffic.sidecar.istio.io/includeInboundPorts", "80, 443", true},
		{"traffic.sidecar.istio.io/excludeInboundPorts", "", true},
		{"traffic.sidecar.istio.io/excludeOutboundPorts", "80,http", false},
		{"traffic.sidecar.istio.io/includeOutboundIPRanges", "*", true},
		{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8,fd00::/8", true},
		{"traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.1", false},
		{"prometheus.istio.io/merge-metrics", "false", true},
		{"prometheus.istio.io/merge-metrics", "no", false},
		{"proxy.istio.io/config", "concurrency: 2\nholdApplicationUntilProxyStarts: true", true},
		{"proxy.istio.io/config", "concurrency: two", false},
		{"proxy.istio.io/config", "noSuchField: 1", false},
		{"proxy.istio.io/config", "[unclosed", false},
	}
	for _, tt := range tests {
		check := valueCheckers[tt.key]
		if check == nil {
			t.Fatalf("no checker for %s", tt.key)
		}
		if err := check(tt.value); (err == nil) != tt.valid {
			t.Errorf("%s=%q: error %v, want valid %v", tt.key, tt.value, err, tt.valid)
		}
	}
}
