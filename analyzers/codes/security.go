package codes

import "github.com/meshpilot/meshpilot/analysis"

// Security codes (MP2xxx). MP20nn implements item nn of the security
// checklist; a second or third code for the same item is MP21nn or MP22nn.
var (
	NoAllowPolicyInScope = &analysis.Code{ID: "MP2001", Name: "NoAllowPolicyInScope", Level: analysis.Warning,
		Doc:         "Some mesh workloads of the namespace have no ALLOW AuthorizationPolicy in scope (none in the namespace or the root namespace selects them). With no ALLOW policy Istio lets every request through, so these workloads are open to any caller that reaches them.",
		Fix:         "Add a namespace-wide ALLOW policy (or an allow-nothing policy, spec: {}) and then ALLOW rules for the callers each workload needs.",
		Equivalents: []string{"KIA1301"}}
	AllowAllRule = &analysis.Code{ID: "MP2002", Name: "AllowAllRule", Level: analysis.Warning,
		Doc: "An ALLOW policy has a rule with no from, to or when (rules: [{}]). Such a rule matches every request, so the policy admits all traffic to the workloads it selects and makes every other ALLOW policy on them irrelevant.",
		Fix: "Replace the empty rule with rules that name the callers (from) and operations (to) that should be admitted, or delete the policy if opening the workload is not intended."}
	AllowRuleWithoutSource = &analysis.Code{ID: "MP2003", Name: "AllowRuleWithoutSource", Level: analysis.Info,
		Doc: "An ALLOW rule has no from and no source condition, so it admits matching requests from anyone: other workloads, plaintext clients and unauthenticated callers alike.",
		Fix: "Add a from.source (principals, namespaces or requestPrincipals) restricting who may call, unless the operation really is public."}
	AllowRuleWithoutOperation = &analysis.Code{ID: "MP2004", Name: "AllowRuleWithoutOperation", Level: analysis.Info,
		Doc: "An ALLOW rule restricts the caller but has no to, so the caller may use every port, method and path of the workload.",
		Fix: "Add a to.operation listing the ports, methods or paths the caller needs (least privilege)."}
	AnyAuthenticatedPeer = &analysis.Code{ID: "MP2005", Name: "AnyAuthenticatedPeer", Level: analysis.Info,
		Doc: "The only restriction of an ALLOW rule is principals: [\"*\"] or namespaces: [\"*\"]. That admits any peer holding a mesh certificate, that is every workload of the mesh, to every operation.",
		Fix: "Name the namespaces or service accounts that need access, and add a to.operation for what they need."}
	BroadWildcard = &analysis.Code{ID: "MP2006", Name: "BroadWildcard", Level: analysis.Warning,
		Doc: "A prefix or suffix wildcard in a rule covers far more than it seems to: \"/api*\" also matches \"/api-internal\" and \"/apikeys\"; \"cluster.local/ns/*\" is every workload of the trust domain; \"*/sa/default\" is the default service account of every namespace.",
		Fix: "End path prefixes at a segment boundary (\"/api/*\") and write principals as <trust-domain>/ns/<namespace>/sa/<service-account>, or use namespaces."}
	DenyWithoutRules = &analysis.Code{ID: "MP2007", Name: "DenyWithoutRules", Level: analysis.Warning,
		Doc: "A DENY policy has no rules. A policy without rules never matches, so this DENY denies nothing. (Denying everything needs rules: [{}].)",
		Fix: "Add the rules that describe the requests to deny; write rules: [{}] if every request should be denied."}
	AllowWithNegativeMatch = &analysis.Code{ID: "MP2008", Name: "AllowWithNegativeMatch", Level: analysis.Warning,
		Doc: "An ALLOW rule is built on a negative match (notPrincipals, notNamespaces, notPaths, notHosts, notValues...). Anything not listed is admitted, including variants of the listed values (another path spelling, an empty identity from a plaintext client), so the rule admits more than intended. Istio recommends positive matching for ALLOW.",
		Fix: "Rewrite the rule to list what is allowed (principals, paths, values) instead of what is not; use a DENY policy for the exceptions."}
	DenyPathVariant = &analysis.Code{ID: "MP2009", Name: "DenyPathVariant", Level: analysis.Warning,
		Doc: "A DENY rule matches an exact path or a \"/x/*\" prefix only. Path matching is literal: DENY on \"/admin\" does not deny \"/admin/\" or \"/admin/users\", and DENY on \"/admin/*\" does not deny \"/admin\". Istio recommends negative matching for DENY (deny notPaths of what is public).",
		Fix: "List both forms (\"/admin\" and \"/admin/*\"), or invert the rule: DENY with notPaths naming the public paths."}
	RootNamespaceSelectorMeshWide = &analysis.Code{ID: "MP2014", Name: "RootNamespaceSelectorMeshWide", Level: analysis.Warning,
		Doc: "An AuthorizationPolicy in the root namespace applies in every namespace; its selector here matches workloads in other namespaces than the root one. A selector written for one application thus also governs workloads of other teams that share its labels.",
		Fix: "Move the policy to the namespace of the workloads it is meant for, or make its selector specific enough to match only them."}
	HTTPFieldsOnTCPPort = &analysis.Code{ID: "MP2015", Name: "HTTPFieldsOnTCPPort", Level: analysis.Warning,
		Doc: "An ALLOW rule uses HTTP-only fields (methods, paths, hosts, requestPrincipals, request.* conditions) for a port that carries TCP (or TLS, or another non-HTTP protocol). On such ports Istio drops the rule, so the traffic it was meant to admit is denied.",
		Fix: "Remove the HTTP-only fields from the rule for the TCP port (split it into an HTTP rule and a TCP rule with ports), or declare the port's protocol as HTTP if it is."}
	DenyHTTPFieldsWithoutPorts = &analysis.Code{ID: "MP2016", Name: "DenyHTTPFieldsWithoutPorts", Level: analysis.Warning,
		Doc: "A DENY rule uses HTTP-only fields and no ports, and the workloads serve a TCP port. On TCP, Istio ignores the HTTP conditions and keeps the rest of the rule, which then matches all TCP traffic: every connection to the TCP port is denied.",
		Fix: "Add to.operation.ports with the HTTP ports so the rule applies to them only."}
	PathNormalizationBypass = &analysis.Code{ID: "MP2017", Name: "PathNormalizationBypass", Level: analysis.Warning,
		Doc: "A DENY on paths (or an ALLOW on notPaths) is enforced with the mesh's path normalization BASE (the default) or NONE, which neither merges slashes nor decodes %2F and %5C. If the application does, \"/data//secret\" or \"/data%2Fsecret\" reaches the path the rule protects.",
		Fix: "Set meshConfig.pathNormalization.normalization to MERGE_SLASHES or DECODE_AND_MERGE_SLASHES to match what the application does, or rewrite the rule as an ALLOW with positive paths."}
	HostMatchVariant = &analysis.Code{ID: "MP2018", Name: "HostMatchVariant", Level: analysis.Warning,
		Doc: "A rule of a gateway policy lists an exact host without its \"host:*\" form. The Host header may carry a port (\"example.com:443\"), which an exact host does not match: an ALLOW then refuses legitimate requests, a DENY lets them through.",
		Fix: "List the host with and without port: \"example.com\" and \"example.com:*\"."}
	HostsOnSidecarPolicy = &analysis.Code{ID: "MP2118", Name: "HostsOnSidecarPolicy", Level: analysis.Info,
		Doc: "A policy enforced by sidecars matches on hosts or notHosts. Inside the mesh the Host header is whatever the client writes, so it says nothing about which service was called and cannot be trusted for authorization.",
		Fix: "Match on ports, paths and the caller's identity instead, and enforce host rules at the gateway."}
	PolicyPortIsServicePort = &analysis.Code{ID: "MP2019", Name: "PolicyPortIsServicePort", Level: analysis.Warning,
		Doc: "A rule names a Service port that forwards to a different container port. Authorization policies see the container (target) port, so the rule never matches the traffic it names.",
		Fix: "Write the container port (the Service's targetPort) in the rule."}
	InvalidMethod = &analysis.Code{ID: "MP2020", Name: "InvalidMethod", Level: analysis.Warning,
		Doc:         "A rule lists a method that no request carries: methods match upper-case HTTP verbs exactly (\"get\" never matches), and gRPC requests are always POST.",
		Fix:         "Write the HTTP verb in upper case; for gRPC services match on POST and on paths (/package.Service/Method).",
		Equivalents: []string{"KIA0102"}}
	IPBlocksBehindSNAT = &analysis.Code{ID: "MP2021", Name: "IPBlocksBehindSNAT", Level: analysis.Warning,
		Doc: "A gateway policy matches ipBlocks, the address of the connection's peer, but the gateway's LoadBalancer or NodePort Service does not set externalTrafficPolicy: Local. Traffic arrives through a node that rewrites the source address, so the rule sees node addresses, not clients'.",
		Fix: "Set externalTrafficPolicy: Local on the gateway Service, or use remoteIpBlocks with numTrustedProxies when a proxy in front sets X-Forwarded-For."}
	RemoteIPBlocksUntrusted = &analysis.Code{ID: "MP2121", Name: "RemoteIPBlocksUntrusted", Level: analysis.Warning,
		Doc: "A gateway policy matches remoteIpBlocks but no numTrustedProxies is configured (meshConfig.defaultConfig.gatewayTopology or the gateway's proxy.istio.io/config annotation). Without it the gateway does not use X-Forwarded-For, and the remote address is the load balancer's.",
		Fix: "Set gatewayTopology.numTrustedProxies to the number of proxies in front of the gateway."}
	RequestPrincipalsWithoutRequestAuthentication = &analysis.Code{ID: "MP2022", Name: "RequestPrincipalsWithoutRequestAuthentication", Level: analysis.Warning,
		Doc: "A rule matches on the request principal (requestPrincipals, notRequestPrincipals or request.auth.* conditions) but no RequestAuthentication applies to some of the workloads. Without one no JWT is validated and every request has an empty request principal: the rule never matches (or, negated, always does).",
		Fix: "Add a RequestAuthentication with the issuer's jwtRules for these workloads."}
	DryRunPolicy = &analysis.Code{ID: "MP2026", Name: "DryRunPolicy", Level: analysis.Info,
		Doc: "The policy has istio.io/dry-run: \"true\". Istio only logs what it would have done; it enforces nothing. Dry runs are meant to be short.",
		Fix: "Remove the annotation once the logs confirm the policy behaves as intended, or delete the policy."}
	CustomActionPolicy = &analysis.Code{ID: "MP2126", Name: "CustomActionPolicy", Level: analysis.Info,
		Doc: "The policy delegates decisions to an external authorizer (action CUSTOM). CUSTOM policies are evaluated first, and a workload may use only one provider; the provider must be declared in meshConfig.extensionProviders.",
		Fix: "Check the provider is declared and is the only one used for these workloads; keep ALLOW/DENY policies as a second line."}
	AuditPolicy = &analysis.Code{ID: "MP2226", Name: "AuditPolicy", Level: analysis.Info,
		Doc: "The policy's action is AUDIT: matching requests are only marked for logging, never allowed or denied, and only if an audit provider is configured.",
		Fix: "Make sure an audit-capable telemetry provider is configured; use ALLOW or DENY if access should be controlled."}
	PlaintextAccepted = &analysis.Code{ID: "MP2027", Name: "PlaintextAccepted", Level: analysis.Warning,
		Doc: "Workloads of the namespace accept plaintext: there is no mesh-wide PeerAuthentication in the root namespace, or it is PERMISSIVE, and none in the namespace makes mTLS STRICT. Every identity-based rule is then weaker than it looks.",
		Fix: "Once all clients send mTLS, add a PeerAuthentication with mtls.mode STRICT in the root namespace (or in this namespace)."}
	MTLSDisabled = &analysis.Code{ID: "MP2028", Name: "MTLSDisabled", Level: analysis.Warning,
		Doc: "The PeerAuthentication disables mutual TLS (mode DISABLE, for the workload or for a port). That traffic is plaintext and carries no peer identity.",
		Fix: "Use PERMISSIVE while migrating, and STRICT once all clients send mTLS."}
	PortLevelMTLSServicePort = &analysis.Code{ID: "MP2031", Name: "PortLevelMTLSServicePort", Level: analysis.Warning,
		Doc: "A portLevelMtls key is a Service port that forwards to a different container port. PeerAuthentication port keys are container (workload) ports, so the setting does not apply to the traffic meant.",
		Fix: "Key portLevelMtls by the container port (the Service's targetPort)."}
	TokenNotRequired = &analysis.Code{ID: "MP2033", Name: "TokenNotRequired", Level: analysis.Warning,
		Doc: "A RequestAuthentication validates JWTs but no AuthorizationPolicy requires one for its workloads. RequestAuthentication only rejects invalid tokens: requests without any token are still accepted.",
		Fix: "Add an AuthorizationPolicy, for example a DENY with from.source.notRequestPrincipals: [\"*\"], or an ALLOW with requestPrincipals."}
	MultipleRequestAuthentications = &analysis.Code{ID: "MP2034", Name: "MultipleRequestAuthentications", Level: analysis.Warning,
		Doc: "Several RequestAuthentications apply to the same workload. Their JWT rules are combined; a token valid for any of them is accepted, and overlapping issuers make it hard to tell which rule validated a request.",
		Fix: "Merge the jwtRules into a single RequestAuthentication per workload."}
	RequestAuthenticationSelectsNothing = &analysis.Code{ID: "MP2134", Name: "RequestAuthenticationSelectsNothing", Level: analysis.Warning,
		Doc: "The RequestAuthentication's selector matches no workload, so no JWT is validated anywhere by it.",
		Fix: "Correct the selector labels, or move the policy to the workloads' namespace."}
	GatewayWildcardHost = &analysis.Code{ID: "MP2035", Name: "GatewayWildcardHost", Level: analysis.Warning,
		Doc: "A server of an ingress Gateway accepts any host (\"*\"). Every VirtualService bound to the gateway, from any namespace allowed, is then exposed for any Host header, including internal hostnames.",
		Fix: "List the public hostnames the server serves."}
	RelaxedSNIMutualHost = &analysis.Code{ID: "MP2036", Name: "RelaxedSNIMutualHost", Level: analysis.Warning,
		Doc: "The Gateway serves a host with mutual TLS and, on the same port, a SIMPLE TLS wildcard covering it. A client can connect with the SNI of another host under the wildcard (no client certificate needed) and then send Host: of the mutual-TLS host; without a route returning 421 for that case, the request reaches the protected host.",
		Fix: "Add a VirtualService for the mutual-TLS host that returns 421 when the SNI does not match, or give that host its own port or gateway."}
	CaptureExcludedPorts = &analysis.Code{ID: "MP2038", Name: "CaptureExcludedPorts", Level: analysis.Warning,
		Doc: "The workload excludes ports from traffic capture (traffic.sidecar.istio.io/excludeInboundPorts or excludeOutboundPorts). That traffic bypasses the sidecar: no mTLS and no authorization policy apply to it.",
		Fix: "Remove the annotation, or keep only ports whose exposure is intended and protected by other means."}
	WorkloadWithoutProxy = &analysis.Code{ID: "MP2138", Name: "WorkloadWithoutProxy", Level: analysis.Warning,
		Doc: "A workload without a sidecar (and not in ambient mode) runs in a namespace whose other workloads are protected by STRICT mTLS or authorization policies. It enforces none of them, and it cannot reach STRICT workloads.",
		Fix: "Inject the sidecar (remove sidecar.istio.io/inject: \"false\") or move the workload out of the protected namespace."}
	VulnerableIstioVersion = &analysis.Code{ID: "MP2039", Name: "VulnerableIstioVersion", Level: analysis.Error,
		Doc: "The control plane version (from istiod's image tag) has published authorization-bypass vulnerabilities that apply to the path or host rules these policies use.",
		Fix: "Upgrade Istio to a patched release."}
	IstioVersionUnknown = &analysis.Code{ID: "MP2139", Name: "IstioVersionUnknown", Level: analysis.Info,
		Doc: "Policies use path or host rules, whose safety depends on the Istio version, but the version cannot be read from the inputs (no istiod Deployment, or an image without a version tag).",
		Fix: "Include the istiod Deployment in the analyzed inputs, or check the version by hand against Istio's security bulletins."}
)

// Security lists the security checks (MP2xxx).
var Security = []*analysis.Code{
	NoAllowPolicyInScope, AllowAllRule, AllowRuleWithoutSource, AllowRuleWithoutOperation, AnyAuthenticatedPeer,
	BroadWildcard, DenyWithoutRules, AllowWithNegativeMatch, DenyPathVariant,
	RootNamespaceSelectorMeshWide, HTTPFieldsOnTCPPort, DenyHTTPFieldsWithoutPorts,
	PathNormalizationBypass, HostMatchVariant, HostsOnSidecarPolicy, PolicyPortIsServicePort, InvalidMethod,
	IPBlocksBehindSNAT, RemoteIPBlocksUntrusted, RequestPrincipalsWithoutRequestAuthentication,
	DryRunPolicy, CustomActionPolicy, AuditPolicy,
	PlaintextAccepted, MTLSDisabled, PortLevelMTLSServicePort,
	TokenNotRequired, MultipleRequestAuthentications, RequestAuthenticationSelectsNothing,
	GatewayWildcardHost, RelaxedSNIMutualHost, CaptureExcludedPorts, WorkloadWithoutProxy,
	VulnerableIstioVersion, IstioVersionUnknown,
}
