package security

import (
	"fmt"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Gateways checks ingress Gateways for hosts that expose too much.
var Gateways = &analysis.Analyzer{
	Name: "security.Gateways",
	Doc: "report ingress Gateway servers that accept any host or let relaxed SNI matching reach a mutual-TLS host\n\n" +
		"A wildcard host on an ingress gateway exposes every bound route for any Host header. A SIMPLE TLS " +
		"wildcard next to a MUTUAL host on the same port lets a client skip the client certificate unless a " +
		"route answers 421 for that host.",
	Codes: []*analysis.Code{codes.GatewayWildcardHost, codes.RelaxedSNIMutualHost},
	Run:   runGateways,
}

func runGateways(pass *analysis.Pass) (any, error) {
	for _, o := range pass.Snapshot.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok || gw == nil || !ingress(pass, gw) {
			continue
		}
		for i, s := range gw.GetServers() {
			for j, h := range s.GetHosts() {
				if _, host, _ := cutNS(h); host == "*" {
					pass.Reportf(codes.GatewayWildcardHost, o,
						"servers[%d].hosts[%d] %q on port %d accepts any host: every route bound to this gateway is exposed whatever the Host header", i, j, h, s.GetPort().GetNumber())
				}
			}
		}
		checkRelaxedSNI(pass, o, gw)
	}
	return nil, nil
}

func cutNS(h string) (string, string, bool) {
	if ns, host, ok := strings.Cut(h, "/"); ok {
		return ns, host, true
	}
	return "", h, false
}

// ingress reports whether a Gateway's selector picks an ingress gateway.
func ingress(pass *analysis.Pass, gw *networking.Gateway) bool {
	sel := gw.GetSelector()
	if v := sel["istio"]; v != "" {
		return strings.Contains(v, "ingress")
	}
	for _, w := range pass.Snapshot.SelectWorkloads("", sel) {
		if strings.Contains(w.Labels["istio"], "ingress") || strings.Contains(w.Object.Name(), "ingress") {
			return true
		}
	}
	return false
}

func checkRelaxedSNI(pass *analysis.Pass, o *mesh.Object, gw *networking.Gateway) {
	for i, m := range gw.GetServers() {
		if m.GetTls().GetMode() != networking.ServerTLSSettings_MUTUAL {
			continue
		}
		for _, mh := range m.GetHosts() {
			_, mhost, _ := cutNS(mh)
			for j, s := range gw.GetServers() {
				if s.GetTls().GetMode() != networking.ServerTLSSettings_SIMPLE || s.GetPort().GetNumber() != m.GetPort().GetNumber() {
					continue
				}
				for _, sh := range s.GetHosts() {
					_, shost, _ := cutNS(sh)
					if shost == mhost || !strings.HasPrefix(shost, "*") || !mesh.HostMatches(shost, mhost) || answers421(pass, o, mhost) {
						continue
					}
					pass.Reportf(codes.RelaxedSNIMutualHost, o,
						"servers[%d] requires client certificates for %q, but servers[%d] accepts %q with SIMPLE TLS on the same port %d: a client can connect with another SNI under the wildcard and send Host: %s; no VirtualService returns 421 for it",
						i, mhost, j, shost, m.GetPort().GetNumber(), mhost)
				}
			}
		}
	}
}

// answers421 reports whether a VirtualService bound to the gateway for
// host answers some requests with 421 Misdirected Request.
func answers421(pass *analysis.Pass, gwObj *mesh.Object, host string) bool {
	for _, o := range pass.Snapshot.List(mesh.VirtualService) {
		vs, ok := o.Obj.(*networking.VirtualService)
		if !ok || vs == nil || !boundTo(vs, o, gwObj) || !coversHost(vs, host) {
			continue
		}
		for _, r := range vs.GetHttp() {
			if r.GetDirectResponse().GetStatus() == 421 || r.GetFault().GetAbort().GetHttpStatus() == 421 {
				return true
			}
		}
	}
	return false
}

func boundTo(vs *networking.VirtualService, o, gw *mesh.Object) bool {
	for _, g := range vs.GetGateways() {
		ns, name, ok := strings.Cut(g, "/")
		if !ok {
			ns, name = o.Namespace(), g
		}
		if name == gw.Name() && ns == gw.Namespace() {
			return true
		}
	}
	return false
}

