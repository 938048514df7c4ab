package crd

import (
	"context"
	"testing"
)

const benchVirtualService = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc-1, namespace: team-0}
spec:
  hosts: [svc-1]
  http:
  - route:
    - destination: {host: svc-1, subset: v1, port: {number: 8080}}
      weight: 90
    - destination: {host: svc-1, subset: v2, port: {number: 8080}}
      weight: 10
    timeout: 7s
    retries: {attempts: 2}
`

const benchDestinationRule = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc-1, namespace: team-0}
spec:
  host: svc-1
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
      maxEjectionPercent: 50
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
`

const benchHTTPRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: svc-1, namespace: team-0}
spec:
  parentRefs: [{name: gw}]
  hostnames: [svc-1.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    backendRefs:
    - {name: svc-1, port: 8080}
`

func benchValidate(b *testing.B, group, version, kind, src string) {
	s := set(b)
	obj := decode(b, []byte(src))
	ctx := context.Background()
	if errs, ok := s.Validate(ctx, group, version, kind, obj); !ok || len(errs) != 0 {
		b.Fatalf("%v %v", errs, ok)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Validate(ctx, group, version, kind, obj)
	}
}

func BenchmarkValidateVirtualService(b *testing.B) {
	benchValidate(b, "networking.istio.io", "v1", "VirtualService", benchVirtualService)
}

func BenchmarkValidateDestinationRule(b *testing.B) {
	benchValidate(b, "networking.istio.io", "v1", "DestinationRule", benchDestinationRule)
}

func BenchmarkValidateHTTPRoute(b *testing.B) {
	benchValidate(b, "gateway.networking.k8s.io", "v1", "HTTPRoute", benchHTTPRoute)
}

// BenchmarkLoad is the up-front cost: indexing the embedded CRDs.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstUse is the cost of building one kind's validators on its
// first Validate: decoding its CRD and compiling its CEL rules.
func BenchmarkFirstUse(b *testing.B) {
	for _, k := range [][3]string{
		{"networking.istio.io", "v1", "VirtualService"},
		{"networking.istio.io", "v1", "DestinationRule"},
		{"gateway.networking.k8s.io", "v1", "HTTPRoute"},
	} {
		b.Run(k[2], func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s, err := Load()
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Prepare(k[0], k[1], k[2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
