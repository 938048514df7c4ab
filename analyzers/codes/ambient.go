package codes

import "github.com/meshpilot/meshpilot/analysis"

func ambientCode(id, name string, level analysis.Level, doc, fix string, equivalents ...string) *analysis.Code {
	return &analysis.Code{ID: id, Name: name, Level: level, Doc: doc, Fix: fix, Equivalents: equivalents}
}

// Ambient enrolment: how namespaces and workloads join ambient mode and waypoints.
var (
	AmbientNamespaceWithInjection = ambientCode("MP4001", "AmbientNamespaceWithInjection", analysis.Warning,
		"The namespace is labelled istio.io/dataplane-mode=ambient and also enables sidecar injection (istio-injection=enabled or istio.io/rev). Injection wins: new pods get a sidecar and ztunnel leaves them alone, so the namespace is not in ambient mode as its label suggests.",
		"Choose one data plane: remove istio-injection / istio.io/rev to run in ambient mode, or remove istio.io/dataplane-mode to keep sidecars.")
	AmbientWorkloadSidecarAndAmbient = ambientCode("MP4002", "AmbientWorkloadSidecarAndAmbient", analysis.Error,
		"The workload is enrolled in ambient mode (its own or its namespace's istio.io/dataplane-mode=ambient) and enabled for sidecar injection (its own sidecar.istio.io/inject=true, or its namespace's injection label). The two data planes are exclusive; which one the pods end up in depends on label precedence, not on intent.",
		"Remove one of the two enrolments from the workload's pod template or its namespace; to exclude a single workload from ambient mode label it istio.io/dataplane-mode=none.",
		"KIA1311")
	AmbientWaypointWithoutAmbient = ambientCode("MP4003", "AmbientWaypointWithoutAmbient", analysis.Warning,
		"The workload asks for a waypoint (istio.io/use-waypoint on itself or its namespace) but is not in ambient mode. Only ambient traffic is sent through waypoints, so the label has no effect and the L7 policies it was meant to bring in do not apply.",
		"Enrol the workload or namespace in ambient mode (istio.io/dataplane-mode=ambient, without sidecar injection), or remove the istio.io/use-waypoint label.",
		"KIA1312")
	AmbientWaypointNotFound = ambientCode("MP4004", "AmbientWaypointNotFound", analysis.Error,
		"istio.io/use-waypoint names a waypoint that does not exist: no Gateway API Gateway of that name with gatewayClassName istio-waypoint in the namespace it is looked up in (the resource's own, or istio.io/use-waypoint-namespace). Traffic that should go through the waypoint is not redirected, or cannot be delivered, and its L7 policies are not enforced.",
		"Create the waypoint (istioctl waypoint apply, or a Gateway with gatewayClassName istio-waypoint) or correct the label, and set istio.io/use-waypoint-namespace when the waypoint lives in another namespace.",
		"KIA1313")
	AmbientRedirectedPodWithSidecarLabel = ambientCode("MP4005", "AmbientRedirectedPodWithSidecarLabel", analysis.Error,
		"The pod's traffic is redirected to ztunnel (annotation ambient.istio.io/redirection=enabled) while its namespace or the pod enables sidecar injection. A pod must be in exactly one data plane; mixing them leads to double capture or to policies enforced in the wrong place.",
		"Remove the sidecar injection label from the pod or namespace, or opt the pod out of ambient mode with istio.io/dataplane-mode=none, and restart it.",
		"KIA1314")
	AmbientLabelledPodWithSidecar = ambientCode("MP4006", "AmbientLabelledPodWithSidecar", analysis.Error,
		"The workload is itself labelled istio.io/dataplane-mode=ambient but its pods carry an istio-proxy sidecar. Pods with a sidecar are skipped by ambient mode, so the label is misleading and the workload is in sidecar mode.",
		"Remove the sidecar (sidecar.istio.io/inject=false, or drop the namespace's injection label) and restart the workload, or remove the ambient label.",
		"KIA1315")
	AmbientNamespaceSidecarWorkload = ambientCode("MP4007", "AmbientNamespaceSidecarWorkload", analysis.Warning,
		"The workload's pods carry an istio-proxy sidecar although their namespace is labelled for ambient mode. Istio keeps such pods in sidecar mode; usually they predate the switch and were never restarted.",
		"Restart the workload without injection (remove sidecar.istio.io/inject=true from the pod template) so it joins ambient mode, or label it istio.io/dataplane-mode=none to keep it on sidecars deliberately.",
		"KIA1316")
	AmbientL7PolicyWithoutWaypoint = ambientCode("MP4008", "AmbientL7PolicyWithoutWaypoint", analysis.Warning,
		"An ambient workload is covered by an AuthorizationPolicy with L7 attributes (HTTP methods, paths, hosts, request principals or request/JWT conditions), but neither the workload nor its namespace uses a waypoint. ztunnel only sees TCP, so those rules cannot be enforced for this workload.",
		"Deploy a waypoint and enrol the workload or its namespace with istio.io/use-waypoint, then attach the policy to the waypoint or Service with targetRefs.",
		"KIA1317")
)

