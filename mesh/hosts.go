package mesh

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
)

// ServiceHost is one host of the mesh's service registry: a Kubernetes
// Service (name.namespace.svc.cluster.local) or a host of a ServiceEntry.
type ServiceHost struct {
	Host      string // fully qualified, or a wildcard ("*.example.com")
	Namespace string
	Object    *Object // the Service or ServiceEntry
	Ports     []ServicePort
	// ExportTo as written (Service annotation or ServiceEntry field); empty
	// means the mesh default.
	ExportTo []string
}

// ServicePort is a port of a registry host.
type ServicePort struct {
	Number   uint32
	Name     string
	Protocol string // Istio protocol as written or derived from the name
}

// ServiceHosts returns every registry entry whose host is exactly host.
func (s *Snapshot) ServiceHosts(host string) []*ServiceHost {
	s.indexedHosts()
	return s.hosts[host]
}

// AllServiceHosts returns every registry entry, exact and wildcard.
func (s *Snapshot) AllServiceHosts() []*ServiceHost {
	s.indexedHosts()
	var out []*ServiceHost
	for _, l := range s.hosts {
		out = append(out, l...)
	}
	return append(out, s.wildcards...)
}

// LookupHost returns the registry entries that serve host and are visible
// from namespace: exact matches, and entries whose wildcard covers host; a
// wildcard host matches the entries it covers. An empty namespace ignores
// visibility.
func (s *Snapshot) LookupHost(host, namespace string) []*ServiceHost {
	s.indexedHosts()
	var out []*ServiceHost
	if strings.HasPrefix(host, "*") {
		for h, l := range s.hosts {
			if HostMatches(host, h) {
				out = appendVisible(s, out, l, namespace)
			}
		}
	} else {
		out = appendVisible(s, out, s.hosts[host], namespace)
	}
	for _, w := range s.wildcards {
		if HostMatches(w.Host, host) || HostMatches(host, w.Host) {
			out = appendVisible(s, out, []*ServiceHost{w}, namespace)
		}
	}
	return out
}

func appendVisible(s *Snapshot, out, l []*ServiceHost, namespace string) []*ServiceHost {
	for _, h := range l {
		if namespace == "" || s.Visible(h.ExportTo, h.Namespace, namespace) {
			out = append(out, h)
		}
	}
	return out
}

// Visible reports whether a resource of namespace owner with exportTo is
// visible from namespace from. Empty exportTo means the mesh default
// (defaultServiceExportTo, "*" when unset).
func (s *Snapshot) Visible(exportTo []string, owner, from string) bool {
	if len(exportTo) == 0 {
		exportTo = s.MeshConfig.GetDefaultServiceExportTo()
		if len(exportTo) == 0 {
			return true
		}
	}
	for _, e := range exportTo {
		switch e {
		case "*":
			return true
		case ".":
			if owner == from {
				return true
			}
		case "~":
		default:
			if e == from {
				return true
			}
		}
	}
	return false
}

// HostMatches reports whether pattern (which may be a "*." wildcard or
// "*") covers host.
func HostMatches(pattern, host string) bool {
	if pattern == host || pattern == "*" {
		return true
	}
	if strings.HasPrefix(pattern, "*") {
		suffix := pattern[1:]
		if strings.HasPrefix(host, "*") {
			return strings.HasSuffix(host[1:], suffix)
		}
		return strings.HasSuffix(host, suffix)
	}
	return false
}

func (s *Snapshot) indexedHosts() {
	s.read(Service, ServiceEntry)
	s.hostsOnce.Do(s.indexHosts)
}

