// Package mesh holds the Snapshot: the typed Istio, Gateway API and
// Kubernetes objects of one or more clusters, with the indexes that checks
// query (host → services, selector → workloads, namespace → objects).
//
// The package knows nothing of where objects came from, of analysis or of
// output.
package mesh

import (
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GroupKind names a kind independent of its version.
type GroupKind struct {
	Group string
	Kind  string
}

func (gk GroupKind) String() string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// Source says where an object was read from.
type Source struct {
	File    string // path as given by the user; empty for live objects
	Line    int    // 1-based line of the object's first key; 0 when unknown
	Cluster string // cluster name for live objects
}

func (s Source) String() string {
	switch {
	case s.File != "" && s.Line > 0:
		return s.File + ":" + strconv.Itoa(s.Line)
	case s.File != "":
		return s.File
	default:
		return s.Cluster
	}
}

// Ref names a resource the way istioctl does: "Kind namespace/name", or
// "Kind name" when the resource has no namespace as written.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
	Cluster   string
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Object is one typed resource of the snapshot.
//
// Obj holds the typed value: for Istio kinds the spec message of
// istio.io/api (for example *networking.VirtualService), with Status in
// Status; for Kubernetes and Gateway API kinds the whole typed object of
// k8s.io/api or sigs.k8s.io/gateway-api (for example *corev1.Service), whose
// ObjectMeta is the same as Meta. Secrets keep no data: Obj is a *SecretInfo.
type Object struct {
	GroupKind
	Version string
	Meta    *metav1.ObjectMeta
	Obj     any
	Status  any // Istio kinds only: *metav1alpha1.IstioStatus, or nil
	Source  Source

	// StatusAddresses are the addresses Istio allocated to a ServiceEntry
	// (status.addresses[].value), which Status does not hold.
	StatusAddresses []string

	// SchemaErrors are the problems found decoding the object against its
	// kind's schema; the object holds everything else that was valid.
	SchemaErrors []FieldError

	// DefaultNamespace is the namespace an object without one is taken to
	// be in (istioctl's "default"); the Ref keeps the namespace as written.
	DefaultNamespace string
}

// Namespace is the namespace the object lives in, defaulted for namespaced
// kinds written without one. Cluster-scoped kinds return "".
func (o *Object) Namespace() string {
	if o.Meta.Namespace != "" {
		return o.Meta.Namespace
	}
	if k, ok := LookupKind(o.GroupKind); ok && !k.Namespaced {
		return ""
	}
	if o.DefaultNamespace != "" {
		return o.DefaultNamespace
	}
	return "default"
}

// Name is metadata.name.
func (o *Object) Name() string { return o.Meta.Name }

// Labels is metadata.labels (possibly nil).
func (o *Object) Labels() map[string]string { return o.Meta.Labels }

// Annotations is metadata.annotations (possibly nil).
func (o *Object) Annotations() map[string]string { return o.Meta.Annotations }

// Ref names the object as istioctl does.
func (o *Object) Ref() Ref {
	return Ref{Kind: o.Kind, Namespace: o.Meta.Namespace, Name: o.Meta.Name, Cluster: o.Source.Cluster}
}

// Key identifies an object within a snapshot: kind, effective namespace and
// name (and cluster).
type Key struct {
	GroupKind
	Cluster   string
	Namespace string
	Name      string
}

// Key returns the object's identity.
func (o *Object) Key() Key {
	return Key{GroupKind: o.GroupKind, Cluster: o.Source.Cluster, Namespace: o.Namespace(), Name: o.Meta.Name}
}

// FieldError is a problem with one field of an object.
type FieldError struct {
	Path    string // "spec.http[0].timeout"
	Line    int
	Message string
}
