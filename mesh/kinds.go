package mesh

import (
	"strings"

	extensions "istio.io/api/extensions/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	networkingbeta "istio.io/api/networking/v1beta1"
	security "istio.io/api/security/v1beta1"
	telemetry "istio.io/api/telemetry/v1alpha1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1a2 "sigs.k8s.io/gateway-api/apis/v1alpha2"

	"github.com/meshpilot/meshpilot/mesh/inference"
)

// API groups.
const (
	GroupCore          = ""
	GroupApps          = "apps"
	GroupBatch         = "batch"
	GroupDiscovery     = "discovery.k8s.io"
	GroupAdmission     = "admissionregistration.k8s.io"
	GroupAPIExtensions = "apiextensions.k8s.io"
	GroupNetworking    = "networking.istio.io"
	GroupSecurity      = "security.istio.io"
	GroupTelemetry     = "telemetry.istio.io"
	GroupExtensions    = "extensions.istio.io"
	GroupGatewayAPI    = "gateway.networking.k8s.io"
	GroupInference     = "inference.networking.k8s.io"
	GroupInferenceX    = "inference.networking.x-k8s.io"
)

// The kinds the snapshot models.
var (
	VirtualService        = GroupKind{GroupNetworking, "VirtualService"}
	DestinationRule       = GroupKind{GroupNetworking, "DestinationRule"}
	Gateway               = GroupKind{GroupNetworking, "Gateway"}
	ServiceEntry          = GroupKind{GroupNetworking, "ServiceEntry"}
	Sidecar               = GroupKind{GroupNetworking, "Sidecar"}
	EnvoyFilter           = GroupKind{GroupNetworking, "EnvoyFilter"}
	WorkloadEntry         = GroupKind{GroupNetworking, "WorkloadEntry"}
	WorkloadGroup         = GroupKind{GroupNetworking, "WorkloadGroup"}
	ProxyConfig           = GroupKind{GroupNetworking, "ProxyConfig"}
	AuthorizationPolicy   = GroupKind{GroupSecurity, "AuthorizationPolicy"}
	PeerAuthentication    = GroupKind{GroupSecurity, "PeerAuthentication"}
	RequestAuthentication = GroupKind{GroupSecurity, "RequestAuthentication"}
	Telemetry             = GroupKind{GroupTelemetry, "Telemetry"}
	WasmPlugin            = GroupKind{GroupExtensions, "WasmPlugin"}
	TrafficExtension      = GroupKind{GroupExtensions, "TrafficExtension"}

	GatewayClass       = GroupKind{GroupGatewayAPI, "GatewayClass"}
	KubeGateway        = GroupKind{GroupGatewayAPI, "Gateway"}
	HTTPRoute          = GroupKind{GroupGatewayAPI, "HTTPRoute"}
	GRPCRoute          = GroupKind{GroupGatewayAPI, "GRPCRoute"}
	TCPRoute           = GroupKind{GroupGatewayAPI, "TCPRoute"}
	TLSRoute           = GroupKind{GroupGatewayAPI, "TLSRoute"}
	UDPRoute           = GroupKind{GroupGatewayAPI, "UDPRoute"}
	ReferenceGrant     = GroupKind{GroupGatewayAPI, "ReferenceGrant"}
	BackendTLSPolicy   = GroupKind{GroupGatewayAPI, "BackendTLSPolicy"}
	ListenerSet        = GroupKind{GroupGatewayAPI, "ListenerSet"}
	InferencePool      = GroupKind{GroupInference, "InferencePool"}
	InferencePoolX     = GroupKind{GroupInferenceX, "InferencePool"}
	InferenceModel     = GroupKind{GroupInferenceX, "InferenceModel"}
	InferenceObjective = GroupKind{GroupInferenceX, "InferenceObjective"}

	Namespace                      = GroupKind{GroupCore, "Namespace"}
	Service                        = GroupKind{GroupCore, "Service"}
	Endpoints                      = GroupKind{GroupCore, "Endpoints"}
	Pod                            = GroupKind{GroupCore, "Pod"}
	ServiceAccount                 = GroupKind{GroupCore, "ServiceAccount"}
	ConfigMap                      = GroupKind{GroupCore, "ConfigMap"}
	Secret                         = GroupKind{GroupCore, "Secret"}
	Node                           = GroupKind{GroupCore, "Node"}
	EndpointSlice                  = GroupKind{GroupDiscovery, "EndpointSlice"}
	Deployment                     = GroupKind{GroupApps, "Deployment"}
	StatefulSet                    = GroupKind{GroupApps, "StatefulSet"}
	DaemonSet                      = GroupKind{GroupApps, "DaemonSet"}
	ReplicaSet                     = GroupKind{GroupApps, "ReplicaSet"}
	Job                            = GroupKind{GroupBatch, "Job"}
	CronJob                        = GroupKind{GroupBatch, "CronJob"}
	MutatingWebhookConfiguration   = GroupKind{GroupAdmission, "MutatingWebhookConfiguration"}
	ValidatingWebhookConfiguration = GroupKind{GroupAdmission, "ValidatingWebhookConfiguration"}
	CustomResourceDefinition       = GroupKind{GroupAPIExtensions, "CustomResourceDefinition"}
)

