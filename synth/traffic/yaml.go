package traffic

import (
	"bytes"
	"fmt"
	"time"
)

// writeYAML renders the mesh's objects and counts them.
func writeYAML(t *topology) ([]byte, int) {
	y := &yamlWriter{}
	y.b.Grow(len(t.svcs) * 3000)
	y.doc(ingressTmpl)
	y.docs += 3 // the template holds four documents
	for _, ss := range t.byNs {
		ns := ss[0].nsName
		y.doc(fmt.Sprintf(namespaceTmpl, ns))
		y.doc(fmt.Sprintf(strictTmpl, ns))
		y.doc(fmt.Sprintf(gatewayTmpl, ns))
		for _, s := range ss {
			y.service(s)
		}
	}
	return y.b.Bytes(), y.docs
}

type yamlWriter struct {
	b    bytes.Buffer
	docs int
}

func (y *yamlWriter) doc(s string) {
	y.b.WriteString(s)
	y.b.WriteString("---\n")
	y.docs++
}

// ingressTmpl is the ingress gateway: the workload every entry's traffic
// comes through.
const ingressTmpl = `apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: istio-ingressgateway-service-account
  namespace: istio-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  replicas: 2
  selector:
    matchLabels:
      app: istio-ingressgateway
      istio: ingressgateway
  template:
    metadata:
      labels:
        app: istio-ingressgateway
        istio: ingressgateway
    spec:
      serviceAccountName: istio-ingressgateway-service-account
      containers:
      - name: istio-proxy
        image: docker.io/istio/proxyv2:1.27.1
        args: ["proxy", "router"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
spec:
  type: LoadBalancer
  selector:
    app: istio-ingressgateway
    istio: ingressgateway
  ports:
  - name: http2
    port: 80
    targetPort: 8080
`

const namespaceTmpl = `apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    istio-injection: enabled
`

const strictTmpl = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: %s
spec:
  mtls:
    mode: STRICT
`

const gatewayTmpl = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: %[1]s-gateway
  namespace: %[1]s
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - %[1]s.example.com
`

func (y *yamlWriter) service(s *service) {
	y.doc(fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: %s
  namespace: %s
`, s.name, s.nsName))
	port := "http"
	if s.tcp {
		port = "tcp"
	}
	y.doc(fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
    app: %[1]s
spec:
  selector:
    app: %[1]s
  ports:
  - name: %[3]s
    port: 8080
    targetPort: 8080
`, s.name, s.nsName, port))
	y.deployment(s, "v1")
	if s.v2 {
		y.deployment(s, "v2")
	}
	y.virtualService(s)
	y.destinationRule(s)
	if s.defect == DefectPlaintext {
		y.doc(fmt.Sprintf(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: %[1]s-permissive
  namespace: %[2]s
spec:
  selector:
    matchLabels:
      app: %[1]s
  mtls:
    mode: PERMISSIVE
`, s.name, s.nsName))
	}
}

func (y *yamlWriter) deployment(s *service, version string) {
	y.doc(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s-%[3]s
  namespace: %[2]s
  labels:
    app: %[1]s
    version: %[3]s
spec:
  replicas: 2
  selector:
    matchLabels:
      app: %[1]s
      version: %[3]s
  template:
    metadata:
      labels:
        app: %[1]s
        version: %[3]s
    spec:
      serviceAccountName: %[1]s
      containers:
      - name: app
        image: example/%[1]s:1.0.0
        ports:
        - containerPort: 8080
`, s.name, s.nsName, version))
}

func (y *yamlWriter) virtualService(s *service) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: %s
  namespace: %s
spec:
  hosts:
  - %s
`, s.name, s.nsName, s.fqdn())
	if s.role == RoleEntry {
		fmt.Fprintf(&b, "  - %[1]s.example.com\n  gateways:\n  - mesh\n  - %[1]s-gateway\n", s.nsName)
	}
	dest := func(subset string) string {
		out := fmt.Sprintf("    - destination:\n        host: %s\n        port:\n          number: 8080\n", s.fqdn())
		if subset != "" {
			out += "        subset: " + subset + "\n"
		}
		return out
	}
	if s.tcp {
		b.WriteString("  tcp:\n  - route:\n" + dest(""))
		y.doc(b.String())
		return
	}
	b.WriteString("  http:\n  - route:\n")
	switch {
	case s.v2Ratio > 0:
		w2 := int(s.v2Ratio*100 + 0.5)
		fmt.Fprintf(&b, "%s      weight: %d\n%s      weight: %d\n", dest("v1"), 100-w2, dest("v2"), w2)
	case s.v2:
		b.WriteString(dest("v1")) // v2 is defined, never routed to
	default:
		b.WriteString(dest(""))
	}
	fmt.Fprintf(&b, "    timeout: %s\n    retries:\n      attempts: %d\n", ms(s.timeout), s.attempts)
	if s.perTry > 0 {
		fmt.Fprintf(&b, "      perTryTimeout: %s\n", ms(s.perTry))
	}
	fmt.Fprintf(&b, "      retryOn: %s\n", s.retryOn)
	y.doc(b.String())
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

func (y *yamlWriter) destinationRule(s *service) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: %s
  namespace: %s
spec:
  host: %s
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1024
        connectTimeout: 2s
`, s.name, s.nsName, s.fqdn())
	switch {
	case s.tcp:
	case s.defect == DefectOverflow:
		b.WriteString("      http:\n        http1MaxPendingRequests: 1\n        http2MaxRequests: 1024\n        maxRequestsPerConnection: 1\n")
	default:
		b.WriteString("      http:\n        http1MaxPendingRequests: 1024\n        http2MaxRequests: 1024\n")
	}
	if s.defect != DefectSpikes {
		b.WriteString("    outlierDetection:\n      consecutive5xxErrors: 5\n      interval: 10s\n      baseEjectionTime: 30s\n      maxEjectionPercent: 50\n")
	}
	if s.v2 {
		b.WriteString("  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n")
	}
	y.doc(b.String())
}
