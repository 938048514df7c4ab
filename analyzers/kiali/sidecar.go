package kiali

import (
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Sidecar checks Sidecar egress hosts, root-namespace Sidecars and their
// outbound traffic policy.
var Sidecar = &analysis.Analyzer{
	Name: "kiali.Sidecar",
	Doc: "report Sidecar egress hosts not in the registry, root Sidecars with selectors, and ambiguous outbound policies\n\n" +
		"An egress host <namespace>/<host> naming a specific host should be served by a Service or " +
		"ServiceEntry of that namespace (any, for \"*\"). The Sidecar of the root namespace is the mesh " +
		"default only without a workload selector. An outboundTrafficPolicy whose mode reads REGISTRY_ONLY, " +
		"what an omitted mode means, while the mesh allows any traffic, is flagged for a second look.",
	Codes: []*analysis.Code{codes.SidecarEgressHostNotFound, codes.RootSidecarWithSelector,
		codes.SidecarOutboundPolicyAmbiguous},
	Run: runSidecar,
}

func runSidecar(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	root := snap.RootNamespace()
	meshAllowsAny := snap.MeshConfig.GetOutboundTrafficPolicy() == nil ||
		snap.MeshConfig.GetOutboundTrafficPolicy().GetMode() == meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY
	for _, o := range snap.List(mesh.Sidecar) {
		sc, ok := o.Obj.(*networking.Sidecar)
		if !ok || sc == nil {
			continue
		}
		if o.Namespace() == root && len(sc.GetWorkloadSelector().GetLabels()) > 0 {
			p.Reportf(codes.RootSidecarWithSelector, o,
				"this Sidecar of root namespace %s has a workload selector, so it is not the mesh-wide default", root)
		}
		if otp := sc.GetOutboundTrafficPolicy(); otp != nil && meshAllowsAny &&
			otp.GetMode() == networking.OutboundTrafficPolicy_REGISTRY_ONLY {
			p.Reportf(codes.SidecarOutboundPolicyAmbiguous, o,
				"outboundTrafficPolicy resolves to REGISTRY_ONLY (also the value of an omitted mode) while the mesh allows any outbound traffic")
		}
		for i, eg := range sc.GetEgress() {
			for j, h := range eg.GetHosts() {
				if !egressHostKnown(snap, o.Namespace(), h) {
					p.Reportf(codes.SidecarEgressHostNotFound, o,
						"egress[%d].hosts[%d] %q names a host no Service or ServiceEntry of that namespace serves", i, j, h)
				}
			}
		}
	}
	return nil, nil
}

func egressHostKnown(snap *mesh.Snapshot, sidecarNS, h string) bool {
	ns, dns, ok := strings.Cut(h, "/")
	if !ok || dns == "" || strings.HasPrefix(dns, "*") || ns == "~" {
		// Malformed hosts are the schema's business; wildcards import
		// whatever exists.
		return true
	}
	if ns == "." {
		ns = sidecarNS
	}
	relative := ns
	if ns == "*" {
		relative = sidecarNS
	}
	for _, e := range snap.LookupHost(snap.FQDN(dns, relative), "") {
		if ns == "*" || e.Namespace == ns {
			return true
		}
	}
	return false
}