// Ambient L7 configuration: resources that need a waypoint.
var (
	AuthorizationPolicyL7NoWaypoint = ambientCode("MP4010", "AuthorizationPolicyL7NoWaypoint", analysis.Warning,
		"The AuthorizationPolicy uses L7 attributes in an ambient namespace, but the workloads or namespace it applies to are not enrolled to use a waypoint (istio.io/use-waypoint). Only a waypoint can evaluate HTTP attributes, so the L7 rules are not enforced.",
		"Enrol the namespace or the selected workloads with istio.io/use-waypoint=<waypoint> and attach the policy to the waypoint with targetRefs.",
		"KIA0109")
	AuthorizationPolicyL7Selector = ambientCode("MP4011", "AuthorizationPolicyL7Selector", analysis.Warning,
		"The AuthorizationPolicy in an ambient namespace uses L7 attributes but is attached with a workload selector (or namespace-wide), so it is enforced by ztunnel, not a waypoint. ztunnel cannot evaluate HTTP attributes: ALLOW rules that need them never match (traffic they should admit is denied), and in DENY rules those conditions are not checked, so what is denied differs from what is written.",
		"Attach the policy to the waypoint with targetRefs (kind Gateway, or kind Service for a service enrolled to a waypoint) and keep selector-attached policies to L4 attributes (principals, namespaces, ipBlocks, ports).",
		"KIA0110")
	DestinationRuleL7NoWaypoint = ambientCode("MP4012", "DestinationRuleL7NoWaypoint", analysis.Warning,
		"The DestinationRule sets L7 traffic policy (HTTP connection pool, outlier detection, HTTP-based consistent hashing) for a host in an ambient namespace that does not use a waypoint. ztunnel does not apply these settings.",
		"Enrol the namespace or the Service with istio.io/use-waypoint, or remove the L7 settings.",
		"KIA0210")
	DestinationRuleServiceNotCaptured = ambientCode("MP4013", "DestinationRuleServiceNotCaptured", analysis.Warning,
		"The DestinationRule sets L7 traffic policy for a Service in an ambient namespace, but that Service is not enrolled to a waypoint (no istio.io/use-waypoint on it or its namespace, or set to none). Its traffic never reaches a proxy that applies the policy.",
		"Label the Service or its namespace istio.io/use-waypoint=<waypoint>.",
		"KIA0211")
	DestinationRuleNotInServiceNamespace = ambientCode("MP4014", "DestinationRuleNotInServiceNamespace", analysis.Warning,
		"The DestinationRule sets L7 traffic policy for an ambient Service of another namespace. A waypoint only applies configuration from the Service's own namespace (or the root namespace), so this DestinationRule is ignored for ambient traffic.",
		"Move the DestinationRule into the namespace of the Service it configures.",
		"KIA0212")
	VirtualServiceL7NoWaypoint = ambientCode("MP4015", "VirtualServiceL7NoWaypoint", analysis.Warning,
		"The VirtualService defines HTTP or TLS routes for mesh traffic in an ambient namespace that does not use a waypoint. Without a waypoint nothing applies them: ztunnel forwards connections as they are.",
		"Enrol the namespace or the destination Services with istio.io/use-waypoint, or, for ingress-only routing, bind the VirtualService to its gateway only.",
		"KIA1109")
	RequestAuthenticationNoWaypoint = ambientCode("MP4016", "RequestAuthenticationNoWaypoint", analysis.Warning,
		"The RequestAuthentication is in an ambient namespace whose workloads (or the namespace) are not enrolled to a waypoint. JWT validation happens in a waypoint only, so tokens are not checked.",
		"Enrol the namespace or workloads with istio.io/use-waypoint and attach the RequestAuthentication to the waypoint with targetRefs.",
		"KIA1110")
	WasmPluginNoWaypoint = ambientCode("MP4017", "WasmPluginNoWaypoint", analysis.Warning,
		"The WasmPlugin is in an ambient namespace whose workloads (or the namespace) are not enrolled to a waypoint. ztunnel runs no Wasm filters, so the plugin never runs for them.",
		"Enrol the namespace or workloads with istio.io/use-waypoint and attach the plugin to the waypoint with targetRefs.",
		"KIA1111")
	TelemetryNoWaypoint = ambientCode("MP4018", "TelemetryNoWaypoint", analysis.Warning,
		"The Telemetry resource configures L7 telemetry (tracing, access logging or metric overrides) in an ambient namespace that is not enrolled to a waypoint. ztunnel produces TCP-level telemetry only, so these settings have no effect.",
		"Enrol the namespace or workloads with istio.io/use-waypoint and attach the Telemetry to the waypoint with targetRefs.",
		"KIA1112")
	VirtualServiceServiceNotCaptured = ambientCode("MP4019", "VirtualServiceServiceNotCaptured", analysis.Warning,
		"The VirtualService routes mesh traffic for a Service in an ambient namespace, but that Service is not enrolled to a waypoint. Requests to it never pass a proxy that applies the routes.",
		"Label the Service or its namespace istio.io/use-waypoint=<waypoint>.",
		"KIA1113")
	VirtualServiceNotInServiceNamespace = ambientCode("MP4020", "VirtualServiceNotInServiceNamespace", analysis.Warning,
		"The VirtualService routes mesh traffic for an ambient Service of another namespace. Waypoints apply routes from the Service's own namespace only, so this VirtualService is ignored for ambient traffic.",
		"Move the VirtualService into the namespace of the Service it routes.",
		"KIA1114")
	RequestAuthenticationSelector = ambientCode("MP4021", "RequestAuthenticationSelector", analysis.Warning,
		"The RequestAuthentication in an ambient namespace has no targetRefs. Waypoints ignore selector-attached (and namespace-wide) RequestAuthentications, and ztunnel cannot validate JWTs, so the rules apply nowhere.",
		"Attach the RequestAuthentication to the waypoint or Service with targetRefs.",
		"KIA1115")
	WasmPluginSelector = ambientCode("MP4022", "WasmPluginSelector", analysis.Warning,
		"The WasmPlugin in an ambient namespace has no targetRefs. Waypoints ignore selector-attached plugins, and ztunnel runs none, so the plugin applies nowhere.",
		"Attach the WasmPlugin to the waypoint or Service with targetRefs.",
		"KIA1116")
	TelemetrySelector = ambientCode("MP4023", "TelemetrySelector", analysis.Warning,
		"The Telemetry resource configures L7 telemetry in an ambient namespace without targetRefs. Waypoints ignore selector-attached and namespace-wide Telemetry of that namespace, so the L7 settings apply nowhere.",
		"Attach the Telemetry to the waypoint or Service with targetRefs.",
		"KIA1117")
	WaypointBypass = ambientCode("MP4024", "WaypointBypass", analysis.Warning,
		"An AuthorizationPolicy is enforced at a waypoint (targetRefs), but the workloads behind it have no ztunnel policy (a selector-attached or namespace-wide ALLOW) that admits only the waypoint's identity. A client that connects to the pods directly skips the waypoint and with it this policy.",
		"Add an ALLOW AuthorizationPolicy without targetRefs for the destination workloads whose from.source.principals is the waypoint's service account (cluster.local/ns/<namespace>/sa/<waypoint>).")
)

