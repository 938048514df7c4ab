// Package codes defines every message code meshpilot reports: the IST codes
// it shares with istioctl (same ID, name and level) and its own MP codes.
package codes

import "github.com/meshpilot/meshpilot/analysis"

// IST codes, as istioctl names them.
var (
	InternalError = analysis.InternalError
	Deprecated    = &analysis.Code{ID: "IST0002", Name: "Deprecated", Level: analysis.Warning,
		Doc: "The resource relies on a field, value or feature that Istio has deprecated. It still works today, but it may change behaviour or stop being honoured in a later release, which would surface as a surprise during an upgrade.",
		Fix: "Move to the replacement the message names (for example the newer field or API version) and remove the deprecated setting before upgrading Istio."}
	ReferencedResourceNotFound = &analysis.Code{ID: "IST0101", Name: "ReferencedResourceNotFound", Level: analysis.Error,
		Doc: "The resource points at another object that does not exist: a Gateway in a VirtualService's gateways list, a destination host, a DestinationRule subset, a Secret in credentialName, a selector with no matching workload and so on. Istio skips or rejects the dangling part, so the traffic it was meant to shape is routed differently or fails (typically 404 or 503).",
		Fix: "Create the missing object, or correct the reference so it names an existing one; remember that short names are resolved in the referring resource's namespace, so cross-namespace references need namespace/name or a fully qualified host."}
	NamespaceNotInjected = &analysis.Code{ID: "IST0102", Name: "NamespaceNotInjected", Level: analysis.Info,
		Doc: "The namespace carries neither the istio-injection label nor an istio.io/rev label, so new pods in it start without a sidecar. Those workloads sit outside the mesh: no mTLS, no routing rules and no authorization policy apply to them.",
		Fix: "If the namespace belongs in the mesh, label it istio-injection=enabled (or istio.io/rev=<revision> for revisioned installs) and restart its workloads; if it is deliberately outside the mesh, label it istio-injection=disabled to make that explicit."}
	PodMissingProxy = &analysis.Code{ID: "IST0103", Name: "PodMissingProxy", Level: analysis.Warning,
		Doc: "A pod in a namespace that is enabled for injection has no istio-proxy container, usually because it was created before the namespace was labelled or injection was turned off for it. Its traffic bypasses the mesh, so mTLS-only peers may reject it and mesh policies do not cover it.",
		Fix: "Restart the owning workload (for example kubectl rollout restart deployment/<name>) so the injector adds the sidecar, and check that the pod template does not set the sidecar.istio.io/inject label or annotation to false."}
	SchemaValidationError = &analysis.Code{ID: "IST0106", Name: "SchemaValidationError", Level: analysis.Error,
		Doc: "The resource breaks Istio's validation rules (a wrong type, a missing required field, an invalid value or combination). istiod's validating webhook would reject it, and if it reaches the cluster anyway (validation bypassed) istiod may skip it, so its configuration cannot be relied on to take effect.",
		Fix: "Correct the field named in the message so it satisfies the API reference for that kind, then re-apply it."}
	MisplacedAnnotation = &analysis.Code{ID: "IST0107", Name: "MisplacedAnnotation", Level: analysis.Warning,
		Doc: "An Istio annotation sits on a kind of object that Istio never reads it from, for example a pod-level sidecar annotation placed on a Service or on the Deployment's own metadata. The setting is silently ignored.",
		Fix: "Move the annotation to the kind the message names; for pod annotations that means spec.template.metadata.annotations of the Deployment, StatefulSet or DaemonSet."}
	UnknownAnnotation = &analysis.Code{ID: "IST0108", Name: "UnknownAnnotation", Level: analysis.Warning,
		Doc: "The object has an annotation in an Istio domain (such as sidecar.istio.io or networking.istio.io) that Istio does not define. It is most often a typo, and it has no effect.",
		Fix: "Correct the annotation key to the spelling in Istio's annotation reference, or delete it if it is not needed."}
	ConflictingMeshGatewayVirtualServiceHosts = &analysis.Code{ID: "IST0109", Name: "ConflictingMeshGatewayVirtualServiceHosts", Level: analysis.Error,
		Doc: "Several VirtualServices bound to the mesh gateway (the sidecars) claim the same host. Istio merges VirtualServices only for ingress gateways, not for sidecars, so one of them is used for that host and the routes in the others are silently dropped.",
		Fix: "Merge the routes into a single VirtualService for the host, give each VirtualService a distinct host, or limit their visibility with exportTo so no namespace sees two of them."}
	ConflictingSidecarWorkloadSelectors = &analysis.Code{ID: "IST0110", Name: "ConflictingSidecarWorkloadSelectors", Level: analysis.Error,
		Doc: "Two or more Sidecar resources in the same namespace have workloadSelector labels that match the same pods. Istio applies only one Sidecar to a workload, so the other's egress, ingress and outbound settings are ignored and which one wins is not something to rely on.",
		Fix: "Make the workloadSelector.labels of the Sidecars select disjoint sets of pods, or combine them into one Sidecar for those workloads."}
	MultipleSidecarsWithoutWorkloadSelectors = &analysis.Code{ID: "IST0111", Name: "MultipleSidecarsWithoutWorkloadSelectors", Level: analysis.Error,
		Doc: "The namespace has more than one Sidecar resource without a workloadSelector. Only one namespace-wide default Sidecar can apply, so the others are ignored and the effective egress scope of every pod in the namespace is ambiguous.",
		Fix: "Keep a single Sidecar without workloadSelector in the namespace; merge the others into it or give them a workloadSelector for the pods they are meant for."}
	VirtualServiceDestinationPortSelectorRequired = &analysis.Code{ID: "IST0112", Name: "VirtualServiceDestinationPortSelectorRequired", Level: analysis.Error,
		Doc: "A VirtualService bound to a gateway routes to a Service that exposes more than one port, but the destination does not say which port. The gateway cannot infer it, so the route is not built and requests through the gateway fail.",
		Fix: "Set route[].destination.port.number (or the matching tcp/tls route destination port) to the Service port the traffic should go to."}
	DeploymentAssociatedToMultipleServices = &analysis.Code{ID: "IST0116", Name: "DeploymentAssociatedToMultipleServices", Level: analysis.Warning,
		Doc: "The workload's pods are selected by several Services that use the same port number with different protocols (for example one names it http, the other tcp). A sidecar builds one inbound listener per port and can apply only one protocol to it, so traffic through one of the Services is handled with the wrong protocol.",
		Fix: "Give the port the same protocol in every Service that selects these pods (port name prefix or appProtocol), or expose the differing protocol on a different port."}
	PortNameIsNotUnderNamingConvention = &analysis.Code{ID: "IST0118", Name: "PortNameIsNotUnderNamingConvention", Level: analysis.Info,
		Doc: "A Service port's name does not follow Istio's <protocol>[-<suffix>] convention and it has no appProtocol, so Istio falls back to automatic protocol detection. Detection adds latency and fails for server-first protocols such as MySQL, where traffic is then treated as opaque TCP without HTTP routing or metrics.",
		Fix: "Declare the protocol explicitly: set spec.ports[].appProtocol (for example http, grpc or tcp) or rename the port to a name like http-web or tcp-db."}
	NamespaceMultipleInjectionLabels = &analysis.Code{ID: "IST0123", Name: "NamespaceMultipleInjectionLabels", Level: analysis.Warning,
		Doc: "The namespace has both the istio-injection label and an istio.io/rev label. istio-injection takes precedence, so the revision label is ignored and pods may be injected by a different control plane revision than intended, which matters during canary upgrades.",
		Fix: "Keep only one: remove istio-injection to use revision-based injection with istio.io/rev, or remove istio.io/rev to use the default revision."}
	InvalidAnnotation = &analysis.Code{ID: "IST0125", Name: "InvalidAnnotation", Level: analysis.Warning,
		Doc: "An Istio annotation is recognised but its value is not valid (for example a malformed port list, quantity or boolean). The proxy or injector will ignore it or fail to apply it, so the behaviour it was meant to change does not happen.",
		Fix: "Correct the annotation value to the format documented for that annotation in Istio's annotation reference."}
	UnknownMeshNetworksServiceRegistry = &analysis.Code{ID: "IST0126", Name: "UnknownMeshNetworksServiceRegistry", Level: analysis.Error,
		Doc: "The meshNetworks configuration lists an endpoint fromRegistry that does not match any known cluster registry. Endpoints from that cluster are not assigned to the intended network, so cross-network traffic is not sent through the east-west gateway and fails.",
		Fix: "Change networks.<name>.endpoints[].fromRegistry to the cluster ID actually used by that cluster (the clusterName set at install and in its remote secret)."}
	NoMatchingWorkloadsFound = &analysis.Code{ID: "IST0127", Name: "NoMatchingWorkloadsFound", Level: analysis.Warning,
		Doc: "The resource's workload selector (selector.matchLabels or workloadSelector.labels) matches no pod or WorkloadEntry in its namespace. The policy therefore applies to nothing; a DENY or ALLOW rule you expect to be enforced is in fact inactive.",
		Fix: "Correct the selector labels to match the target pods' labels, or move the resource into the namespace where those workloads run."}
	NoServerCertificateVerificationDestinationLevel = &analysis.Code{ID: "IST0128", Name: "NoServerCertificateVerificationDestinationLevel", Level: analysis.Warning,
		Doc: "The DestinationRule originates TLS (trafficPolicy.tls.mode SIMPLE or MUTUAL) but gives no CA to check the server against. The proxy encrypts the connection without verifying the upstream's certificate, so a man-in-the-middle could impersonate the server.",
		Fix: "Set trafficPolicy.tls.caCertificates (or a credentialName whose Secret holds the CA) and, ideally, sni and subjectAltNames so the server's identity is checked."}
	NoServerCertificateVerificationPortLevel = &analysis.Code{ID: "IST0129", Name: "NoServerCertificateVerificationPortLevel", Level: analysis.Warning,
		Doc: "A port-level TLS setting in the DestinationRule originates TLS (SIMPLE or MUTUAL) without a CA, so for traffic to that port the proxy accepts any server certificate. The connection is encrypted but the server is not authenticated.",
		Fix: "Add caCertificates (or credentialName) to trafficPolicy.portLevelSettings[].tls for that port, together with sni and subjectAltNames where possible."}
	VirtualServiceUnreachableRule = &analysis.Code{ID: "IST0130", Name: "VirtualServiceUnreachableRule", Level: analysis.Warning,
		Doc: "A route rule in the VirtualService can never be selected because an earlier rule matches the same requests (or matches everything). Routes are evaluated in order and the first match wins, so the later rule is dead configuration and traffic you meant for it goes elsewhere.",
		Fix: "Reorder the http/tcp/tls routes so more specific matches come before general ones, or delete the unreachable rule."}
	VirtualServiceIneffectiveMatch = &analysis.Code{ID: "IST0131", Name: "VirtualServiceIneffectiveMatch", Level: analysis.Info,
		Doc: "One of the match conditions in a VirtualService rule duplicates a condition of an earlier rule, so that condition can never select this rule. The rest of the rule may still work, but the configuration does not do what it appears to.",
		Fix: "Remove the duplicated match entry, or move the rule above the earlier one if it was meant to take priority."}
	VirtualServiceHostNotFoundInGateway = &analysis.Code{ID: "IST0132", Name: "VirtualServiceHostNotFoundInGateway", Level: analysis.Warning,
		Doc: "The VirtualService is bound to a Gateway, but none of its hosts is listed in any of that Gateway's servers[].hosts. The gateway does not attach the VirtualService for those hosts, so requests to them get 404 at the gateway.",
		Fix: "Add the host to the Gateway's servers[].hosts (or use a matching wildcard), or correct the VirtualService's hosts to one the Gateway serves."}
	SchemaWarning = &analysis.Code{ID: "IST0133", Name: "SchemaWarning", Level: analysis.Warning,
		Doc: "The resource is accepted by validation but uses something Istio warns about, such as a deprecated field or a setting that is likely to behave differently from what was intended. It still applies, but the result may be surprising or may change in a future release.",
		Fix: "Follow the message: switch to the recommended field or value and remove the flagged setting."}
	ServiceEntryAddressesRequired = &analysis.Code{ID: "IST0134", Name: "ServiceEntryAddressesRequired", Level: analysis.Warning,
		Doc: "A ServiceEntry has a port with protocol TCP (or none) but no addresses, and proxies are not allocating virtual IPs automatically. Without an address the sidecar listens on 0.0.0.0 for that port, so all outbound traffic on the port is matched to this entry whatever its destination host, which can misroute unrelated traffic.",
		Fix: "Set spec.addresses to the service's IPs or CIDRs, use a protocol the proxy can route by name (HTTP, or TLS via SNI), or enable automatic address allocation (DNS proxying with auto-allocation on the proxies)."}
	DeprecatedAnnotation = &analysis.Code{ID: "IST0135", Name: "DeprecatedAnnotation", Level: analysis.Info,
		Doc: "The object uses an Istio annotation that is deprecated. It may still be honoured, but it is scheduled for removal and may stop working after an upgrade.",
		Fix: "Replace it with the annotation, label or API field that supersedes it (named in Istio's annotation reference), then remove the old annotation."}
	AlphaAnnotation = &analysis.Code{ID: "IST0136", Name: "AlphaAnnotation", Level: analysis.Info,
		Doc: "The object uses an Istio annotation whose feature is at alpha maturity. Its behaviour may change or it may be removed without the usual deprecation period, so relying on it in production is risky.",
		Fix: "Confirm the alpha feature is needed; otherwise remove the annotation or use a stable alternative."}
	DeploymentConflictingPorts = &analysis.Code{ID: "IST0137", Name: "DeploymentConflictingPorts", Level: analysis.Warning,
		Doc: "Two Services select the same workload and map to the same targetPort but declare it with different service ports. Istio generates inbound configuration per target port and expects a single service port for it, so one Service's traffic can be mishandled.",
		Fix: "Use the same port number for that targetPort in every Service that selects the workload, or point the Services at different targetPorts."}
	GatewayDuplicateCertificate = &analysis.Code{ID: "IST0138", Name: "GatewayDuplicateCertificate", Level: analysis.Warning,
		Doc: "Several Gateway servers for different hosts use the same TLS certificate. HTTP/2 clients such as browsers reuse one connection for every host the certificate covers, so a request for host B can arrive on a connection matched to host A's server, which has no route for B and answers 404.",
		Fix: "Serve those hosts from one Gateway server that lists them all under hosts, or give each server its own certificate (distinct credentialName) covering only its hosts."}
	InvalidWebhook = &analysis.Code{ID: "IST0139", Name: "InvalidWebhook", Level: analysis.Error,
		Doc: "An Istio mutating or validating webhook configuration is broken: it points at a control plane Service that does not exist, or its namespace and object selectors overlap with another injector so one pod could be injected twice. Injection or validation then fails or is done by the wrong revision.",
		Fix: "Correct webhooks[].clientConfig.service to the running istiod Service, and make namespaceSelector/objectSelector of the revision webhooks disjoint (remove stale webhooks left by old revisions)."}
	IngressRouteRulesNotAffected = &analysis.Code{ID: "IST0140", Name: "IngressRouteRulesNotAffected", Level: analysis.Warning,
		Doc: "A VirtualService bound to a gateway sends traffic to a host without a subset, while a separate VirtualService for that host (bound only to the mesh) splits it by subset. A gateway only uses VirtualServices bound to it, so requests entering through the gateway reach every version of the service instead of the intended subset.",
		Fix: "Add the subset (destination.subset) to the gateway-bound VirtualService's routes, or add the gateway to the gateways list of the VirtualService that holds the subset rules (keeping mesh if sidecars should still use it)."}
	InsufficientPermissions = &analysis.Code{ID: "IST0141", Name: "InsufficientPermissions", Level: analysis.Error,
		Doc: "Reported by istioctl's pre-installation check (istioctl x precheck), not by configuration analysis: the Kubernetes identity running the check lacks RBAC permission to create some of the resources an Istio install needs (CRDs, cluster roles, webhook configurations, namespaced objects). An install attempted with these credentials would fail part-way.",
		Fix: "Run the install as a user or service account with cluster-admin rights, or grant the missing verbs on the resource kinds listed in the message through a ClusterRole and ClusterRoleBinding."}
	UnsupportedKubernetesVersion = &analysis.Code{ID: "IST0142", Name: "UnsupportedKubernetesVersion", Level: analysis.Error,
		Doc: "Reported by istioctl's pre-installation check (istioctl x precheck): the cluster's Kubernetes version is older than the minimum this Istio release supports. Istio relies on Kubernetes APIs that may be missing or behave differently there, so the control plane may fail to start or misbehave.",
		Fix: "Upgrade the cluster to a Kubernetes version listed as supported for this Istio release, or install an older Istio release that supports the current cluster version."}
	LocalhostListener = &analysis.Code{ID: "IST0143", Name: "LocalhostListener", Level: analysis.Error,
		Doc: "Reported by istioctl's precheck, which inspects the listening sockets of running pods: an application listens only on localhost for a port that a Service exposes. Since Istio 1.10 the sidecar forwards inbound traffic to the pod's network interface, as plain Kubernetes does, so other pods can no longer reach that port.",
		Fix: "Make the application bind to 0.0.0.0 (or ::) instead of 127.0.0.1; if it must stay on localhost, add a Sidecar with an ingress listener whose defaultEndpoint is 127.0.0.1:<port>, or remove the port from the Service if it was never meant to be reachable."}
	InvalidApplicationUID = &analysis.Code{ID: "IST0144", Name: "InvalidApplicationUID", Level: analysis.Warning,
		Doc: "An application container runs as user ID 1337, the UID reserved for the Istio proxy. Istio's traffic redirection exempts traffic from that UID, so the application's outbound traffic bypasses the sidecar entirely: no mTLS, routing or policy, and the pod may misbehave.",
		Fix: "Change securityContext.runAsUser of the application container (and the pod's securityContext) to any UID other than 1337."}
	ConflictingGateways = &analysis.Code{ID: "IST0145", Name: "ConflictingGateways", Level: analysis.Error,
		Doc: "Two Gateway resources select the same gateway workload and define servers on the same port with overlapping hosts. The gateway can serve that host and port combination from only one of them, so the other server's configuration (TLS settings, bound VirtualServices) is silently ignored.",
		Fix: "Merge the servers into one Gateway, or make servers[].hosts disjoint, or use a different port.number or selector for one of the Gateways."}
	ImageAutoWithoutInjectionWarning = &analysis.Code{ID: "IST0146", Name: "ImageAutoWithoutInjectionWarning", Level: analysis.Warning,
		Doc: "A Deployment uses the placeholder image: auto, which only the Istio injector replaces with the real proxy image (the pattern used for injected gateway deployments), but the Deployment is not targeted for injection. Its pods would be created with the literal image name auto and fail to pull.",
		Fix: "Enable injection for the Deployment: label its namespace istio-injection=enabled or istio.io/rev=<revision>, or set the sidecar.istio.io/inject: \"true\" label on the pod template (with the gateway template annotation for gateways)."}
	ImageAutoWithoutInjectionError = &analysis.Code{ID: "IST0147", Name: "ImageAutoWithoutInjectionError", Level: analysis.Error,
		Doc: "A Pod has a container with image: auto but was not injected, so the placeholder was never replaced. The container cannot start because no image named auto exists (ImagePullBackOff).",
		Fix: "Enable injection for the pod (namespace label istio-injection=enabled or istio.io/rev, or the sidecar.istio.io/inject: \"true\" pod label) and recreate it, or set a real proxy image."}
	NamespaceInjectionEnabledByDefault = &analysis.Code{ID: "IST0148", Name: "NamespaceInjectionEnabledByDefault", Level: analysis.Info,
		Doc: "Istio is installed with injection enabled for all namespaces by default (sidecarInjectorWebhook.enableNamespacesByDefault), and this namespace has no injection label. Its pods will get sidecars even though nothing in the namespace says so.",
		Fix: "Label the namespace explicitly: istio-injection=enabled (or istio.io/rev) if it should be in the mesh, istio-injection=disabled if it should not."}
	JwtClaimBasedRoutingWithoutRequestAuthN = &analysis.Code{ID: "IST0149", Name: "JwtClaimBasedRoutingWithoutRequestAuthN", Level: analysis.Error,
		Doc: "A VirtualService matches on JWT claims (headers keys of the form @request.auth.claims.<name>) but no RequestAuthentication applies to the gateway workload that serves it. Claims are only available after the proxy validates a token, so the match never succeeds and those routes are never taken.",
		Fix: "Create a RequestAuthentication whose selector (or targetRef) covers the gateway pods, with jwtRules for the issuer of the tokens being routed on."}
	ExternalNameServiceTypeInvalidPortName = &analysis.Code{ID: "IST0150", Name: "ExternalNameServiceTypeInvalidPortName", Level: analysis.Warning,
		Doc: "A Service of type ExternalName has a port that is unnamed, named tcp or not following the <protocol>[-suffix] convention. ExternalName services have no cluster IP, so for plain TCP the proxy has neither an IP nor a hostname to route on, and traffic may not be forwarded correctly.",
		Fix: "Name the port for a protocol that carries the host name, such as https or tls (SNI) or http, for example spec.ports[].name: tls; or set appProtocol accordingly."}
	EnvoyFilterUsesRelativeOperation = &analysis.Code{ID: "IST0151", Name: "EnvoyFilterUsesRelativeOperation", Level: analysis.Warning,
		Doc: "An EnvoyFilter patch uses a relative operation (such as INSERT_BEFORE, INSERT_AFTER or REPLACE) that depends on another filter being present, and the EnvoyFilter has no priority. EnvoyFilters of equal priority are applied in creation order, so if the one it depends on is applied later the patch finds nothing and is silently skipped.",
		Fix: "Set spec.priority so this EnvoyFilter is ordered after the ones it depends on, or use an operation that does not depend on others, such as INSERT_FIRST or ADD."}
	EnvoyFilterUsesReplaceOperationIncorrectly = &analysis.Code{ID: "IST0152", Name: "EnvoyFilterUsesReplaceOperationIncorrectly", Level: analysis.Error,
		Doc: "An EnvoyFilter patch uses operation REPLACE with an applyTo other than HTTP_FILTER or NETWORK_FILTER. Istio only supports REPLACE for those two, so the patch is ignored.",
		Fix: "Use MERGE to change other kinds of objects, or change applyTo to HTTP_FILTER or NETWORK_FILTER if a filter was meant to be replaced."}
	EnvoyFilterUsesAddOperationIncorrectly = &analysis.Code{ID: "IST0153", Name: "EnvoyFilterUsesAddOperationIncorrectly", Level: analysis.Error,
		Doc: "An EnvoyFilter patch uses operation ADD with applyTo ROUTE_CONFIGURATION or HTTP_ROUTE. Istio ignores ADD for these, so the patch has no effect.",
		Fix: "Use MERGE for ROUTE_CONFIGURATION; for HTTP_ROUTE use INSERT_FIRST, INSERT_BEFORE or INSERT_AFTER, or ADD a route by patching at the VIRTUAL_HOST level instead."}
	EnvoyFilterUsesRemoveOperationIncorrectly = &analysis.Code{ID: "IST0154", Name: "EnvoyFilterUsesRemoveOperationIncorrectly", Level: analysis.Error,
		Doc: "An EnvoyFilter patch uses operation REMOVE with applyTo ROUTE_CONFIGURATION or HTTP_ROUTE. istioctl reports that Istio ignores REMOVE for these, so the object stays in place.",
		Fix: "Remove the enclosing object instead (for example the VIRTUAL_HOST), or use MERGE to change the route configuration rather than delete it."}
	EnvoyFilterUsesRelativeOperationWithProxyVersion = &analysis.Code{ID: "IST0155", Name: "EnvoyFilterUsesRelativeOperationWithProxyVersion", Level: analysis.Warning,
		Doc: "An EnvoyFilter without priority uses a relative operation (INSERT_BEFORE/AFTER, REPLACE, MERGE or REMOVE) and restricts itself with match.proxy.proxyVersion. During an upgrade the proxies' version changes, the filters it depends on may be recreated or reordered, and the patch may silently stop applying.",
		Fix: "Set spec.priority, prefer INSERT_FIRST or ADD, and review proxyVersion matches before every Istio upgrade."}
	UnsupportedGatewayAPIVersion = &analysis.Code{ID: "IST0156", Name: "UnsupportedGatewayAPIVersion", Level: analysis.Error,
		Doc: "Reported by istioctl's pre-installation check (istioctl x precheck): the installed Kubernetes Gateway API CRDs are older than this Istio release supports (they do not serve the API version Istio needs for Gateway, GatewayClass, HTTPRoute or ReferenceGrant). Istio cannot use those resources, so Gateway API traffic configuration would not be programmed.",
		Fix: "Install a Gateway API CRD release supported by this Istio version (see Istio's Kubernetes Gateway API page for the exact kubectl apply command) before installing or upgrading Istio."}
	InvalidTelemetryProvider = &analysis.Code{ID: "IST0157", Name: "InvalidTelemetryProvider", Level: analysis.Warning,
		Doc: "A Telemetry resource configures metrics, tracing or access logging without naming any providers, and the mesh has no default provider for that kind of telemetry. With nothing to send it to, that part of the Telemetry resource is ignored.",
		Fix: "List providers[].name in the Telemetry (names defined in meshConfig.extensionProviders, or built-ins such as prometheus or envoy), or set meshConfig.defaultProviders for that telemetry type."}
	PodsIstioProxyImageMismatchInNamespace = &analysis.Code{ID: "IST0158", Name: "PodsIstioProxyImageMismatchInNamespace", Level: analysis.Warning,
		Doc: "Pods in the namespace run an istio-proxy image that differs from the one the injector would use now, typically because Istio was upgraded and the pods were not restarted. Those proxies run an older version than the control plane, missing fixes and risking version-skew problems.",
		Fix: "Restart the affected workloads (kubectl rollout restart) so they are re-injected with the current proxy image, and check the namespace's istio.io/rev label points at the intended revision."}
	ConflictingTelemetryWorkloadSelectors = &analysis.Code{ID: "IST0159", Name: "ConflictingTelemetryWorkloadSelectors", Level: analysis.Error,
		Doc: "Two or more Telemetry resources in the namespace have selectors that match the same workloads. Only one workload-level Telemetry is applied to a workload, so the settings in the other are ignored and the effective telemetry is unpredictable.",
		Fix: "Make the selector.matchLabels of the Telemetry resources disjoint, or merge them into one Telemetry for those workloads."}
	MultipleTelemetriesWithoutWorkloadSelectors = &analysis.Code{ID: "IST0160", Name: "MultipleTelemetriesWithoutWorkloadSelectors", Level: analysis.Error,
		Doc: "The namespace has more than one Telemetry resource without a selector. Only one can act as the namespace-wide default, so the others are ignored and which settings take effect is ambiguous.",
		Fix: "Keep a single selector-less Telemetry in the namespace; merge the others into it or give them a selector."}
	InvalidGatewayCredential = &analysis.Code{ID: "IST0161", Name: "InvalidGatewayCredential", Level: analysis.Error,
		Doc: "A Gateway server's tls.credentialName refers to a Secret that is missing from the gateway workload's namespace, or that does not hold a valid certificate and key. The gateway cannot load the credential, so TLS handshakes for that server fail.",
		Fix: "Create or fix the Secret in the namespace where the gateway pods run (for example kubectl create secret tls <name> --cert=... --key=... -n <gateway-namespace>) and make sure credentialName matches its name."}
	GatewayPortNotDefinedOnService = &analysis.Code{ID: "IST0162", Name: "GatewayPortNotDefinedOnService", Level: analysis.Warning,
		Doc: "A Gateway server listens on a port number that the Service in front of the gateway pods does not expose as a targetPort. The gateway's Envoy will listen there, but no traffic arriving through the Service can reach that listener.",
		Fix: "Add a port to the gateway Service whose targetPort equals the Gateway's servers[].port.number, or change port.number to a targetPort the Service already forwards."}
	InvalidExternalControlPlaneConfig = &analysis.Code{ID: "IST0163", Name: "InvalidExternalControlPlaneConfig", Level: analysis.Warning,
		Doc: "In an external control plane setup, the address that the injection or validation webhooks use to reach istiod through the external cluster's ingress gateway is empty, malformed, or does not resolve to any IP. Sidecar injection and config validation in the remote cluster then fail.",
		Fix: "Set webhooks[].clientConfig.url in the MutatingWebhookConfiguration and ValidatingWebhookConfiguration to a resolvable hostname of the external control plane's ingress gateway (usually via the install's remotePilotAddress / injection URL values)."}
	ExternalControlPlaneAddressIsNotAHostname = &analysis.Code{ID: "IST0164", Name: "ExternalControlPlaneAddressIsNotAHostname", Level: analysis.Info,
		Doc: "In an external control plane setup, the webhooks reach the external istiod's ingress gateway through an IP address rather than a hostname. This works, but an IP is more fragile (it changes if the load balancer is recreated) and is not the recommended setup for production.",
		Fix: "Give the ingress gateway a DNS name and use it in webhooks[].clientConfig.url of the Istio webhook configurations."}
	ReferencedInternalGateway = &analysis.Code{ID: "IST0165", Name: "ReferencedInternalGateway", Level: analysis.Warning,
		Doc: "A VirtualService lists in its gateways an internal Gateway that Istio generates from a Kubernetes Gateway API Gateway (its name contains istio-autogenerated-k8s-gateway). Such objects are an implementation detail whose names can change, so the binding may break without warning.",
		Fix: "Route through the Kubernetes Gateway with an HTTPRoute (or other Gateway API route) whose parentRefs name it, or create an Istio Gateway resource and reference that from the VirtualService."}
	IneffectiveSelector = &analysis.Code{ID: "IST0166", Name: "IneffectiveSelector", Level: analysis.Warning,
		Doc: "A policy such as AuthorizationPolicy, RequestAuthentication, Telemetry or WasmPlugin uses a workload selector that matches the pods of a Kubernetes Gateway API Gateway. Istio expects policies for those gateways to attach through targetRef(s), so the selector-based attachment should not be relied on to take effect.",
		Fix: "Replace spec.selector with spec.targetRefs (group gateway.networking.k8s.io, kind Gateway, name of the Gateway)."}
	IneffectivePolicy = &analysis.Code{ID: "IST0167", Name: "IneffectivePolicy", Level: analysis.Warning,
		Doc: "The policy cannot influence anything given how its targets run, for example a Sidecar resource that targets a namespace or workload enrolled in ambient mode, where there is no sidecar proxy to configure. The settings in it are silently unused.",
		Fix: "Delete the policy if it is left over from a sidecar-mode setup, or retarget it (or use the ambient equivalent, such as a waypoint-attached policy) so it applies to workloads that can enforce it."}
	UnknownUpgradeCompatibility = &analysis.Code{ID: "IST0168", Name: "UnknownUpgradeCompatibility", Level: analysis.Warning,
		Doc: "Reported by istioctl's upgrade precheck (istioctl x precheck): the target Istio version changes behaviour in an area this configuration touches, and the tool cannot tell automatically whether your setup is affected. The upgrade may or may not change how traffic is handled.",
		Fix: "Read the upgrade notes for the change the message names, check the flagged configuration by hand, and if needed pin the old behaviour with the compatibility setting the notes mention before upgrading."}
	UpdateIncompatibility = &analysis.Code{ID: "IST0169", Name: "UpdateIncompatibility", Level: analysis.Warning,
		Doc: "Reported by istioctl's upgrade precheck (istioctl x precheck): the named object relies on behaviour that changes in the target Istio version, so after the upgrade it is likely to work differently than it does today.",
		Fix: "Adjust the object as the upgrade notes describe, or keep the previous behaviour with the compatibility version or feature flag they mention, before upgrading."}
	MultiClusterInconsistentService = &analysis.Code{ID: "IST0170", Name: "MultiClusterInconsistentService", Level: analysis.Warning,
		Doc: "In a multicluster mesh, a Service with the same name and namespace is defined differently across clusters (its type, its ports, or whether it is headless). Istio treats these as one service, so with conflicting definitions the resulting routing and load balancing are undefined.",
		Fix: "Make the Service identical in every cluster: same spec.type, same spec.ports (names, numbers, protocols) and the same clusterIP: None choice."}
	NegativeConditionStatus = &analysis.Code{ID: "IST0171", Name: "NegativeConditionStatus", Level: analysis.Warning,
		Doc: "The resource's status carries a condition reporting a problem, for example a Gateway API Gateway or HTTPRoute that is not Accepted, Programmed or with unresolved references, an AuthorizationPolicy not accepted by ztunnel or a waypoint, or a Service not bound to its waypoint. The controller is telling you the configuration is not (fully) in effect.",
		Fix: "Read the condition's reason and message in status.conditions and fix the resource or whatever it references accordingly."}
	FutureUnsupportedGatewayAPIVersion = &analysis.Code{ID: "IST0172", Name: "FutureUnsupportedGatewayAPIVersion", Level: analysis.Warning,
		Doc: "Reported by istioctl's pre-installation check (istioctl x precheck): the installed Gateway API CRDs work with this Istio release but do not serve the API version (v1) that upcoming Istio releases will require. A later upgrade would leave Gateway API resources unprocessed.",
		Fix: "Upgrade the Gateway API CRDs to a release that serves v1 for Gateway, GatewayClass, HTTPRoute and GRPCRoute, and move your manifests to that version."}
	DestinationRuleSubsetNotSelectPods = &analysis.Code{ID: "IST0173", Name: "DestinationRuleSubsetNotSelectPods", Level: analysis.Error,
		Doc: "A DestinationRule subset's labels match none of the pods behind its host. Any route that sends traffic to that subset has no endpoints, so those requests fail with 503 (no healthy upstream).",
		Fix: "Correct subsets[].labels to labels the target pods actually carry (for example version: v2), or deploy the workload version the subset describes."}
	UnknownDestinationRuleHost = &analysis.Code{ID: "IST0174", Name: "UnknownDestinationRuleHost", Level: analysis.Warning,
		Doc: "The DestinationRule's host matches no Service or ServiceEntry known to the mesh. Its traffic policy and subsets attach to nothing and have no effect.",
		Fix: "Correct spec.host to an existing service (short names resolve in the DestinationRule's namespace, so prefer the FQDN), or create a ServiceEntry for an external host."}
	JwksUriFetchUnrestricted = &analysis.Code{ID: "IST0175", Name: "JwksUriFetchUnrestricted", Level: analysis.Warning,
		Doc: "RequestAuthentication resources exist, and istiod fetches the JWKS from each jwksUri, but istiod has no BLOCKED_CIDRS_IN_JWKS_URIS set. Anyone allowed to create a RequestAuthentication can make istiod send requests to any address, including internal services and cloud metadata endpoints.",
		Fix: "Set the BLOCKED_CIDRS_IN_JWKS_URIS environment variable on istiod (for example through values.pilot.env) to a comma-separated list of CIDRs istiod must not contact, such as internal ranges and 169.254.169.254/32."}
	GatewayAPICRDVersionBelowMinimum = &analysis.Code{ID: "IST0176", Name: "GatewayAPICRDVersionBelowMinimum", Level: analysis.Warning,
		Doc: "A Kubernetes Gateway API CRD is installed at a bundle version (its gateway.networking.k8s.io/bundle-version annotation) below the minimum this Istio version needs for that kind. Istio does not process resources of that kind, so those routes or gateways are silently not programmed.",
		Fix: "Upgrade the Gateway API CRDs to at least the minimum version the message names, using the install command from Istio's Kubernetes Gateway API documentation."}
	ConflictingServiceEntryProtocol = &analysis.Code{ID: "IST0177", Name: "ConflictingServiceEntryProtocol", Level: analysis.Warning,
		Doc: "Several ServiceEntries visible in the same namespace define the same host and port with different protocols. Istio can use only one protocol for a host and port, so traffic may be handled as a protocol you did not intend (for example TLS passthrough instead of HTTP).",
		Fix: "Use the same ports[].protocol for that port in every ServiceEntry for the host, or define the host in a single ServiceEntry."}
)

