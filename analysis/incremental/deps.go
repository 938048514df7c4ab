package incremental

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshpilot/meshpilot/mesh"
)

// deps is what one object contributes to the link relation: the tokens it
// provides to its partition and what it reads, by how it reads it.
//
// A token read in full ("reads") makes the reader depend on every partition
// providing it, entirely: analyzers follow a Service to the workloads it
// selects and to their PeerAuthentications, so the whole partition is the
// unit. "first" reads depend only on which object, in load order, is the
// first to provide the token. "exists" reads depend only on whether some
// workload anywhere carries the labels; "nsExists" and "patterns" only on
// whether a namespace of that name (or pattern) holds anything; "parts" on
// a whole partition named directly.
type deps struct {
	provides      []string
	reads         []string
	firstProvides []string
	firstReads    []string
	exists        []map[string]string
	nsExists      []string // lower-cased names
	patterns      []string // "prefix*" or "*suffix"
	parts         []string
}

// env is what dependency extraction needs beyond the object. Every input
// here changes only through a global object of envKinds (a Gateway, a
// ServiceEntry with a workload selector, a Node, a VirtualService with a
// narrowly exported wildcard host) or the mesh options, which rebuild the
// index; so an object's deps are the same when it is added and when it is
// removed.
type env struct {
	root, domain string
	// gateways maps cluster/namespace/name of each Istio Gateway to its
	// selector: routes on JWT claims read the workloads a bound gateway
	// selects.
	gateways map[string]map[string]string
	// seSelectors: some ServiceEntry has a workload selector, which
	// DestinationRule subsets merge into their labels.
	seSelectors bool
	// nodes: the mesh has Nodes, whose topology labels pods carry for
	// DestinationRule subsets.
	nodes bool
	// groupSuffixes are dotTrim of the narrowly exported wildcard hosts of
	// VirtualServices (see narrowWildcards): every VirtualService host they
	// may cover reads all the others.
	groupSuffixes []string
}

type builder struct {
	env *env
	ns  string
	d   deps
}

func (b *builder) provide(t string)           { b.d.provides = append(b.d.provides, t) }
func (b *builder) read(t string)              { b.d.reads = append(b.d.reads, t) }
func (b *builder) both(t string)              { b.provide(t); b.read(t) }
func (b *builder) part(ns string)             { b.d.parts = append(b.d.parts, ns) }
func (b *builder) exists(l map[string]string) { b.d.exists = append(b.d.exists, l) }

// nsExists reads whether namespace ns exists, or one matching a pattern
// ("prefix*", "*suffix"); "*", "." and "~" name no namespace.
func (b *builder) nsExists(ns string) {
	switch {
	case ns == "" || ns == "*" || ns == "." || ns == "~":
	case strings.HasPrefix(ns, "*") || strings.HasSuffix(ns, "*"):
		b.d.patterns = append(b.d.patterns, ns)
	default:
		b.d.nsExists = append(b.d.nsExists, strings.ToLower(ns))
	}
}

// selector reads, in full, the partitions holding workloads that may match
// sel: every workload matching sel carries each of its pairs, so those
// carrying one (the smallest key, for determinism) are enough; every
// partition with a workload for an empty selector. Keys in skip are not
// used (topology labels, which pods get from their node).
func (b *builder) selector(sel map[string]string, skip map[string]bool) {
	b.read(selectorToken(sel, skip))
}

func selectorToken(sel map[string]string, skip map[string]bool) string {
	best := ""
	found := false
	for k := range sel {
		if skip[k] {
			continue
		}
		if !found || k < best {
			best, found = k, true
		}
	}
	if !found {
		return wlAny
	}
	return wlToken(best, sel[best])
}

const wlAny = "wl:*"

func wlToken(k, v string) string { return "wl:" + k + "=" + v }

// topologyKeys are the labels DestinationRule subsets see from a pod's node.
var topologyKeys = map[string]bool{
	"topology.kubernetes.io/region": true, "topology.kubernetes.io/zone": true,
	"topology.istio.io/subzone": true, "kubernetes.io/hostname": true,
}

