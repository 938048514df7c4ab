// Package service checks Kubernetes Services as the mesh sees them: port
// names from which Istio must derive each port's protocol.
package service

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{PortName}

// PortName reports Service ports whose protocol Istio cannot tell.
var PortName = &analysis.Analyzer{
	Name: "service.PortName",
	Doc: "check that service ports declare their protocol\n\n" +
		"Istio reads a port's protocol from appProtocol, else from a name of the form <protocol>[-<suffix>] " +
		"(http, http2, https, grpc, grpc-web, tcp, tls, mongo, mysql, redis, udp). Other ports fall back to " +
		"protocol sniffing (IST0118). On an ExternalName Service the proxy cannot sniff, so such a port, or one " +
		"named plain \"tcp\", keeps traffic from being forwarded correctly (IST0150). Services of system " +
		"namespaces, of the control plane and of Istio-managed gateways are skipped.",
	Codes: []*analysis.Code{codes.PortNameIsNotUnderNamingConvention, codes.ExternalNameServiceTypeInvalidPortName},
	Run:   runPortName,
}

// systemNamespaces hold no user services.
var systemNamespaces = map[string]bool{
	"kube-system": true, "kube-public": true, "kube-node-lease": true, "local-path-storage": true,
}

// managedGateways are the controllers whose generated Services are skipped.
var managedGateways = map[string]bool{
	"istio.io-gateway-controller": true, "istio.io-mesh-controller": true, "istio.io-eastwest-controller": true,
}

func runPortName(p *analysis.Pass) (any, error) {
	for _, o := range p.Snapshot.List(mesh.Service) {
		svc, ok := o.Obj.(*corev1.Service)
		if !ok || svc == nil || skipped(o) {
			continue
		}
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			checkExternalName(p, o, svc)
			continue
		}
		for i, port := range svc.Spec.Ports {
			if portProtocol(port) != "" {
				continue
			}
			finding := analysis.NewFinding(codes.PortNameIsNotUnderNamingConvention, o, fmt.Sprintf("%s of service %s/%s does not declare its protocol, so Istio sniffs it; name it "+
				"<protocol>[-<suffix>] (for example http-%s or tcp-%s) or set appProtocol",
				describePort(port), o.Namespace(), o.Name(), suffix(port), suffix(port)))
			finding.Equivalents = []string{kialiPortCode(port)}
			if fx, ok := renameFix(o, i, port); ok {
				finding.Fixes = append(finding.Fixes, fx)
			}
			p.Report(finding)
		}
	}
	return nil, nil
}

// checkExternalName reports once per Service, naming every bad port.
func checkExternalName(p *analysis.Pass, o *mesh.Object, svc *corev1.Service) {
	var bad []string
	for _, port := range svc.Spec.Ports {
		if portProtocol(port) == "" || port.Name == "tcp" {
			bad = append(bad, describePort(port))
		}
	}
	if len(bad) == 0 {
		return
	}
	p.Reportf(codes.ExternalNameServiceTypeInvalidPortName, o,
		"ExternalName service %s/%s (to %s) has %s named without a protocol or named plain \"tcp\": "+
			"the proxy cannot sniff traffic for an ExternalName service and may not forward it; name them "+
			"after the real protocol (https, tls-<suffix>, http-<suffix>, tcp-<suffix>)",
		o.Namespace(), o.Name(), svc.Spec.ExternalName, strings.Join(bad, ", "))
}

// skipped says whether a Service is exempt: in a system namespace, part of
// the control plane, or generated for a managed gateway.
func skipped(o *mesh.Object) bool {
	if systemNamespaces[o.Namespace()] {
		return true
	}
	labels := o.Labels()
	if _, ok := labels["istio"]; ok || labels["release"] == "istio" {
		return true
	}
	return managedGateways[labels["gateway.istio.io/managed"]]
}

// wellKnownTCP are ports Istio treats as TCP whatever their name.
var wellKnownTCP = map[int32]bool{25: true, 53: true, 3306: true, 27017: true}