// IST lists every IST code in order.
var IST = []*analysis.Code{
	InternalError,
	Deprecated,
	ReferencedResourceNotFound,
	NamespaceNotInjected,
	PodMissingProxy,
	SchemaValidationError,
	MisplacedAnnotation,
	UnknownAnnotation,
	ConflictingMeshGatewayVirtualServiceHosts,
	ConflictingSidecarWorkloadSelectors,
	MultipleSidecarsWithoutWorkloadSelectors,
	VirtualServiceDestinationPortSelectorRequired,
	DeploymentAssociatedToMultipleServices,
	PortNameIsNotUnderNamingConvention,
	NamespaceMultipleInjectionLabels,
	InvalidAnnotation,
	UnknownMeshNetworksServiceRegistry,
	NoMatchingWorkloadsFound,
	NoServerCertificateVerificationDestinationLevel,
	NoServerCertificateVerificationPortLevel,
	VirtualServiceUnreachableRule,
	VirtualServiceIneffectiveMatch,
	VirtualServiceHostNotFoundInGateway,
	SchemaWarning,
	ServiceEntryAddressesRequired,
	DeprecatedAnnotation,
	AlphaAnnotation,
	DeploymentConflictingPorts,
	GatewayDuplicateCertificate,
	InvalidWebhook,
	IngressRouteRulesNotAffected,
	InsufficientPermissions,
	UnsupportedKubernetesVersion,
	LocalhostListener,
	InvalidApplicationUID,
	ConflictingGateways,
	ImageAutoWithoutInjectionWarning,
	ImageAutoWithoutInjectionError,
	NamespaceInjectionEnabledByDefault,
	JwtClaimBasedRoutingWithoutRequestAuthN,
	ExternalNameServiceTypeInvalidPortName,
	EnvoyFilterUsesRelativeOperation,
	EnvoyFilterUsesReplaceOperationIncorrectly,
	EnvoyFilterUsesAddOperationIncorrectly,
	EnvoyFilterUsesRemoveOperationIncorrectly,
	EnvoyFilterUsesRelativeOperationWithProxyVersion,
	UnsupportedGatewayAPIVersion,
	InvalidTelemetryProvider,
	PodsIstioProxyImageMismatchInNamespace,
	ConflictingTelemetryWorkloadSelectors,
	MultipleTelemetriesWithoutWorkloadSelectors,
	InvalidGatewayCredential,
	GatewayPortNotDefinedOnService,
	InvalidExternalControlPlaneConfig,
	ExternalControlPlaneAddressIsNotAHostname,
	ReferencedInternalGateway,
	IneffectiveSelector,
	IneffectivePolicy,
	UnknownUpgradeCompatibility,
	UpdateIncompatibility,
	MultiClusterInconsistentService,
	NegativeConditionStatus,
	FutureUnsupportedGatewayAPIVersion,
	DestinationRuleSubsetNotSelectPods,
	UnknownDestinationRuleHost,
	JwksUriFetchUnrestricted,
	GatewayAPICRDVersionBelowMinimum,
	ConflictingServiceEntryProtocol,
}