func coversHost(vs *networking.VirtualService, host string) bool {
	for _, h := range vs.GetHosts() {
		if mesh.HostMatches(h, host) {
			return true
		}
	}
	return false
}

// Capture checks workloads whose traffic bypasses the proxy.
var Capture = &analysis.Analyzer{
	Name: "security.Capture",
	Doc: "report workloads whose traffic bypasses the sidecar in protected namespaces\n\n" +
		"Ports excluded from capture, and workloads without a proxy in a namespace protected by STRICT mTLS " +
		"or authorization policies, escape every policy.",
	Codes: []*analysis.Code{codes.CaptureExcludedPorts, codes.WorkloadWithoutProxy},
	Run:   runCapture,
}

func runCapture(pass *analysis.Pass) (any, error) {
	x := newIndex(pass.Snapshot)
	protected := map[string]string{}
	for _, o := range pass.Snapshot.List(mesh.AuthorizationPolicy) {
		if _, ok := protected[o.Namespace()]; !ok {
			protected[o.Namespace()] = "AuthorizationPolicy " + o.Name()
		}
	}
	for _, w := range pass.Snapshot.Workloads() {
		if x.meshWorkload(w) {
			for _, a := range []string{"traffic.sidecar.istio.io/excludeInboundPorts", "traffic.sidecar.istio.io/excludeOutboundPorts"} {
				if v := strings.TrimSpace(w.Annotations[a]); v != "" {
					pass.Reportf(codes.CaptureExcludedPorts, w.Object,
						"annotation %s: %q lets traffic on those ports bypass the sidecar: no mTLS or authorization policy applies to it", a, v)
				}
			}
			continue
		}
		if isGateway(w) || w.Namespace == x.root || !nsInMesh(pass.Snapshot, w.Namespace) {
			continue
		}
		why := protected[w.Namespace]
		if mode, _ := x.nsMode(w.Namespace); mode == security.PeerAuthentication_MutualTLS_STRICT {
			why = "STRICT mTLS"
		}
		if why == "" {
			continue
		}
		pass.Reportf(codes.WorkloadWithoutProxy, w.Object,
			"workload %s runs without a sidecar in namespace %s, which is protected by %s: it enforces no policy", w.Object.Name(), w.Namespace, why)
	}
	return nil, nil
}

func nsInMesh(snap *mesh.Snapshot, ns string) bool {
	n := snap.Namespace(ns)
	if n == nil {
		return false
	}
	return n.Labels[mesh.LabelInjection] == "enabled" || n.Labels[mesh.LabelRevision] != "" || n.Labels[mesh.LabelDataplaneMode] == "ambient"
}

// Version checks the control plane version against authorization bypass
// vulnerabilities.
var Version = &analysis.Analyzer{
	Name: "security.Version",
	Doc: "report an Istio version with authorization bypass vulnerabilities when path or host rules are in use\n\n" +
		"The version is read from the image tag of the istiod (or istio-pilot) Deployment. When the inputs hold " +
		"none, an informational finding says the check could not be made.",
	Codes: []*analysis.Code{codes.VulnerableIstioVersion, codes.IstioVersionUnknown},
	Run:   runVersion,
}

// cve is a published bypass, with the first fixed patch of each affected
// minor release (an affected minor without a fix is absent from fixed).
type cve struct {
	id, what string
	paths    bool // matters for path rules, else host rules
	from     [2]int
	upTo     [2]int // last affected minor
	fixed    map[int]int
}

var cves = []cve{
	{id: "CVE-2021-31920", what: "multiple or escaped slashes bypass path rules", paths: true, from: [2]int{1, 0}, upTo: [2]int{1, 9}, fixed: map[int]int{8: 6, 9: 5}},
	{id: "CVE-2021-39156", what: "a URI fragment bypasses path rules", paths: true, from: [2]int{1, 0}, upTo: [2]int{1, 11}, fixed: map[int]int{9: 8, 10: 4, 11: 1}},
	{id: "CVE-2021-39155", what: "a Host header in other letter case bypasses host rules", from: [2]int{1, 0}, upTo: [2]int{1, 11}, fixed: map[int]int{9: 8, 10: 4, 11: 1}},
	{id: "CVE-2022-21679", what: "host rules are ignored by 1.11 proxies under a 1.12.0/1.12.1 control plane", from: [2]int{1, 12}, upTo: [2]int{1, 12}, fixed: map[int]int{12: 2}},
}

