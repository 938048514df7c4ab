package codes

import "github.com/meshpilot/meshpilot/analysis"

// Checks Kiali makes that istioctl does not (MP3xxx). Each names its Kiali
// code in Equivalents; Kiali checks that mean the same as an IST finding are
// not here but named in that finding's Equivalents instead. (The
// WorkloadGroup checks KIA1701 and KIA1702 live with the ambient codes.)
var (
	ExportToNamespaceNotFound = &analysis.Code{ID: "MP3001", Name: "ExportToNamespaceNotFound", Level: analysis.Error,
		Doc:         "A VirtualService, DestinationRule or ServiceEntry exports itself to a namespace that does not exist, so the export reaches no one.",
		Fix:         "Correct the namespace name in exportTo, create the namespace, or remove the entry.",
		Equivalents: []string{"KIA0005"}}
	AuthorizationPolicyHostNotFound = &analysis.Code{ID: "MP3003", Name: "AuthorizationPolicyHostNotFound", Level: analysis.Error,
		Doc:         "An AuthorizationPolicy operation matches on a host that no Service or ServiceEntry in the registry serves, so the rule never matches.",
		Fix:         "Correct the host, or add the Service or ServiceEntry that serves it.",
		Equivalents: []string{"KIA0104"}}
	AuthorizationPolicyNeedsMTLS = &analysis.Code{ID: "MP3004", Name: "AuthorizationPolicyNeedsMTLS", Level: analysis.Error,
		Doc:         "An AuthorizationPolicy matches on source principals, source namespaces or connection SNI, which are only known from a mutual TLS connection, but mutual TLS is not in force for its namespace.",
		Fix:         "Enable mutual TLS for the namespace (PeerAuthentication STRICT or PERMISSIVE, and ISTIO_MUTUAL or auto mTLS on the client side), or match on other attributes.",
		Equivalents: []string{"KIA0105"}}
	AuthorizationPolicyPrincipalNotFound = &analysis.Code{ID: "MP3005", Name: "AuthorizationPolicyPrincipalNotFound", Level: analysis.Error,
		Doc:         "An AuthorizationPolicy names a principal (<trust domain>/ns/<namespace>/sa/<service account>) whose service account is used by no workload and defined by no ServiceAccount of that namespace.",
		Fix:         "Correct the namespace or service account in the principal, or create the service account.",
		Equivalents: []string{"KIA0106"}}
	AuthorizationPolicyForeignPrincipal = &analysis.Code{ID: "MP3006", Name: "AuthorizationPolicyForeignPrincipal", Level: analysis.Warning,
		Doc:         "An AuthorizationPolicy names a principal of a trust domain that is neither the mesh's trust domain nor one of its aliases, or writes the principal with the spiffe:// scheme (Istio principals are <trust domain>/ns/<namespace>/sa/<service account>, without it), so no peer of this mesh carries it.",
		Fix:         "Use the mesh's trust domain in the principal and drop any spiffe:// prefix, or add the other domain to meshConfig.trustDomainAliases.",
		Equivalents: []string{"KIA0108"}}
	DestinationRuleSubsetConflict = &analysis.Code{ID: "MP3007", Name: "DestinationRuleSubsetConflict", Level: analysis.Warning,
		Doc:         "Several DestinationRules visible together define the same subset of the same host (or apply to the same host without subsets); only one takes effect.",
		Fix:         "Merge the DestinationRules into one per host, or give the subsets distinct names.",
		Equivalents: []string{"KIA0201"}}
	DestinationRuleOverridesMTLS = &analysis.Code{ID: "MP3008", Name: "DestinationRuleOverridesMTLS", Level: analysis.Warning,
		Doc:         "A mesh-wide or namespace-wide DestinationRule turns on ISTIO_MUTUAL, but this more specific DestinationRule for a host it covers has no TLS settings; it replaces the wider rule, so its host loses the mTLS setting.",
		Fix:         "Add trafficPolicy.tls.mode: ISTIO_MUTUAL to this DestinationRule.",
		Equivalents: []string{"KIA0204"}}
	MeshMTLSPeerAuthenticationMissing = &analysis.Code{ID: "MP3009", Name: "MeshMTLSPeerAuthenticationMissing", Level: analysis.Error,
		Doc:         "A mesh-wide DestinationRule makes clients use ISTIO_MUTUAL, but no mesh-wide PeerAuthentication (root namespace, no selector) enables mutual TLS on the servers.",
		Fix:         "Add a mesh-wide PeerAuthentication with mtls.mode STRICT or PERMISSIVE.",
		Equivalents: []string{"KIA0205"}}
	NamespaceMTLSPeerAuthenticationMissing = &analysis.Code{ID: "MP3010", Name: "NamespaceMTLSPeerAuthenticationMissing", Level: analysis.Error,
		Doc:         "A namespace-wide DestinationRule makes clients use ISTIO_MUTUAL, but no namespace-wide or mesh-wide PeerAuthentication enables mutual TLS on the servers.",
		Fix:         "Add a PeerAuthentication without selector in that namespace with mtls.mode STRICT or PERMISSIVE.",
		Equivalents: []string{"KIA0206"}}
	NamespaceStrictMTLSConflict = &analysis.Code{ID: "MP3011", Name: "NamespaceStrictMTLSConflict", Level: analysis.Error,
		Doc:         "A DestinationRule disables TLS while a PeerAuthentication of the namespace requires STRICT mutual TLS: a namespace-wide rule against the namespace's policy, or a rule for one service against the namespace or workload policy of the workloads behind it (with auto mTLS off, a rule for one service that sets TLS without ISTIO_MUTUAL fails the same way). Plain-text requests are rejected.",
		Fix:         "Set the PeerAuthentication to PERMISSIVE, or use tls.mode ISTIO_MUTUAL in the DestinationRule (or drop its tls block when auto mTLS is on).",
		Equivalents: []string{"KIA0207"}}
	MeshStrictMTLSConflict = &analysis.Code{ID: "MP3012", Name: "MeshStrictMTLSConflict", Level: analysis.Error,
		Doc:         "A DestinationRule disables TLS for the whole mesh, a namespace or a service while the mesh-wide PeerAuthentication requires STRICT mutual TLS for the workloads concerned (with auto mTLS off, a rule for one service that sets TLS without ISTIO_MUTUAL fails the same way): plain-text requests are rejected.",
		Fix:         "Set the mesh-wide PeerAuthentication to PERMISSIVE (or add a PERMISSIVE one for the namespace), or use tls.mode ISTIO_MUTUAL (or no tls block when auto mTLS is on).",
		Equivalents: []string{"KIA0208"}}
	DestinationRuleSubsetWithoutLabels = &analysis.Code{ID: "MP3013", Name: "DestinationRuleSubsetWithoutLabels", Level: analysis.Warning,
		Doc:         "A DestinationRule subset has no labels, so it selects every endpoint of the host and does not split traffic.",
		Fix:         "Give the subset the labels (for example version: v2) of the endpoints it stands for.",
		Equivalents: []string{"KIA0209"}}
	MeshMTLSDestinationRuleMissing = &analysis.Code{ID: "MP3014", Name: "MeshMTLSDestinationRuleMissing", Level: analysis.Error,
		Doc:         "The mesh-wide PeerAuthentication requires STRICT mutual TLS and auto mTLS is off, but no mesh-wide DestinationRule makes clients use ISTIO_MUTUAL: requests go out in plain text and are rejected.",
		Fix:         "Add a DestinationRule for host *.local with trafficPolicy.tls.mode ISTIO_MUTUAL, or turn auto mTLS back on.",
		Equivalents: []string{"KIA0401"}}
	NamespaceMTLSDestinationRuleMissing = &analysis.Code{ID: "MP3015", Name: "NamespaceMTLSDestinationRuleMissing", Level: analysis.Error,
		Doc:         "A PeerAuthentication requires STRICT mutual TLS and auto mTLS is off, but no namespace-wide or mesh-wide DestinationRule makes clients use ISTIO_MUTUAL: requests go out in plain text and are rejected.",
		Fix:         "Add a DestinationRule for host *.<namespace>.svc.<domain> with tls.mode ISTIO_MUTUAL, or turn auto mTLS back on.",
		Equivalents: []string{"KIA0501"}}
	NamespaceMTLSDisableConflict = &analysis.Code{ID: "MP3016", Name: "NamespaceMTLSDisableConflict", Level: analysis.Error,
		Doc:         "A PeerAuthentication of a namespace disables mutual TLS, but a DestinationRule still makes clients use mutual TLS towards its workloads (a namespace-wide or mesh-wide rule for a namespace-wide policy, or a rule for a service whose workloads the policy governs): the servers expect plain text.",
		Fix:         "Add a DestinationRule with tls.mode DISABLE for the namespace (or change the service's rule), or stop disabling mutual TLS.",
		Equivalents: []string{"KIA0505"}}
	MeshMTLSDisableConflict = &analysis.Code{ID: "MP3017", Name: "MeshMTLSDisableConflict", Level: analysis.Error,
		Doc:         "The mesh-wide PeerAuthentication disables mutual TLS, but a mesh-wide DestinationRule (or the rule of a service whose workloads it governs) still makes clients use mutual TLS: the servers expect plain text.",
		Fix:         "Set the mesh-wide DestinationRule's tls.mode to DISABLE, or stop disabling mutual TLS.",
		Equivalents: []string{"KIA0506"}}
	ServiceTargetPortNotExposed = &analysis.Code{ID: "MP3018", Name: "ServiceTargetPortNotExposed", Level: analysis.Warning,
		Doc:         "A Service port targets a container port (by number or name) that none of the workloads its selector matches declares.",
		Fix:         "Set targetPort to a port the containers declare, or declare it in the pod template.",
		Equivalents: []string{"KIA0701"}}
	SidecarEgressHostNotFound = &analysis.Code{ID: "MP3019", Name: "SidecarEgressHostNotFound", Level: analysis.Warning,
		Doc:         "A Sidecar egress host names a service that no Service or ServiceEntry in the registry provides, so the entry imports nothing.",
		Fix:         "Correct the host or its namespace, or add the Service or ServiceEntry.",
		Equivalents: []string{"KIA1004"}}
	RootSidecarWithSelector = &analysis.Code{ID: "MP3020", Name: "RootSidecarWithSelector", Level: analysis.Warning,
		Doc:         "A Sidecar in the root namespace has a workload selector; only a selector-less Sidecar there acts as the mesh-wide default.",
		Fix:         "Remove the workload selector, or move the Sidecar to the namespace of the workloads it is meant for.",
		Equivalents: []string{"KIA1006"}}
	SidecarOutboundPolicyAmbiguous = &analysis.Code{ID: "MP3021", Name: "SidecarOutboundPolicyAmbiguous", Level: analysis.Info,
		Doc:         "A Sidecar sets outboundTrafficPolicy with mode REGISTRY_ONLY, which is also what the field means when its mode is left out, while the mesh allows any outbound traffic; an omitted mode silently blocks external traffic.",
		Fix:         "Write the mode you mean explicitly (ALLOW_ANY or REGISTRY_ONLY), or remove outboundTrafficPolicy to follow the mesh.",
		Equivalents: []string{"KIA1007"}}
	SingleRouteWeight = &analysis.Code{ID: "MP3022", Name: "SingleRouteWeight", Level: analysis.Warning,
		Doc:         "A route with a single destination gives it a weight below 100; the weight is ignored and the destination gets all the traffic.",
		Fix:         "Remove the weight, or add the other destinations that should share the traffic.",
		Equivalents: []string{"KIA1104"}}
	RepeatedRouteSubset = &analysis.Code{ID: "MP3023", Name: "RepeatedRouteSubset", Level: analysis.Warning,
		Doc:         "A route lists the same host and subset as more than one destination; the weights add up on one destination rather than splitting traffic.",
		Fix:         "Merge the duplicate destinations, or point one at the subset it was meant for.",
		Equivalents: []string{"KIA1105"}}
	ConflictingGatewayVirtualServiceHosts = &analysis.Code{ID: "MP3024", Name: "ConflictingGatewayVirtualServiceHosts", Level: analysis.Warning,
		Doc:         "Several VirtualServices bind the same host to the same gateway; the gateway merges them in an undefined order, so routes may shadow each other.",
		Fix:         "Merge the VirtualServices for that host and gateway into one, or use delegation.",
		Equivalents: []string{"KIA1106"}}
	GatewayReferenceOldNomenclature = &analysis.Code{ID: "MP3025", Name: "GatewayReferenceOldNomenclature", Level: analysis.Info,
		Doc:         "A VirtualService refers to a gateway with a dotted name (name.namespace...), the old form; the supported form is <namespace>/<name>.",
		Fix:         "Write the gateway reference as <namespace>/<name>.",
		Equivalents: []string{"KIA1108"}}
	DuplicateServiceEntryHostPort = &analysis.Code{ID: "MP3026", Name: "DuplicateServiceEntryHostPort", Level: analysis.Warning,
		Doc:         "Several ServiceEntries declare the same host and port (with the same protocol); they overlap, and which endpoints and settings apply is unclear.",
		Fix:         "Keep one ServiceEntry per host and port, or limit them with exportTo.",
		Equivalents: []string{"KIA1211"}}
	PolicySelectorMatchesNoWorkload = &analysis.Code{ID: "MP3028", Name: "PolicySelectorMatchesNoWorkload", Level: analysis.Warning,
		Doc:         "A PeerAuthentication or RequestAuthentication selector matches no workload of its namespace (or of any namespace, for the root namespace), so the policy applies to nothing.",
		Fix:         "Correct the selector labels, or remove the policy.",
		Equivalents: []string{"KIA0004"}}
	MultiplePeerAuthenticationsWithoutSelector = &analysis.Code{ID: "MP3029", Name: "MultiplePeerAuthenticationsWithoutSelector", Level: analysis.Error,
		Doc:         "A namespace has several PeerAuthentications without a selector; only the oldest applies.",
		Fix:         "Keep one namespace-wide PeerAuthentication and merge the others into it.",
		Equivalents: []string{"KIA0002"}}
	ConflictingPeerAuthenticationSelectors = &analysis.Code{ID: "MP3030", Name: "ConflictingPeerAuthenticationSelectors", Level: analysis.Error,
		Doc:         "A workload is selected by several PeerAuthentications with selectors; only the oldest applies.",
		Fix:         "Make the selectors disjoint, or merge the PeerAuthentications.",
		Equivalents: []string{"KIA0003"}}
)