// depsOf extracts an object's deps. It must be a pure function of the
// object and the env.
func (v *env) depsOf(o *mesh.Object) deps {
	b := &builder{env: v, ns: o.Namespace()}
	b.waypointLabels(o)
	switch spec := o.Obj.(type) {
	case *networking.VirtualService:
		b.virtualService(o, spec)
	case *networking.DestinationRule:
		b.destinationRule(spec)
	case *networking.ServiceEntry:
		for _, h := range spec.GetHosts() {
			for _, f := range b.fqdns(h, b.ns) {
				b.entry(f)
				b.read("E:" + f)
			}
		}
		b.exportTo(spec.GetExportTo())
	case *corev1.Service:
		// The registry host; its readers depend on the Service's workloads
		// and their policies too, which share its partition.
		f := v.fqdn(o.Name(), b.ns)
		b.entry(f)
		b.read("E:" + f)
	case *networking.Sidecar:
		b.sidecar(spec)
	case *networking.Gateway:
		b.gateway(o, spec)
	case *networking.EnvoyFilter:
		for _, cp := range spec.GetConfigPatches() {
			if cp.GetPatch() != nil {
				b.both("ef:" + patchedName(cp))
			}
		}
	case *security.AuthorizationPolicy:
		b.authorizationPolicy(spec)
	case *security.PeerAuthentication:
		b.peerAuthentication(spec)
	case *security.RequestAuthentication:
		b.provide("kind:RequestAuthentication")
		if b.ns == v.root {
			// A root policy selects workloads of every namespace.
			b.selector(spec.GetSelector().GetMatchLabels(), nil)
		}
	case *appsv1.Deployment:
		if istiod(o) {
			// security.Version names the first policies with path and host
			// rules; authn.BlockedCIDRs counts every RequestAuthentication.
			b.d.firstReads = append(b.d.firstReads, "ap-path", "ap-host")
			if o.Labels()["app"] == "istiod" && !blocksCIDRs(spec) {
				b.read("kind:RequestAuthentication")
			}
		}
	}
	if t, ok := o.Obj.(targeted); ok {
		b.targetRefs(t.GetTargetRef(), t.GetTargetRefs())
	}
	if o.Group == mesh.GroupGatewayAPI || o.Group == mesh.GroupInference || o.Group == mesh.GroupInferenceX {
		b.gatewayAPI(o)
	}
	return b.d
}

type targeted interface {
	GetTargetRef() *typev1beta1.PolicyTargetReference
	GetTargetRefs() []*typev1beta1.PolicyTargetReference
}

func (b *builder) targetRefs(one *typev1beta1.PolicyTargetReference, many []*typev1beta1.PolicyTargetReference) {
	if one != nil {
		many = append([]*typev1beta1.PolicyTargetReference{one}, many...)
	}
	for _, r := range many {
		if r.GetNamespace() != "" {
			b.part(r.GetNamespace())
		}
	}
}

// waypointLabels: istio.io/use-waypoint on a Namespace, Service,
// ServiceEntry or workload names a waypoint Gateway, in the namespace of
// istio.io/use-waypoint-namespace.
func (b *builder) waypointLabels(o *mesh.Object) {
	for _, l := range []map[string]string{o.Labels(), templateLabels(o)} {
		if ns := l["istio.io/use-waypoint-namespace"]; ns != "" {
			b.part(ns)
		}
	}
}

func templateLabels(o *mesh.Object) map[string]string {
	if t := mesh.PodTemplate(o); t != nil {
		return t.Labels
	}
	return nil
}

func (b *builder) exportTo(list []string) {
	for _, e := range list {
		b.nsExists(e)
	}
}