func (c cve) affects(minor, patch int) bool {
	if minor < c.from[1] || minor > c.upTo[1] {
		return false
	}
	fix, ok := c.fixed[minor]
	return !ok || patch < fix
}

func runVersion(pass *analysis.Pass) (any, error) {
	var pathPolicy, hostPolicy *mesh.Object
	for _, o := range pass.Snapshot.List(mesh.AuthorizationPolicy) {
		ap, ok := o.Obj.(*security.AuthorizationPolicy)
		if !ok || ap == nil {
			continue
		}
		for _, r := range ap.GetRules() {
			for _, t := range r.GetTo() {
				op := t.GetOperation()
				if pathPolicy == nil && len(op.GetPaths())+len(op.GetNotPaths()) > 0 {
					pathPolicy = o
				}
				if hostPolicy == nil && len(op.GetHosts())+len(op.GetNotHosts()) > 0 {
					hostPolicy = o
				}
			}
		}
	}
	if pathPolicy == nil && hostPolicy == nil {
		return nil, nil
	}
	istiod, tag, minor, patch, ok := controlPlaneVersion(pass.Snapshot)
	if !ok {
		first := pathPolicy
		if first == nil {
			first = hostPolicy
		}
		why := "the inputs hold no istiod Deployment"
		if istiod != nil {
			why = fmt.Sprintf("the image tag %q of Deployment %s/%s is not a version", tag, istiod.Namespace(), istiod.Name())
		}
		pass.Reportf(codes.IstioVersionUnknown, first,
			"this policy uses path or host rules, but the Istio version cannot be known (%s), so known authorization bypasses (CVE-2021-31920, CVE-2021-39156, CVE-2021-39155, CVE-2022-21679) were not checked", why)
		return nil, nil
	}
	var hits []string
	for _, c := range cves {
		if (c.paths && pathPolicy == nil) || (!c.paths && hostPolicy == nil) || !c.affects(minor, patch) {
			continue
		}
		user := hostPolicy
		if c.paths {
			user = pathPolicy
		}
		hits = append(hits, fmt.Sprintf("%s (%s; used by %s/%s)", c.id, c.what, user.Namespace(), user.Name()))
	}
	if len(hits) > 0 {
		pass.Reportf(codes.VulnerableIstioVersion, istiod, "Istio %s is affected by %s", tag, strings.Join(hits, "; "))
	}
	return nil, nil
}

// controlPlaneVersion reads 1.<minor>.<patch> from the discovery
// container's image tag of the istiod Deployment.
func controlPlaneVersion(snap *mesh.Snapshot) (o *mesh.Object, tag string, minor, patch int, ok bool) {
	for _, d := range snap.List(mesh.Deployment) {
		if !strings.HasPrefix(d.Name(), "istiod") && d.Name() != "istio-pilot" {
			continue
		}
		dep, isDep := d.Obj.(*appsv1.Deployment)
		if !isDep {
			continue
		}
		for _, c := range dep.Spec.Template.Spec.Containers {
			if c.Name != "discovery" && !strings.Contains(c.Image, "pilot") {
				continue
			}
			o, tag = d, imageTag(c.Image)
			minor, patch, ok = parseVersion(tag)
			if ok {
				return
			}
		}
	}
	return
}

func imageTag(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		return image[i+1:]
	}
	return ""
}

func parseVersion(tag string) (minor, patch int, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(tag, "v"), ".", 3)
	if len(parts) < 3 || parts[0] != "1" {
		return 0, 0, false
	}
	minor, err1 := strconv.Atoi(parts[1])
	p := parts[2]
	if i := strings.IndexAny(p, "-+_"); i >= 0 {
		p = p[:i]
	}
	patch, err2 := strconv.Atoi(p)
	return minor, patch, err1 == nil && err2 == nil
}