// WorkloadGroups (VM workloads).
var (
	WorkloadGroupServiceAccountNotFound = ambientCode("MP4025", "WorkloadGroupServiceAccountNotFound", analysis.Warning,
		"The WorkloadGroup's template names a service account that does not exist in its namespace. Workloads registered from the group take that identity; without the ServiceAccount no token can be issued for them and identity-based policies do not match them.",
		"Create the ServiceAccount in the WorkloadGroup's namespace or correct spec.template.serviceAccount.",
		"KIA1701")
	WorkloadGroupDuplicateLabels = ambientCode("MP4026", "WorkloadGroupDuplicateLabels", analysis.Warning,
		"Two WorkloadGroups in the same namespace give their workloads the same labels (spec.metadata.labels). Selectors, Services and policies cannot tell the groups' workloads apart.",
		"Give each WorkloadGroup a distinguishing label (for example its app or version).",
		"KIA1702")
)

// Gateway API.
var (
	RouteParentNotFound = ambientCode("MP4030", "RouteParentNotFound", analysis.Error,
		"A route's parentRef names a Gateway (or Service, for mesh routes) that does not exist, or a listener (sectionName) the Gateway does not have. The route is attached to nothing and its rules never serve traffic.",
		"Correct parentRefs to an existing Gateway and listener (with namespace when it lives elsewhere), or create the Gateway.",
		"KIA1401")
	RouteBackendNotFound = ambientCode("MP4031", "RouteBackendNotFound", analysis.Error,
		"A route's backendRef names a Service (or other backend) that does not exist. Requests the rule matches fail (HTTP 500, or the connection is refused) instead of reaching a backend.",
		"Correct the backendRef name and namespace, or create the backend.",
		"KIA1402")
	RouteCrossNamespaceNotGranted = ambientCode("MP4032", "RouteCrossNamespaceNotGranted", analysis.Error,
		"A route refers to a backend in another namespace, but no ReferenceGrant in that namespace allows references from the route's kind and namespace. The reference is refused (ResolvedRefs=False, RefNotPermitted) and the traffic is not delivered.",
		"Create a ReferenceGrant in the backend's namespace whose from names the route's group, kind and namespace and whose to names the backend's kind (and optionally name).")
	GatewayListenerConflict = ambientCode("MP4033", "GatewayListenerConflict", analysis.Warning,
		"Two Gateways declare listeners with the same port, protocol and hostname. If they share an address or are merged by the implementation, only one of them can accept the traffic and the other's routes are shadowed.",
		"Give the listeners distinct hostnames or ports, or serve the host from one Gateway.",
		"KIA1501")
	GatewayAddressConflict = ambientCode("MP4034", "GatewayAddressConflict", analysis.Warning,
		"Two Gateways request the same address (same type and value) in spec.addresses. Only one can be assigned it; the other is not programmed.",
		"Give each Gateway its own address, or drop spec.addresses and let the implementation assign one.",
		"KIA1502")
	GatewayDuplicateListener = ambientCode("MP4035", "GatewayDuplicateListener", analysis.Error,
		"Within one Gateway, several listeners have the same port, protocol and hostname. They conflict: the Gateway API marks them Conflicted and they do not accept routes.",
		"Make each listener's combination of port, protocol and hostname unique, or merge them.",
		"KIA1503")
	GatewayClassNotFound = ambientCode("MP4036", "GatewayClassNotFound", analysis.Error,
		"The Gateway names a GatewayClass that is neither among the inputs nor one Istio provides (istio, istio-waypoint, istio-remote, istio-east-west). No controller programs the Gateway, so it never gets an address and its routes serve nothing.",
		"Set gatewayClassName to an installed GatewayClass (istio for Istio gateways, istio-waypoint for waypoints) or create the GatewayClass.",
		"KIA1504")
	ReferenceGrantNamespaceNotFound = ambientCode("MP4037", "ReferenceGrantNamespaceNotFound", analysis.Error,
		"A ReferenceGrant's from entry names a namespace that does not exist among the inputs, so the grant allows nothing (often a typo in the namespace).",
		"Correct spec.from[].namespace to the namespace of the referring routes or Gateways.",
		"KIA1601")
)

