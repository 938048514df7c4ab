package files

import (
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// builtinKinds maps each built-in Kubernetes API group to the kinds it
// serves, so that a misspelt kind there ("Deploymnet") is an error while a
// real kind meshpilot does not model (a PersistentVolumeClaim) is only
// counted.
var builtinKinds = func() map[string]map[string]bool {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, autoscalingv1.AddToScheme,
		autoscalingv2.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme, networkingv1.AddToScheme,
		storagev1.AddToScheme, discoveryv1.AddToScheme, admissionv1.AddToScheme, schedulingv1.AddToScheme,
		coordinationv1.AddToScheme, certificatesv1.AddToScheme, nodev1.AddToScheme, flowcontrolv1.AddToScheme,
		apiextv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err) // static registration of k8s.io/api types cannot fail
		}
	}
	out := map[string]map[string]bool{}
	for gvk := range s.AllKnownTypes() {
		if out[gvk.Group] == nil {
			out[gvk.Group] = map[string]bool{}
		}
		out[gvk.Group][gvk.Kind] = true
	}
	return out
}()

func builtinGroupUnknownKind(group, _ /*version*/, kind string) bool {
	kinds, ok := builtinKinds[group]
	return ok && !kinds[kind]
}