// KindInfo describes how a modeled kind is read.
type KindInfo struct {
	GroupKind
	Versions   []string // served versions, newest first
	Namespaced bool
	// Proto kinds (Istio) decode their spec into the message New returns;
	// the others decode the whole object into it.
	Proto bool
	New   func() any
	// Resource is the plural lower-case name the API server serves the kind
	// under ("virtualservices"), as in RBAC rules and REST paths.
	Resource string
}

// GroupResource names the kind's REST resource: "virtualservices.networking.istio.io".
func (k KindInfo) GroupResource() string {
	if k.Group == "" {
		return k.Resource
	}
	return k.Resource + "." + k.Group
}

// plural is the API server's plural for the modeled kinds: lower case, a
// consonant and "y" → "ies", a trailing "s" → "ses", Endpoints unchanged.
func plural(kind string) string {
	l := strings.ToLower(kind)
	switch {
	case l == "endpoints":
		return l
	case strings.HasSuffix(l, "y") && !strings.HasSuffix(l, "ay"):
		return l[:len(l)-1] + "ies"
	case strings.HasSuffix(l, "s"):
		return l + "es"
	}
	return l + "s"
}

var istioVersions = []string{"v1", "v1beta1", "v1alpha3"}

func istio(gk GroupKind, versions []string, newFn func() any) KindInfo {
	return KindInfo{GroupKind: gk, Versions: versions, Namespaced: true, Proto: true, New: newFn, Resource: plural(gk.Kind)}
}

func kube(gk GroupKind, versions []string, namespaced bool, newFn func() any) KindInfo {
	return KindInfo{GroupKind: gk, Versions: versions, Namespaced: namespaced, New: newFn, Resource: plural(gk.Kind)}
}

var v1 = []string{"v1"}