// protocols Istio recognises, lower-case.
var protocols = map[string]string{
	"tcp": "TCP", "udp": "UDP", "grpc": "GRPC", "grpc-web": "GRPC-Web", "http": "HTTP", "http_proxy": "HTTP_PROXY",
	"http2": "HTTP2", "https": "HTTPS", "tls": "TLS", "mongo": "Mongo", "redis": "Redis", "mysql": "MySQL",
}

// portProtocol derives the protocol Istio uses for a Service port, or ""
// when it has to sniff. appProtocol, when set, replaces the name entirely.
func portProtocol(port corev1.ServicePort) string {
	if port.Protocol == corev1.ProtocolUDP {
		return "UDP"
	}
	name := port.Name
	if port.AppProtocol != nil {
		name = *port.AppProtocol
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "grpc-web") {
		return "GRPC-Web"
	}
	if i := strings.IndexByte(lower, '-'); i >= 0 {
		lower = lower[:i]
	}
	if proto, ok := protocols[lower]; ok {
		return proto
	}
	if wellKnownTCP[port.Port] {
		return "TCP"
	}
	return ""
}

func describePort(port corev1.ServicePort) string {
	if port.Name == "" {
		return "unnamed port " + itoa(port.Port)
	}
	return "port \"" + port.Name + "\" (" + itoa(port.Port) + ")"
}

// suffix proposes the part after the protocol in a suggested name.
func suffix(port corev1.ServicePort) string {
	if port.Name != "" {
		return port.Name
	}
	return itoa(port.Port)
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// kialiPortCode is Kiali's code for a port without a protocol: a bad
// appProtocol (KIA0602) or, without one, a bad name (KIA0601).
func kialiPortCode(port corev1.ServicePort) string {
	if port.AppProtocol != nil {
		return "KIA0602"
	}
	return "KIA0601"
}

// wellKnownHTTP are the only ports whose protocol a fix dares to name: the
// IANA ports of HTTP and HTTPS, as the Service port or a numeric
// targetPort. Others (8080 included: proxies, admin consoles and gRPC live
// there too) get no fix, since a wrong protocol breaks traffic that sniffing
// handles today.
var wellKnownHTTP = map[int32]string{80: "http", 443: "https"}

// ianaSvcName is Kubernetes' rule for a port name (with the length checked
// apart): lower-case letters, digits and single inner hyphens.
var ianaSvcName = regexp.MustCompile(`^[a-z0-9]([a-z0-9]|-[a-z0-9])*$`)

// renameFix proposes "<protocol>-<name>" for port i when its protocol is
// certain enough: no appProtocol (which overrides the name anyway), a
// well-known HTTP(S) port, and a new name Kubernetes accepts (at most 15
// characters).
func renameFix(o *mesh.Object, i int, port corev1.ServicePort) (analysis.Fix, bool) {
	if port.AppProtocol != nil || port.Protocol == corev1.ProtocolSCTP {
		return analysis.Fix{}, false
	}
	number := port.Port
	proto, ok := wellKnownHTTP[number]
	if !ok && port.TargetPort.IntVal != 0 {
		number = port.TargetPort.IntVal
		proto, ok = wellKnownHTTP[number]
	}
	if !ok {
		return analysis.Fix{}, false
	}
	name := proto
	if port.Name != "" {
		name = proto + "-" + strings.ToLower(port.Name)
	}
	if len(name) > 15 || !ianaSvcName.MatchString(name) {
		return analysis.Fix{}, false
	}
	upper := strings.ToUpper(proto)
	verb, to, refs := "Names", "", "" // an unnamed port: nothing refers to it by name
	if port.Name != "" {
		verb, to, refs = "Renames", " to", " Anything that refers to the port by its old name (an Ingress backend, a "+
			"Prometheus ServiceMonitor) must be renamed with it."
	}
	return analysis.Fix{
		Message: fmt.Sprintf("name port %d %q", port.Port, name),
		Explanation: fmt.Sprintf("%s %s of Service %s/%s%s %q: Istio then handles its traffic as %s without "+
			"sniffing it (%d is %s's well-known port).%s",
			verb, describePort(port), o.Namespace(), o.Name(), to, name, upper, number, upper, refs),
		Edits: []analysis.Edit{{Resource: o.Ref().String(), Path: "/spec/ports/" + strconv.Itoa(i) + "/name", Value: name}},
	}, true
}
