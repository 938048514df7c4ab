// Package kiali makes the configuration checks of Kiali's validations that
// istioctl analyze lacks, each under a meshpilot code (MP3xxx) that names
// its Kiali code among its equivalents. Kiali checks that mean the same as
// an istioctl check are reported by that check, with the Kiali code added to
// its finding's equivalents, and are not repeated here.
package kiali

import (
	"sort"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{
	AuthorizationPolicy,
	DestinationRule,
	PeerAuthentication,
	Service,
	Sidecar,
	VirtualService,
	ServiceEntry,
	ExportTo,
}

// knownNamespaces returns the namespaces the inputs hold (a Namespace
// object, or any object in it), or nil when there is no Namespace object:
// a folder without Namespaces cannot tell a missing namespace from one it
// does not describe.
func knownNamespaces(snap *mesh.Snapshot) map[string]bool {
	if len(snap.List(mesh.Namespace)) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, ns := range snap.Namespaces() {
		out[ns] = true
	}
	return out
}

// inMesh reports whether a workload has, or will be injected with, a
// sidecar, or runs in ambient mode.
func inMesh(snap *mesh.Snapshot, w *mesh.Workload) bool {
	if w.Annotations[mesh.AnnotationRedirection] == "enabled" || snap.HasSidecar(w) {
		return true
	}
	_, label := w.Labels[mesh.LabelSidecarInject]
	_, annotation := w.Annotations[mesh.LabelSidecarInject]
	if label || annotation {
		return false // opted out of injection explicitly
	}
	ns := snap.Namespace(w.Namespace)
	if ns == nil {
		return false
	}
	if _, ok := ns.Labels[mesh.LabelInjection]; ok {
		return false // injection disabled for the namespace
	}
	return ns.Labels[mesh.LabelDataplaneMode] == "ambient"
}

// mtls is what the inputs say about mutual TLS: the selector-less
// PeerAuthentications of the root namespace (mesh-wide) and of each other
// namespace, the TLS modes of mesh-wide and namespace-wide
// DestinationRules, and whether auto mTLS is on.
type mtls struct {
	autoMTLS bool
	meshPA   []*mesh.Object
	nsPA     map[string][]*mesh.Object
	selPA    map[string][]*mesh.Object // PeerAuthentications with a selector, oldest first, by namespace (not root)
	meshDR   []drTLS
	nsDR     map[string][]drTLS // by the namespace the host covers
}

type drTLS struct {
	obj  *mesh.Object
	mode networking.ClientTLSSettings_TLSmode
}

func newMTLS(snap *mesh.Snapshot) *mtls {
	m := &mtls{autoMTLS: true, nsPA: map[string][]*mesh.Object{}, selPA: map[string][]*mesh.Object{}, nsDR: map[string][]drTLS{}}
	if v := snap.MeshConfig.GetEnableAutoMtls(); v != nil {
		m.autoMTLS = v.GetValue()
	}
	root := snap.RootNamespace()
	for _, o := range snap.List(mesh.PeerAuthentication) {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		if !ok || pa == nil {
			continue
		}
		if len(pa.GetSelector().GetMatchLabels()) > 0 {
			if o.Namespace() != root { // ignored in the root namespace
				m.selPA[o.Namespace()] = append(m.selPA[o.Namespace()], o)
			}
			continue
		}
		if o.Namespace() == root {
			m.meshPA = append(m.meshPA, o)
		} else {
			m.nsPA[o.Namespace()] = append(m.nsPA[o.Namespace()], o)
		}
	}
	for _, l := range m.selPA {
		sort.SliceStable(l, func(i, j int) bool {
			return l[i].Meta.CreationTimestamp.Before(&l[j].Meta.CreationTimestamp)
		})
	}
	for _, o := range snap.List(mesh.DestinationRule) {
		dr, ok := o.Obj.(*networking.DestinationRule)
		if !ok || dr == nil || dr.GetTrafficPolicy().GetTls() == nil {
			continue
		}
		d := drTLS{obj: o, mode: dr.GetTrafficPolicy().GetTls().GetMode()}
		if isMeshWideHost(dr.GetHost(), snap.DomainSuffix) {
			m.meshDR = append(m.meshDR, d)
		} else if ns, ok := namespaceWideHost(dr.GetHost(), snap.DomainSuffix); ok {
			m.nsDR[ns] = append(m.nsDR[ns], d)
		}
	}
	return m
}

// isMeshWideHost: a DestinationRule host that covers every service of the
// cluster.
func isMeshWideHost(host, domain string) bool {
	return host == "*.local" || host == "*."+domain
}

// namespaceWideHost: "*.<ns>.svc.<domain>" covers every service of ns.
func namespaceWideHost(host, domain string) (string, bool) {
	rest, ok := strings.CutPrefix(host, "*.")
	if !ok {
		return "", false
	}
	ns, ok := strings.CutSuffix(rest, ".svc."+domain)
	if !ok || ns == "" || strings.Contains(ns, ".") {
		return "", false
	}
	return ns, true
}

func paMode(o *mesh.Object) security.PeerAuthentication_MutualTLS_Mode {
	pa, _ := o.Obj.(*security.PeerAuthentication)
	return pa.GetMtls().GetMode()
}

func enablesMTLS(mode security.PeerAuthentication_MutualTLS_Mode) bool {
	return mode == security.PeerAuthentication_MutualTLS_STRICT || mode == security.PeerAuthentication_MutualTLS_PERMISSIVE
}

// firstPA returns the first PeerAuthentication of l whose mode satisfies f.
func firstPA(l []*mesh.Object, f func(security.PeerAuthentication_MutualTLS_Mode) bool) *mesh.Object {
	for _, o := range l {
		if f(paMode(o)) {
			return o
		}
	}
	return nil
}

func firstDR(l []drTLS, modes ...networking.ClientTLSSettings_TLSmode) *drTLS {
	for i := range l {
		for _, m := range modes {
			if l[i].mode == m {
				return &l[i]
			}
		}
	}
	return nil
}

// namespaceEnabled reports whether traffic to the workloads of ns is
// mutual TLS, as far as the namespace-wide and mesh-wide settings tell:
// the servers must not disable it and the clients must use it (auto mTLS,
// or an ISTIO_MUTUAL DestinationRule).
func (m *mtls) namespaceEnabled(ns string) bool {
	server := security.PeerAuthentication_MutualTLS_UNSET
	if o := firstPA(m.nsPA[ns], func(mode security.PeerAuthentication_MutualTLS_Mode) bool {
		return mode != security.PeerAuthentication_MutualTLS_UNSET
	}); o != nil {
		server = paMode(o)
	} else if o := firstPA(m.meshPA, func(mode security.PeerAuthentication_MutualTLS_Mode) bool {
		return mode != security.PeerAuthentication_MutualTLS_UNSET
	}); o != nil {
		server = paMode(o)
	}
	if server == security.PeerAuthentication_MutualTLS_DISABLE {
		return false
	}
	client := m.nsDR[ns]
	if len(client) == 0 {
		client = m.meshDR
	}
	if len(client) > 0 {
		return client[0].mode == networking.ClientTLSSettings_ISTIO_MUTUAL
	}
	return m.autoMTLS
}

// workloadMode is the mutual TLS mode in force for a workload and the
// PeerAuthentication that sets it (nil for the PERMISSIVE default): the
// oldest selector policy matching it, unless that leaves the mode unset,
// then its namespace's, then the mesh-wide one.
func (m *mtls) workloadMode(w *mesh.Workload) (security.PeerAuthentication_MutualTLS_Mode, *mesh.Object) {
	set := func(mode security.PeerAuthentication_MutualTLS_Mode) bool {
		return mode != security.PeerAuthentication_MutualTLS_UNSET
	}
	for _, o := range m.selPA[w.Namespace] {
		pa, _ := o.Obj.(*security.PeerAuthentication)
		if mesh.MatchLabels(pa.GetSelector().GetMatchLabels(), w.Labels) {
			if set(paMode(o)) {
				return paMode(o), o
			}
			break
		}
	}
	if o := firstPA(m.nsPA[w.Namespace], set); o != nil {
		return paMode(o), o
	}
	if o := firstPA(m.meshPA, set); o != nil {
		return paMode(o), o
	}
	return security.PeerAuthentication_MutualTLS_PERMISSIVE, nil
}

// hostWorkloads returns the mesh workloads behind the Services a
// DestinationRule's (non-wildcard) host names.
func hostWorkloads(snap *mesh.Snapshot, o *mesh.Object, host string) []*mesh.Workload {
	var out []*mesh.Workload
	seen := map[*mesh.Workload]bool{}
	for _, h := range snap.LookupHost(snap.FQDN(host, o.Namespace()), o.Namespace()) {
		svc, ok := h.Object.Obj.(*corev1.Service)
		if !ok || svc == nil || len(svc.Spec.Selector) == 0 {
			continue
		}
		for _, w := range snap.SelectWorkloads(h.Namespace, svc.Spec.Selector) {
			if !seen[w] && inMesh(snap, w) {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

func fullName(o *mesh.Object) string { return o.Namespace() + "/" + o.Name() }

func itoa(i int) string { return strconv.Itoa(i) }