func (b *builder) virtualService(o *mesh.Object, vs *networking.VirtualService) {
	ns := b.ns
	for _, h := range vs.GetHosts() {
		for _, f := range b.fqdns(h, ns) {
			b.mention(f)
			b.cover(f)
			dotSuffixes(strings.TrimPrefix(f, "*"), func(x string) {
				if slices.Contains(b.env.groupSuffixes, x) {
					b.read("H:" + x)
				}
			})
		}
		if hns, ok := hostNamespace(h); ok {
			b.part(hns)
		}
	}
	// Destinations look hosts up (Services, ServiceEntries,
	// DestinationRules); DestinationRules read the routes to their host
	// (retries, subsets used), routes read the write methods other routes
	// to their destination match.
	for _, d := range mesh.Destinations(vs) {
		for _, f := range b.fqdns(d.GetHost(), ns) {
			b.lookup(f)
			b.cover(f)
			b.provide("dest:" + f)
			b.read("writes:" + f)
		}
	}
	for _, r := range vs.GetHttp() {
		if !matchesMethod(r) {
			continue
		}
		for _, rd := range r.GetRoute() {
			for _, f := range b.fqdns(rd.GetDestination().GetHost(), ns) {
				b.provide("writes:" + f)
			}
		}
	}
	// Gateway VirtualServices routing a host, as written, without subset
	// meet the VirtualServices that route that host to subsets.
	hosts := map[string]bool{}
	for _, h := range vs.GetHosts() {
		hosts[h] = true
	}
	for _, r := range vs.GetHttp() {
		for _, rd := range r.GetRoute() {
			d := rd.GetDestination()
			switch {
			case d.GetSubset() != "" && hosts[d.GetHost()]:
				b.provide("raw:" + d.GetHost())
			case d.GetSubset() == "" && len(vs.GetGateways()) > 0:
				b.read("raw:" + d.GetHost())
			}
		}
	}
	claims := claimRoute(vs)
	for _, g := range vs.GetGateways() {
		if g == "mesh" {
			continue
		}
		gns, name := splitRef(g, ns)
		b.part(gns)
		b.provide("gwbind:" + gns + "/" + name)
		if claims {
			if sel, ok := b.env.gateways[o.Source.Cluster+"/"+gns+"/"+name]; ok {
				b.selector(sel, nil)
			}
		}
	}
	b.exportTo(vs.GetExportTo())
}

func matchesMethod(r *networking.HTTPRoute) bool {
	for _, m := range r.GetMatch() {
		if m.GetMethod() != nil {
			return true
		}
	}
	return false
}

// claimRoute reports whether some match tests a JWT claim header.
func claimRoute(vs *networking.VirtualService) bool {
	for _, r := range vs.GetHttp() {
		for _, m := range r.GetMatch() {
			for _, hs := range []map[string]*networking.StringMatch{m.GetHeaders(), m.GetWithoutHeaders()} {
				for k := range hs {
					if strings.HasPrefix(strings.ToLower(k), "@request.auth.claims") {
						return true
					}
				}
			}
		}
	}
	return false
}

func splitRef(ref, defaultNS string) (string, string) {
	if ns, n, ok := strings.Cut(ref, "/"); ok {
		return ns, n
	}
	return defaultNS, ref
}

func (b *builder) destinationRule(dr *networking.DestinationRule) {
	ns, domain := b.ns, b.env.domain
	if h := dr.GetHost(); h != "" {
		for _, f := range b.fqdns(h, ns) {
			b.mention(f)
			b.read("dest:" + f)
		}
		switch {
		case h == "*.local" || h == "*."+domain:
			b.provide("drmesh")
		default:
			if rest, ok := strings.CutPrefix(h, "*."); ok {
				if hns, ok := strings.CutSuffix(rest, ".svc."+domain); ok && hns != "" && !strings.Contains(hns, ".") {
					b.provide("drns:" + hns)
					b.part(hns)
				}
			}
		}
		if hns, ok := hostNamespace(b.env.fqdn(h, ns)); ok {
			b.read("drns:" + hns)
			b.part(hns)
		}
		if !strings.Contains(h, "*") {
			switch dr.GetTrafficPolicy().GetTls().GetMode() {
			case networking.ClientTLSSettings_ISTIO_MUTUAL, networking.ClientTLSSettings_MUTUAL:
				b.provide("drmutual")
			}
		}
	}
	b.read("drmesh")
	b.exportTo(dr.GetExportTo())
	for _, ss := range dr.GetSubsets() {
		b.subset(ss.GetLabels())
	}
}

// subset: a DestinationRule subset must select some workload in any
// namespace. An existence read, unless ServiceEntry selectors may be
// merged into the labels, or node topology may rewrite them.
func (b *builder) subset(labels map[string]string) {
	switch {
	case b.env.seSelectors:
		b.selector(labels, topologyKeys)
	case b.env.nodes && hasTopologyKey(labels):
		b.selector(labels, topologyKeys)
	default:
		b.exists(labels)
	}
}

func hasTopologyKey(l map[string]string) bool {
	for k := range l {
		if topologyKeys[k] {
			return true
		}
	}
	return false
}

