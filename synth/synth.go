// Package synth generates deterministic synthetic meshes for benchmarks:
// per service a Service, a Deployment, a VirtualService and a
// DestinationRule, spread over namespaces, with planted defects whose
// expected findings are returned as ground truth.
package synth

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
)

// Options shape a mesh.
type Options struct {
	Services int
	// PerNamespace services per namespace (default 50).
	PerNamespace int
	// DefectEvery plants a defect on every n-th service (default 25).
	DefectEvery int
	Seed        uint64
}

// Mesh is a generated mesh.
type Mesh struct {
	YAML []byte
	// Truth lists the findings the planted defects must produce, as
	// "CODE Kind namespace/name", sorted.
	Truth []string
	Docs  int
}

// defect kinds, planted round-robin.
const (
	defMissingHost     = iota // VirtualService routes to a host that does not exist: IST0101
	defMissingSubset          // VirtualService routes to a subset no DestinationRule defines: IST0101
	defSubsetNoPods           // DestinationRule subset selects no workload: IST0173
	defBadPortName            // Service port name follows no protocol convention: IST0118
	defUnknownDRHost          // DestinationRule host matches no service: IST0174
	defMultiPortNoPort        // VirtualService to a two-port service without a port: IST0112
	defUID1337                // Deployment runs as UID 1337: IST0144
	defRetryBudget            // retries whose tries overrun the route timeout: MP1003 (with fixes)
	numDefects
)

// Generate builds a mesh.
func Generate(o Options) *Mesh {
	if o.PerNamespace <= 0 {
		o.PerNamespace = 50
	}
	if o.DefectEvery <= 0 {
		o.DefectEvery = 25
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	m := &Mesh{}
	var b bytes.Buffer
	b.Grow(o.Services * 1400)
	nsCount := (o.Services + o.PerNamespace - 1) / o.PerNamespace
	b.WriteString(meshTmpl)
	m.Docs += 2
	for n := 0; n < nsCount; n++ {
		fmt.Fprintf(&b, nsTmpl, nsName(n))
		m.Docs += 2
	}
	planted := 0
	for i := 0; i < o.Services; i++ {
		ns := nsName(i / o.PerNamespace)
		name := fmt.Sprintf("svc-%05d", i)
		defect := -1
		if i%o.DefectEvery == o.DefectEvery-1 {
			defect = planted % numDefects
			planted++
		}
		s := service{ns: ns, name: name, port: 8000 + rng.IntN(1000), replicas: 1 + rng.IntN(5),
			timeout: 1 + rng.IntN(9), attempts: 1 + rng.IntN(3), weight: 50 + 10*rng.IntN(5), defect: defect}
		s.write(&b)
		m.Docs += 4
		m.Truth = append(m.Truth, s.truth()...)
	}
	sort.Strings(m.Truth)
	m.YAML = b.Bytes()
	return m
}

func nsName(n int) string { return fmt.Sprintf("team-%03d", n) }

// meshTmpl is the control plane's namespace and a mesh-wide STRICT mTLS
// policy: the generated mesh is a well-run one, except for its planted
// defects.
const meshTmpl = `apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
`

// nsTmpl is a namespace labelled for injection, with a policy that allows
// calls from its own workloads and the ingress gateway.
const nsTmpl = `apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
  labels:
    istio-injection: enabled
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-team
  namespace: %[1]s
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["%[1]s", "istio-system"]
    to:
    - operation:
        methods: ["GET", "POST"]
---
`

type service struct {
	ns, name                                  string
	port, replicas, timeout, attempts, weight int
	defect                                    int
}

// truth is what the service's defect must be reported as. A VirtualService
// whose two subsets are both unresolvable is reported once per route
// destination, as istioctl does.
func (s service) truth() []string {
	vs := "VirtualService " + s.ns + "/" + s.name
	dr := "DestinationRule " + s.ns + "/" + s.name
	switch s.defect {
	case defMissingHost:
		// Both destinations name the missing host, and so their subsets
		// are defined by no DestinationRule either.
		return []string{"IST0101 " + vs, "IST0101 " + vs, "IST0101 " + vs, "IST0101 " + vs}
	case defMissingSubset:
		return []string{"IST0101 " + vs}
	case defMultiPortNoPort:
		return []string{"IST0112 " + vs, "IST0112 " + vs}
	case defSubsetNoPods:
		return []string{"IST0173 " + dr}
	case defUnknownDRHost:
		// The DestinationRule names another host, so the VirtualService's
		// subsets are defined nowhere either.
		return []string{"IST0174 " + dr, "IST0101 " + vs, "IST0101 " + vs}
	case defBadPortName:
		return []string{"IST0118 Service " + s.ns + "/" + s.name}
	case defRetryBudget:
		return []string{"MP1003 " + vs}
	case defUID1337:
		return []string{"IST0144 Deployment " + s.ns + "/" + s.name}
	}
	return nil
}

func (s service) write(b *bytes.Buffer) {
	portName := "http-web"
	if s.defect == defBadPortName {
		portName = "web"
	}
	extraPort := ""
	if s.defect == defMultiPortNoPort {
		extraPort = fmt.Sprintf("\n  - name: grpc-admin\n    port: %d", s.port+1000)
	}
	fmt.Fprintf(b, `apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
  - name: %[3]s
    port: %[4]d%[5]s
---
`, s.name, s.ns, portName, s.port, extraPort)

	// containerExtra: the second port's container port, or the planted
	// UID 1337.
	containerExtra := ""
	if s.defect == defMultiPortNoPort {
		containerExtra = fmt.Sprintf("\n        - containerPort: %d", s.port+1000)
	}
	if s.defect == defUID1337 {
		containerExtra = "\n        securityContext:\n          runAsUser: 1337"
	}
	fmt.Fprintf(b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
        version: v1
    spec:
      containers:
      - name: app
        image: example/%[1]s:1.4.2
        ports:
        - containerPort: %[4]d%[5]s
---
`, s.name, s.ns, s.replicas, s.port, containerExtra)

	host, subset2 := s.name, "v2"
	switch s.defect {
	case defMissingHost:
		host = s.name + "-gone"
	case defMissingSubset:
		subset2 = "v3"
	}
	port := fmt.Sprintf("\n        port:\n          number: %d", s.port)
	perTry := ""
	if s.defect == defRetryBudget {
		// Each try gets 80% of the route timeout, so the first try and
		// its retries cannot all fit.
		perTry = fmt.Sprintf("\n      perTryTimeout: %dms", s.timeout*800)
	}
	if s.defect == defMultiPortNoPort {
		port = ""
	}
	fmt.Fprintf(b, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  hosts:
  - %[1]s
  http:
  - route:
    - destination:
        host: %[3]s
        subset: v1%[7]s
      weight: %[4]d
    - destination:
        host: %[3]s
        subset: %[5]s%[7]s
      weight: %[8]d
    timeout: %[6]ds
    retries:
      attempts: %[9]d%[10]s
---
`, s.name, s.ns, host, s.weight, subset2, s.timeout, port, 100-s.weight, s.attempts, perTry)

	drHost, v2Label := s.name, "v1"
	switch s.defect {
	case defUnknownDRHost:
		drHost = s.name + "-old"
	case defSubsetNoPods:
		v2Label = "v9"
	}
	fmt.Fprintf(b, `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  host: %[3]s
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: %[4]s
---
`, s.name, s.ns, drHost, v2Label)
}