func (s *Snapshot) indexHosts() {
	s.hosts = map[string][]*ServiceHost{}
	add := func(h *ServiceHost) {
		if strings.HasPrefix(h.Host, "*") {
			s.wildcards = append(s.wildcards, h)
			return
		}
		s.hosts[h.Host] = append(s.hosts[h.Host], h)
	}
	for _, o := range s.byKind[Service] {
		svc := o.Obj.(*corev1.Service)
		h := &ServiceHost{Host: s.FQDN(o.Name(), o.Namespace()), Namespace: o.Namespace(), Object: o}
		for _, p := range svc.Spec.Ports {
			h.Ports = append(h.Ports, ServicePort{Number: uint32(p.Port), Name: p.Name, Protocol: ServicePortProtocol(p)})
		}
		if v := svc.Annotations["networking.istio.io/exportTo"]; v != "" {
			for _, e := range strings.Split(v, ",") {
				h.ExportTo = append(h.ExportTo, strings.TrimSpace(e))
			}
		}
		add(h)
	}
	for _, o := range s.byKind[ServiceEntry] {
		se := o.Obj.(*networking.ServiceEntry)
		for _, host := range se.GetHosts() {
			h := &ServiceHost{Host: s.FQDN(host, o.Namespace()), Namespace: o.Namespace(), Object: o, ExportTo: se.GetExportTo()}
			for _, p := range se.GetPorts() {
				h.Ports = append(h.Ports, ServicePort{Number: p.GetNumber(), Name: p.GetName(), Protocol: strings.ToUpper(p.GetProtocol())})
			}
			add(h)
		}
	}
}

// ServicePortProtocol derives Istio's protocol for a Kubernetes Service
// port: appProtocol first, then the name's prefix ("http-web" → HTTP),
// then TCP/UDP/SCTP from the port's protocol.
func ServicePortProtocol(p corev1.ServicePort) string {
	if p.AppProtocol != nil && *p.AppProtocol != "" {
		if proto := protocolFromName(*p.AppProtocol); proto != "" {
			return proto
		}
	}
	if proto := protocolFromName(p.Name); proto != "" {
		return proto
	}
	if p.Protocol == corev1.ProtocolUDP {
		return "UDP"
	}
	return ""
}

// istioProtocols are the protocol names Istio recognises in port names.
var istioProtocols = map[string]string{
	"http": "HTTP", "http2": "HTTP2", "https": "HTTPS", "grpc": "GRPC", "grpc-web": "GRPC-Web",
	"tcp": "TCP", "tls": "TLS", "mongo": "Mongo", "redis": "Redis", "mysql": "MySQL", "udp": "UDP",
}

// ProtocolFromPortName returns Istio's protocol for a port name written as
// "<protocol>[-<suffix>]", or "" when the name follows no convention.
func ProtocolFromPortName(name string) string { return protocolFromName(name) }

func protocolFromName(name string) string {
	lower := strings.ToLower(name)
	if p, ok := istioProtocols[lower]; ok {
		return p
	}
	if i := strings.IndexByte(lower, '-'); i > 0 {
		if lower[:i] == "grpc" && strings.HasPrefix(lower, "grpc-web") {
			return "GRPC-Web"
		}
		if p, ok := istioProtocols[lower[:i]]; ok {
			return p
		}
	}
	return ""
}

// Destinations lists every route and mirror destination of a
// VirtualService: HTTP routes and mirrors, then TCP, then TLS routes.
func Destinations(vs *networking.VirtualService) []*networking.Destination {
	var out []*networking.Destination
	for _, r := range vs.GetHttp() {
		for _, rd := range r.GetRoute() {
			out = append(out, rd.GetDestination())
		}
		if r.GetMirror() != nil {
			out = append(out, r.GetMirror())
		}
		for _, m := range r.GetMirrors() {
			out = append(out, m.GetDestination())
		}
	}
	for _, r := range vs.GetTcp() {
		for _, rd := range r.GetRoute() {
			out = append(out, rd.GetDestination())
		}
	}
	for _, r := range vs.GetTls() {
		for _, rd := range r.GetRoute() {
			out = append(out, rd.GetDestination())
		}
	}
	return out
}