// kinds is the immutable table of modeled kinds.
var kinds = func() map[GroupKind]KindInfo {
	list := []KindInfo{
		istio(VirtualService, istioVersions, func() any { return &networking.VirtualService{} }),
		istio(DestinationRule, istioVersions, func() any { return &networking.DestinationRule{} }),
		istio(Gateway, istioVersions, func() any { return &networking.Gateway{} }),
		istio(ServiceEntry, istioVersions, func() any { return &networking.ServiceEntry{} }),
		istio(Sidecar, istioVersions, func() any { return &networking.Sidecar{} }),
		istio(WorkloadEntry, istioVersions, func() any { return &networking.WorkloadEntry{} }),
		istio(WorkloadGroup, istioVersions, func() any { return &networking.WorkloadGroup{} }),
		istio(EnvoyFilter, []string{"v1alpha3"}, func() any { return &networking.EnvoyFilter{} }),
		istio(ProxyConfig, []string{"v1beta1"}, func() any { return &networkingbeta.ProxyConfig{} }),
		istio(AuthorizationPolicy, []string{"v1", "v1beta1"}, func() any { return &security.AuthorizationPolicy{} }),
		istio(PeerAuthentication, []string{"v1", "v1beta1"}, func() any { return &security.PeerAuthentication{} }),
		istio(RequestAuthentication, []string{"v1", "v1beta1"}, func() any { return &security.RequestAuthentication{} }),
		istio(Telemetry, []string{"v1", "v1alpha1"}, func() any { return &telemetry.Telemetry{} }),
		istio(WasmPlugin, []string{"v1alpha1"}, func() any { return &extensions.WasmPlugin{} }),
		istio(TrafficExtension, []string{"v1alpha1"}, func() any { return &extensions.TrafficExtension{} }),

		kube(GatewayClass, []string{"v1", "v1beta1"}, false, func() any { return &gwv1.GatewayClass{} }),
		kube(KubeGateway, []string{"v1", "v1beta1"}, true, func() any { return &gwv1.Gateway{} }),
		kube(HTTPRoute, []string{"v1", "v1beta1"}, true, func() any { return &gwv1.HTTPRoute{} }),
		kube(GRPCRoute, []string{"v1", "v1alpha2"}, true, func() any { return &gwv1.GRPCRoute{} }),
		kube(TLSRoute, []string{"v1", "v1alpha2", "v1alpha3"}, true, func() any { return &gwv1.TLSRoute{} }),
		kube(TCPRoute, []string{"v1alpha2"}, true, func() any { return &gwv1a2.TCPRoute{} }),
		kube(UDPRoute, []string{"v1alpha2"}, true, func() any { return &gwv1a2.UDPRoute{} }),
		kube(ReferenceGrant, []string{"v1", "v1beta1", "v1alpha2"}, true, func() any { return &gwv1.ReferenceGrant{} }),
		kube(BackendTLSPolicy, []string{"v1", "v1alpha3"}, true, func() any { return &gwv1.BackendTLSPolicy{} }),
		kube(ListenerSet, v1, true, func() any { return &gwv1.ListenerSet{} }),
		kube(InferencePool, v1, true, func() any { return &inference.InferencePool{} }),
		kube(InferencePoolX, []string{"v1alpha2"}, true, func() any { return &inference.InferencePool{} }),
		kube(InferenceModel, []string{"v1alpha2"}, true, func() any { return &inference.InferenceModel{} }),
		kube(InferenceObjective, []string{"v1alpha2"}, true, func() any { return &inference.InferenceObjective{} }),

		kube(Namespace, v1, false, func() any { return &corev1.Namespace{} }),
		kube(Service, v1, true, func() any { return &corev1.Service{} }),
		kube(Endpoints, v1, true, func() any { return &corev1.Endpoints{} }),
		kube(Pod, v1, true, func() any { return &corev1.Pod{} }),
		kube(ServiceAccount, v1, true, func() any { return &corev1.ServiceAccount{} }),
		kube(ConfigMap, v1, true, func() any { return &corev1.ConfigMap{} }),
		kube(Secret, v1, true, func() any { return &SecretInfo{} }),
		kube(Node, v1, false, func() any { return &corev1.Node{} }),
		kube(EndpointSlice, v1, true, func() any { return &discoveryv1.EndpointSlice{} }),
		kube(Deployment, v1, true, func() any { return &appsv1.Deployment{} }),
		kube(StatefulSet, v1, true, func() any { return &appsv1.StatefulSet{} }),
		kube(DaemonSet, v1, true, func() any { return &appsv1.DaemonSet{} }),
		kube(ReplicaSet, v1, true, func() any { return &appsv1.ReplicaSet{} }),
		kube(Job, v1, true, func() any { return &batchv1.Job{} }),
		kube(CronJob, v1, true, func() any { return &batchv1.CronJob{} }),
		kube(MutatingWebhookConfiguration, v1, false, func() any { return &admissionv1.MutatingWebhookConfiguration{} }),
		kube(ValidatingWebhookConfiguration, v1, false, func() any { return &admissionv1.ValidatingWebhookConfiguration{} }),
		kube(CustomResourceDefinition, v1, false, func() any { return &apiextv1.CustomResourceDefinition{} }),
	}
	m := make(map[GroupKind]KindInfo, len(list))
	for _, k := range list {
		m[k.GroupKind] = k
	}
	return m
}()

// LookupKind returns what the snapshot knows of a kind.
func LookupKind(gk GroupKind) (KindInfo, bool) {
	k, ok := kinds[gk]
	return k, ok
}

// Kinds lists every modeled kind.
func Kinds() []KindInfo {
	out := make([]KindInfo, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	return out
}

// IsIstioGroup reports whether group is one of Istio's API groups.
func IsIstioGroup(group string) bool {
	return group == GroupNetworking || group == GroupSecurity || group == GroupTelemetry || group == GroupExtensions
}

// ModeledGroup reports whether the snapshot models kinds of this API group;
// an unknown kind or version there is an input error rather than a kind we
// merely do not read.
func ModeledGroup(group string) bool {
	switch group {
	case GroupNetworking, GroupSecurity, GroupTelemetry, GroupExtensions,
		GroupGatewayAPI, GroupInference, GroupInferenceX:
		return true
	}
	return false
}

// SecretInfo is what the snapshot keeps of a Secret: its type, the names of
// its data keys, and facts derived from a TLS certificate when one is
// present. The data itself is dropped on load and never kept.
type SecretInfo struct {
	Type corev1.SecretType
	Keys []string
	// Cert holds facts derived from the certificate under tls.crt or cert,
	// when the secret holds one.
	Cert *CertFacts
	// MetadataOnly is set when the secret was read as metadata only (from a
	// live cluster): its type, keys and certificate are unknown, and checks
	// of its content do not apply.
	MetadataOnly bool
}

// CertFacts are derived from a PEM certificate without keeping it.
type CertFacts struct {
	Key       string // data key the certificate was read from
	ParseErr  string // non-empty when the data was not a valid certificate
	NotBefore int64  // unix seconds
	NotAfter  int64
	// Paired is true when the certificate and its private key (cert and
	// key, or tls.crt and tls.key) both hold data, as Istio needs to serve
	// the credential.
	Paired bool
}