func (b *builder) sidecar(sc *networking.Sidecar) {
	for _, eg := range sc.GetEgress() {
		for _, h := range eg.GetHosts() {
			ns, dns, ok := strings.Cut(h, "/")
			if !ok || dns == "" || strings.HasPrefix(dns, "*") || ns == "~" {
				continue
			}
			relative := ns
			if ns == "." || ns == "*" {
				relative = b.ns
			}
			b.lookup(b.env.fqdn(dns, relative))
		}
	}
}

// gateway: an Istio Gateway is a global object; its reads say when
// non-global changes reach its findings (and force a full run).
func (b *builder) gateway(o *mesh.Object, gw *networking.Gateway) {
	b.selector(gw.GetSelector(), nil)
	for _, srv := range gw.GetServers() {
		if ns, _, ok := strings.Cut(srv.GetTls().GetCredentialName(), "/"); ok {
			b.part(ns)
		}
	}
	if relaxedSNI(gw) {
		b.read("gwbind:" + o.Namespace() + "/" + o.Name())
	}
}

// relaxedSNI reports whether a MUTUAL server shares its port with a SIMPLE
// wildcard server: only then do a gateway's findings read the
// VirtualServices bound to it.
func relaxedSNI(gw *networking.Gateway) bool {
	for _, m := range gw.GetServers() {
		if m.GetTls().GetMode() != networking.ServerTLSSettings_MUTUAL {
			continue
		}
		for _, s := range gw.GetServers() {
			if s.GetTls().GetMode() == networking.ServerTLSSettings_SIMPLE && s.GetPort().GetNumber() == m.GetPort().GetNumber() {
				return true
			}
		}
	}
	return false
}

// peerAuthentication: the mTLS checks read the DestinationRules that cover
// the namespace or the mesh. A mesh-wide policy that disables mTLS is the
// mode of workloads anywhere that mutual-TLS DestinationRules reach.
func (b *builder) peerAuthentication(pa *security.PeerAuthentication) {
	b.read("drns:" + b.ns)
	b.read("drmesh")
	if b.ns != b.env.root {
		return
	}
	sel := pa.GetSelector().GetMatchLabels()
	if len(sel) > 0 {
		b.selector(sel, nil)
	}
	if pa.GetMtls().GetMode() == security.PeerAuthentication_MutualTLS_DISABLE {
		b.read("drmutual")
		b.read(wlAny)
	}
}

func (b *builder) authorizationPolicy(ap *security.AuthorizationPolicy) {
	ns := b.ns
	if ns == b.env.root {
		// A root policy applies to the workloads of every namespace: its
		// selector's, or all of them when its rules are judged against
		// the workloads (gateway or sidecar enforcement, ports, protocols).
		switch sel := ap.GetSelector().GetMatchLabels(); {
		case len(sel) > 0:
			b.selector(sel, nil)
		case rulesReadWorkloads(ap):
			b.read(wlAny)
		}
	}
	paths, hosts := false, false
	for _, r := range ap.GetRules() {
		for _, f := range r.GetFrom() {
			src := f.GetSource()
			for _, e := range append(append([]string{}, src.GetNamespaces()...), src.GetNotNamespaces()...) {
				b.nsExists(e)
			}
			for _, p := range append(append([]string{}, src.GetPrincipals()...), src.GetNotPrincipals()...) {
				if parts := strings.Split(p, "/"); len(parts) == 5 && parts[1] == "ns" {
					b.part(parts[2])
				}
			}
		}
		for _, t := range r.GetTo() {
			op := t.GetOperation()
			if len(op.GetPaths())+len(op.GetNotPaths()) > 0 {
				paths = true
			}
			if len(op.GetHosts())+len(op.GetNotHosts()) > 0 {
				hosts = true
			}
			for _, h := range op.GetHosts() {
				b.operationHost(h)
			}
		}
	}
	if paths {
		b.d.firstProvides = append(b.d.firstProvides, "ap-path")
	}
	if hosts {
		b.d.firstProvides = append(b.d.firstProvides, "ap-host")
	}
	if paths || hosts {
		b.d.firstReads = append(b.d.firstReads, "ap-path", "ap-host")
	}
	b.read("drns:" + ns)
	b.read("drmesh")
}