// Kiali lists the checks Kiali makes that istioctl does not (MP3xxx), each naming its KIA code in Equivalents.
var Kiali = []*analysis.Code{
	ExportToNamespaceNotFound, AuthorizationPolicyHostNotFound,
	AuthorizationPolicyNeedsMTLS, AuthorizationPolicyPrincipalNotFound, AuthorizationPolicyForeignPrincipal,
	DestinationRuleSubsetConflict, DestinationRuleOverridesMTLS, MeshMTLSPeerAuthenticationMissing,
	NamespaceMTLSPeerAuthenticationMissing, NamespaceStrictMTLSConflict, MeshStrictMTLSConflict,
	DestinationRuleSubsetWithoutLabels, MeshMTLSDestinationRuleMissing, NamespaceMTLSDestinationRuleMissing,
	NamespaceMTLSDisableConflict, MeshMTLSDisableConflict, ServiceTargetPortNotExposed,
	SidecarEgressHostNotFound, RootSidecarWithSelector, SidecarOutboundPolicyAmbiguous, SingleRouteWeight,
	RepeatedRouteSubset, ConflictingGatewayVirtualServiceHosts, GatewayReferenceOldNomenclature,
	DuplicateServiceEntryHostPort,
	PolicySelectorMatchesNoWorkload, MultiplePeerAuthenticationsWithoutSelector,
	ConflictingPeerAuthenticationSelectors,
}