// Gateway API Inference Extension.
var (
	InferencePoolNoPods = ambientCode("MP4040", "InferencePoolNoPods", analysis.Warning,
		"The InferencePool's selector matches no pod or pod template in its namespace. The endpoint picker has no model server to choose, so every request routed to the pool fails.",
		"Correct spec.selector to the labels of the model-server pods, or deploy them in the pool's namespace.")
	InferencePoolNotFound = ambientCode("MP4041", "InferencePoolNotFound", analysis.Error,
		"An HTTPRoute's backendRef of kind InferencePool names a pool that does not exist in the namespace it points to. Requests the rule matches cannot be delivered.",
		"Correct the backendRef name (and group inference.networking.k8s.io) or create the InferencePool.")
	InferencePoolRefNotFound = ambientCode("MP4042", "InferencePoolRefNotFound", analysis.Error,
		"An InferenceModel or InferenceObjective's poolRef names an InferencePool that does not exist in its namespace, so the model name or priority it defines applies to nothing.",
		"Correct spec.poolRef.name to an existing InferencePool of the same namespace, or create the pool.")
)

// Ambient lists the ambient mode, Gateway API and Inference Extension checks (MP4xxx).
var Ambient = []*analysis.Code{
	AmbientNamespaceWithInjection, AmbientWorkloadSidecarAndAmbient, AmbientWaypointWithoutAmbient,
	AmbientWaypointNotFound, AmbientRedirectedPodWithSidecarLabel, AmbientLabelledPodWithSidecar,
	AmbientNamespaceSidecarWorkload, AmbientL7PolicyWithoutWaypoint,
	AuthorizationPolicyL7NoWaypoint, AuthorizationPolicyL7Selector, DestinationRuleL7NoWaypoint,
	DestinationRuleServiceNotCaptured, DestinationRuleNotInServiceNamespace, VirtualServiceL7NoWaypoint,
	RequestAuthenticationNoWaypoint, WasmPluginNoWaypoint, TelemetryNoWaypoint, VirtualServiceServiceNotCaptured,
	VirtualServiceNotInServiceNamespace, RequestAuthenticationSelector, WasmPluginSelector, TelemetrySelector,
	WaypointBypass, WorkloadGroupServiceAccountNotFound, WorkloadGroupDuplicateLabels,
	RouteParentNotFound, RouteBackendNotFound, RouteCrossNamespaceNotGranted, GatewayListenerConflict,
	GatewayAddressConflict, GatewayDuplicateListener, GatewayClassNotFound, ReferenceGrantNamespaceNotFound,
	InferencePoolNoPods, InferencePoolNotFound, InferencePoolRefNotFound,
}