// rulesReadWorkloads reports whether security.AuthorizationPolicies judges
// the policy's rules against the workloads it applies to: every ALLOW rule
// (gateway or sidecar), operations, conditions, IP blocks and request
// principals. A DENY from some sources only, or a policy without rules, is
// judged on its own.
func rulesReadWorkloads(ap *security.AuthorizationPolicy) bool {
	if len(ap.GetRules()) == 0 {
		return false
	}
	if ap.GetAction() == security.AuthorizationPolicy_ALLOW {
		return true
	}
	for _, r := range ap.GetRules() {
		if len(r.GetTo()) > 0 || len(r.GetWhen()) > 0 {
			return true
		}
		for _, f := range r.GetFrom() {
			s := f.GetSource()
			if len(s.GetIpBlocks())+len(s.GetNotIpBlocks())+len(s.GetRemoteIpBlocks())+len(s.GetNotRemoteIpBlocks())+
				len(s.GetRequestPrincipals())+len(s.GetNotRequestPrincipals()) > 0 {
				return true
			}
		}
	}
	return false
}

// blocksCIDRs reports whether istiod restricts JWKS fetches (authn reports
// the Deployment otherwise).
func blocksCIDRs(d *appsv1.Deployment) bool {
	if d == nil {
		return false
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == "BLOCKED_CIDRS_IN_JWKS_URIS" && (e.Value != "" || e.ValueFrom != nil) {
				return true
			}
		}
	}
	return false
}

// operationHost reads what kiali's host check consults for an
// AuthorizationPolicy operation host.
func (b *builder) operationHost(h string) {
	if h == "" || h == "*" {
		return
	}
	if i := strings.LastIndexByte(h, ':'); i > 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	candidates := []string{b.env.fqdn(h, b.ns)}
	if strings.Count(h, ".") == 1 && !strings.HasPrefix(h, "*") {
		candidates = append(candidates, h+".svc."+b.env.domain)
	}
	for _, f := range candidates {
		b.lookup(f)
		b.cover(f)
	}
}

// gatewayAPI reads, for Gateway API and inference objects, every namespace
// the object names (parentRefs, backendRefs, ReferenceGrant from, ...):
// read generically so that no reference field is missed.
func (b *builder) gatewayAPI(o *mesh.Object) {
	if gw, ok := o.Obj.(*gwv1.Gateway); ok && gw != nil {
		for _, l := range gw.Spec.Listeners {
			if l.Hostname != nil && *l.Hostname != "" {
				b.both("kgwl:" + strconv.Itoa(int(l.Port)) + "/" + string(l.Protocol) + "/" + string(*l.Hostname))
			}
		}
		for _, a := range gw.Spec.Addresses {
			if a.Value != "" {
				t := string(gwv1.IPAddressType)
				if a.Type != nil && *a.Type != "" {
					t = string(*a.Type)
				}
				b.both("kgwa:" + t + "/" + a.Value)
			}
		}
	}
	data, err := json.Marshal(o.Obj)
	if err != nil {
		return
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "metadata")
	}
	walkNamespaces(v, func(ns string) {
		b.part(ns)
		b.nsExists(ns)
	})
}

func walkNamespaces(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "namespace" && s != "" {
				f(s)
				continue
			}
			walkNamespaces(e, f)
		}
	case []any:
		for _, e := range x {
			walkNamespaces(e, f)
		}
	}
}

// patchedName is the name an EnvoyFilter patch adds or targets, as
// envoyfilter.Patches keys it.
func patchedName(cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) string {
	fields := cp.GetPatch().GetValue().GetFields()
	if fields == nil {
		return ""
	}
	if v, ok := fields["name"]; ok {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
			return s.StringValue
		}
		b, err := v.MarshalJSON()
		if err != nil {
			return ""
		}
		return string(b)
	}
	return cp.GetMatch().GetListener().GetFilterChain().GetFilter().GetName()
}

// istiod reports whether a Deployment is the control plane, whose findings
// summarize policies across the mesh (security.Version, authn.BlockedCIDRs).
func istiod(o *mesh.Object) bool {
	n := o.Name()
	return strings.HasPrefix(n, "istiod") || n == "istio-pilot" || o.Labels()["app"] == "istiod"
}

// compact sorts and de-duplicates each list of d.
func (d *deps) compact() {
	for _, l := range []*[]string{&d.provides, &d.reads, &d.firstProvides, &d.firstReads, &d.nsExists, &d.patterns, &d.parts} {
		sort.Strings(*l)
		*l = uniq(*l)
	}
}

func uniq(l []string) []string {
	if len(l) < 2 {
		return l
	}
	out := l[:1]
	for _, s := range l[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}
