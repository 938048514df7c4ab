// Package codes defines every message code meshpilot reports: the IST codes
// it shares with istioctl (same ID, name and level) and its own MP codes.
package codes

import "github.com/meshpilot/meshpilot/analysis"

// IST codes, as istioctl names them.
var (
	InternalError = analysis.InternalError
	Deprecated    = &analysis.Code{ID: "IST0002", Name: "Deprecated", Level: analysis.Warning,
		Doc: "A feature that the configuration is depending on is now deprecated."}
	ReferencedResourceNotFound = &analysis.Code{ID: "IST0101", Name: "ReferencedResourceNotFound", Level: analysis.Error,
		Doc: "A resource being referenced does not exist."}
	NamespaceNotInjected = &analysis.Code{ID: "IST0102", Name: "NamespaceNotInjected", Level: analysis.Info,
		Doc: "A namespace is not enabled for Istio injection."}
	PodMissingProxy = &analysis.Code{ID: "IST0103", Name: "PodMissingProxy", Level: analysis.Warning,
		Doc: "A pod is missing the Istio proxy."}
	SchemaValidationError = &analysis.Code{ID: "IST0106", Name: "SchemaValidationError", Level: analysis.Error,
		Doc: "The resource has a schema validation error."}
	MisplacedAnnotation = &analysis.Code{ID: "IST0107", Name: "MisplacedAnnotation", Level: analysis.Warning,
		Doc: "An Istio annotation is applied to the wrong kind of resource."}
	UnknownAnnotation = &analysis.Code{ID: "IST0108", Name: "UnknownAnnotation", Level: analysis.Warning,
		Doc: "An Istio annotation is not recognized for any kind of resource"}
	ConflictingMeshGatewayVirtualServiceHosts = &analysis.Code{ID: "IST0109", Name: "ConflictingMeshGatewayVirtualServiceHosts", Level: analysis.Error,
		Doc: "Conflicting hosts on VirtualServices associated with mesh gateway"}
	ConflictingSidecarWorkloadSelectors = &analysis.Code{ID: "IST0110", Name: "ConflictingSidecarWorkloadSelectors", Level: analysis.Error,
		Doc: "A Sidecar resource selects the same workloads as another Sidecar resource"}
	MultipleSidecarsWithoutWorkloadSelectors = &analysis.Code{ID: "IST0111", Name: "MultipleSidecarsWithoutWorkloadSelectors", Level: analysis.Error,
		Doc: "More than one sidecar resource in a namespace has no workload selector"}
	VirtualServiceDestinationPortSelectorRequired = &analysis.Code{ID: "IST0112", Name: "VirtualServiceDestinationPortSelectorRequired", Level: analysis.Error,
		Doc: "A VirtualService routes to a service with more than one port exposed, but does not specify which to use."}
	DeploymentAssociatedToMultipleServices = &analysis.Code{ID: "IST0116", Name: "DeploymentAssociatedToMultipleServices", Level: analysis.Warning,
		Doc: "The resulting pods of a service mesh deployment can't be associated with multiple services using the same port but different protocols."}
	PortNameIsNotUnderNamingConvention = &analysis.Code{ID: "IST0118", Name: "PortNameIsNotUnderNamingConvention", Level: analysis.Info,
		Doc: "Port name is not under naming convention. Protocol detection is applied to the port."}
	NamespaceMultipleInjectionLabels = &analysis.Code{ID: "IST0123", Name: "NamespaceMultipleInjectionLabels", Level: analysis.Warning,
		Doc: "A namespace has more than one type of injection labels"}
	InvalidAnnotation = &analysis.Code{ID: "IST0125", Name: "InvalidAnnotation", Level: analysis.Warning,
		Doc: "An Istio annotation that is not valid"}
	UnknownMeshNetworksServiceRegistry = &analysis.Code{ID: "IST0126", Name: "UnknownMeshNetworksServiceRegistry", Level: analysis.Error,
		Doc: "A service registry in Mesh Networks is unknown"}
	NoMatchingWorkloadsFound = &analysis.Code{ID: "IST0127", Name: "NoMatchingWorkloadsFound", Level: analysis.Warning,
		Doc: "There aren't workloads matching the resource labels"}
	NoServerCertificateVerificationDestinationLevel = &analysis.Code{ID: "IST0128", Name: "NoServerCertificateVerificationDestinationLevel", Level: analysis.Warning,
		Doc: "No caCertificates are set in DestinationRule, this results in no verification of presented server certificate."}
	NoServerCertificateVerificationPortLevel = &analysis.Code{ID: "IST0129", Name: "NoServerCertificateVerificationPortLevel", Level: analysis.Warning,
		Doc: "No caCertificates are set in DestinationRule, this results in no verification of presented server certificate for traffic to a given port."}
	VirtualServiceUnreachableRule = &analysis.Code{ID: "IST0130", Name: "VirtualServiceUnreachableRule", Level: analysis.Warning,
		Doc: "A VirtualService rule will never be used because a previous rule uses the same match."}
	VirtualServiceIneffectiveMatch = &analysis.Code{ID: "IST0131", Name: "VirtualServiceIneffectiveMatch", Level: analysis.Info,
		Doc: "A VirtualService rule match duplicates a match in a previous rule."}
	VirtualServiceHostNotFoundInGateway = &analysis.Code{ID: "IST0132", Name: "VirtualServiceHostNotFoundInGateway", Level: analysis.Warning,
		Doc: "Host defined in VirtualService not found in Gateway."}
	SchemaWarning = &analysis.Code{ID: "IST0133", Name: "SchemaWarning", Level: analysis.Warning,
		Doc: "The resource has a schema validation warning."}
	ServiceEntryAddressesRequired = &analysis.Code{ID: "IST0134", Name: "ServiceEntryAddressesRequired", Level: analysis.Warning,
		Doc: "Virtual IP addresses are required for ports serving TCP (or unset) protocol when PILOT_ENABLE_IP_AUTOALLOCATE is not set on a proxy"}
	DeprecatedAnnotation = &analysis.Code{ID: "IST0135", Name: "DeprecatedAnnotation", Level: analysis.Info,
		Doc: "A resource is using a deprecated Istio annotation."}
	AlphaAnnotation = &analysis.Code{ID: "IST0136", Name: "AlphaAnnotation", Level: analysis.Info,
		Doc: "An Istio annotation may not be suitable for production."}
	DeploymentConflictingPorts = &analysis.Code{ID: "IST0137", Name: "DeploymentConflictingPorts", Level: analysis.Warning,
		Doc: "Two services selecting the same workload with the same targetPort MUST refer to the same port."}
	GatewayDuplicateCertificate = &analysis.Code{ID: "IST0138", Name: "GatewayDuplicateCertificate", Level: analysis.Warning,
		Doc: "Duplicate certificate in multiple gateways may cause 404s if clients re-use HTTP2 connections."}
	InvalidWebhook = &analysis.Code{ID: "IST0139", Name: "InvalidWebhook", Level: analysis.Error,
		Doc: "Webhook is invalid or references a control plane service that does not exist."}
	IngressRouteRulesNotAffected = &analysis.Code{ID: "IST0140", Name: "IngressRouteRulesNotAffected", Level: analysis.Warning,
		Doc: "Route rules have no effect on ingress gateway requests"}
	InsufficientPermissions = &analysis.Code{ID: "IST0141", Name: "InsufficientPermissions", Level: analysis.Error,
		Doc: "Required permissions to install Istio are missing."}
	UnsupportedKubernetesVersion = &analysis.Code{ID: "IST0142", Name: "UnsupportedKubernetesVersion", Level: analysis.Error,
		Doc: "The Kubernetes version is not supported"}
	LocalhostListener = &analysis.Code{ID: "IST0143", Name: "LocalhostListener", Level: analysis.Error,
		Doc: "A port exposed in a Service is bound to a localhost address"}
	InvalidApplicationUID = &analysis.Code{ID: "IST0144", Name: "InvalidApplicationUID", Level: analysis.Warning,
		Doc: "Application pods should not run as user ID (UID) 1337"}
	ConflictingGateways = &analysis.Code{ID: "IST0145", Name: "ConflictingGateways", Level: analysis.Error,
		Doc: "Gateway should not have the same selector, port and matched hosts of server"}
	ImageAutoWithoutInjectionWarning = &analysis.Code{ID: "IST0146", Name: "ImageAutoWithoutInjectionWarning", Level: analysis.Warning,
		Doc: "Deployments with `image: auto` should be targeted for injection."}
	ImageAutoWithoutInjectionError = &analysis.Code{ID: "IST0147", Name: "ImageAutoWithoutInjectionError", Level: analysis.Error,
		Doc: "Pods with `image: auto` should be targeted for injection."}
	NamespaceInjectionEnabledByDefault = &analysis.Code{ID: "IST0148", Name: "NamespaceInjectionEnabledByDefault", Level: analysis.Info,
		Doc: "user namespace should be injectable if Istio is installed with enableNamespacesByDefault enabled and neither injection label is set."}
	JwtClaimBasedRoutingWithoutRequestAuthN = &analysis.Code{ID: "IST0149", Name: "JwtClaimBasedRoutingWithoutRequestAuthN", Level: analysis.Error,
		Doc: "Virtual service using JWT claim based routing without request authentication."}
	ExternalNameServiceTypeInvalidPortName = &analysis.Code{ID: "IST0150", Name: "ExternalNameServiceTypeInvalidPortName", Level: analysis.Warning,
		Doc: "Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly for ExternalName services."}
	EnvoyFilterUsesRelativeOperation = &analysis.Code{ID: "IST0151", Name: "EnvoyFilterUsesRelativeOperation", Level: analysis.Warning,
		Doc: "This EnvoyFilter does not have a priority and has a relative patch operation set which can cause the EnvoyFilter not to be applied. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly."}
	EnvoyFilterUsesReplaceOperationIncorrectly = &analysis.Code{ID: "IST0152", Name: "EnvoyFilterUsesReplaceOperationIncorrectly", Level: analysis.Error,
		Doc: "The REPLACE operation is only valid for HTTP_FILTER and NETWORK_FILTER."}
	EnvoyFilterUsesAddOperationIncorrectly = &analysis.Code{ID: "IST0153", Name: "EnvoyFilterUsesAddOperationIncorrectly", Level: analysis.Error,
		Doc: "The ADD operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE."}
	EnvoyFilterUsesRemoveOperationIncorrectly = &analysis.Code{ID: "IST0154", Name: "EnvoyFilterUsesRemoveOperationIncorrectly", Level: analysis.Error,
		Doc: "The REMOVE operation will be ignored when applyTo is set to ROUTE_CONFIGURATION, or HTTP_ROUTE."}
	EnvoyFilterUsesRelativeOperationWithProxyVersion = &analysis.Code{ID: "IST0155", Name: "EnvoyFilterUsesRelativeOperationWithProxyVersion", Level: analysis.Warning,
		Doc: "This EnvoyFilter does not have a priority and has a relative patch operation (INSERT_BEFORE/AFTER, REPLACE, MERGE, DELETE) and proxyVersion set which can cause the EnvoyFilter not to be applied during an upgrade. Using the INSERT_FIRST or ADD option or setting the priority may help in ensuring the EnvoyFilter is applied correctly."}
	UnsupportedGatewayAPIVersion = &analysis.Code{ID: "IST0156", Name: "UnsupportedGatewayAPIVersion", Level: analysis.Error,
		Doc: "The Gateway API CRD version is not supported"}
	InvalidTelemetryProvider = &analysis.Code{ID: "IST0157", Name: "InvalidTelemetryProvider", Level: analysis.Warning,
		Doc: "The Telemetry with empty providers will be ignored"}
	PodsIstioProxyImageMismatchInNamespace = &analysis.Code{ID: "IST0158", Name: "PodsIstioProxyImageMismatchInNamespace", Level: analysis.Warning,
		Doc: "The Istio proxy image of the pods running in the namespace do not match the image defined in the injection configuration."}
	ConflictingTelemetryWorkloadSelectors = &analysis.Code{ID: "IST0159", Name: "ConflictingTelemetryWorkloadSelectors", Level: analysis.Error,
		Doc: "A Telemetry resource selects the same workloads as another Telemetry resource"}
	MultipleTelemetriesWithoutWorkloadSelectors = &analysis.Code{ID: "IST0160", Name: "MultipleTelemetriesWithoutWorkloadSelectors", Level: analysis.Error,
		Doc: "More than one telemetry resource in a namespace has no workload selector"}
	InvalidGatewayCredential = &analysis.Code{ID: "IST0161", Name: "InvalidGatewayCredential", Level: analysis.Error,
		Doc: "The credential provided for the Gateway resource is invalid"}
	GatewayPortNotDefinedOnService = &analysis.Code{ID: "IST0162", Name: "GatewayPortNotDefinedOnService", Level: analysis.Warning,
		Doc: "Gateway port not exposed by service"}
	InvalidExternalControlPlaneConfig = &analysis.Code{ID: "IST0163", Name: "InvalidExternalControlPlaneConfig", Level: analysis.Warning,
		Doc: "Address for the ingress gateway on the external control plane is not valid"}
	ExternalControlPlaneAddressIsNotAHostname = &analysis.Code{ID: "IST0164", Name: "ExternalControlPlaneAddressIsNotAHostname", Level: analysis.Info,
		Doc: "Address for the ingress gateway on the external control plane is an IP address and not a hostname"}
	ReferencedInternalGateway = &analysis.Code{ID: "IST0165", Name: "ReferencedInternalGateway", Level: analysis.Warning,
		Doc: "VirtualServices should not reference internal Gateways."}
	IneffectiveSelector = &analysis.Code{ID: "IST0166", Name: "IneffectiveSelector", Level: analysis.Warning,
		Doc: "Selector has no effect when applied to Kubernetes Gateways."}
	IneffectivePolicy = &analysis.Code{ID: "IST0167", Name: "IneffectivePolicy", Level: analysis.Warning,
		Doc: "The policy applied has no impact."}
	UnknownUpgradeCompatibility = &analysis.Code{ID: "IST0168", Name: "UnknownUpgradeCompatibility", Level: analysis.Warning,
		Doc: "We cannot automatically detect whether a change is fully compatible or not"}
	UpdateIncompatibility = &analysis.Code{ID: "IST0169", Name: "UpdateIncompatibility", Level: analysis.Warning,
		Doc: "The provided configuration object may be incompatible due to an upgrade"}
	MultiClusterInconsistentService = &analysis.Code{ID: "IST0170", Name: "MultiClusterInconsistentService", Level: analysis.Warning,
		Doc: "The services live in different clusters under multi-cluster deployment model are inconsistent"}
	NegativeConditionStatus = &analysis.Code{ID: "IST0171", Name: "NegativeConditionStatus", Level: analysis.Warning,
		Doc: "A condition with a negative status is present"}
	FutureUnsupportedGatewayAPIVersion = &analysis.Code{ID: "IST0172", Name: "FutureUnsupportedGatewayAPIVersion", Level: analysis.Warning,
		Doc: "The Gateway API CRD version will not be supported in the future"}
	DestinationRuleSubsetNotSelectPods = &analysis.Code{ID: "IST0173", Name: "DestinationRuleSubsetNotSelectPods", Level: analysis.Error,
		Doc: "Subsets defined in destination does not select any pods."}
	UnknownDestinationRuleHost = &analysis.Code{ID: "IST0174", Name: "UnknownDestinationRuleHost", Level: analysis.Warning,
		Doc: "Host defined in destination rule does not match any services in the mesh."}
	JwksUriFetchUnrestricted = &analysis.Code{ID: "IST0175", Name: "JwksUriFetchUnrestricted", Level: analysis.Warning,
		Doc: "RequestAuthentication resources exist but BLOCKED_CIDRS_IN_JWKS_URIS is not configured on istiod."}
	GatewayAPICRDVersionBelowMinimum = &analysis.Code{ID: "IST0176", Name: "GatewayAPICRDVersionBelowMinimum", Level: analysis.Warning,
		Doc: "A Gateway API CRD is installed at a version below the minimum required by this Istio version. Resources of this kind will not be processed."}
	ConflictingServiceEntryProtocol = &analysis.Code{ID: "IST0177", Name: "ConflictingServiceEntryProtocol", Level: analysis.Warning,
		Doc: "Multiple ServiceEntries define the same host and port with conflicting protocols."}
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
