package mesh

import (
	"sort"
	"strings"
	"sync"

	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// Snapshot is a read-only view of a mesh: its objects, mesh configuration
// and indexes. Build it with New; it is safe for concurrent readers.
type Snapshot struct {
	*state
	// reads, when set, records the kinds read through this view (Tracked).
	reads *ReadSet
}

// state is what every view of one snapshot shares.
type state struct {
	objects []*Object
	byKind  map[GroupKind][]*Object
	byKey   map[Key]*Object
	// duplicates pairs each object whose key was taken with the first.
	duplicates [][2]*Object

	// MeshConfig is the mesh configuration in force, never nil (defaults
	// when none was given). MeshConfigGiven says whether one was.
	MeshConfig      *meshconfig.MeshConfig
	MeshConfigGiven bool
	// MeshNetworks is nil when none was given.
	MeshNetworks *meshconfig.MeshNetworks

	// DomainSuffix is the cluster DNS suffix ("cluster.local").
	DomainSuffix string

	workloadsOnce sync.Once
	workloads     []*Workload
	wlByNS        map[string][]*Workload
	wlByLabel     map[nsLabel][]*Workload

	fqdnMu sync.RWMutex
	fqdns  map[[2]string]string

	hostsOnce sync.Once
	hosts     map[string][]*ServiceHost
	wildcards []*ServiceHost
}

// Options configure a snapshot.
type Options struct {
	MeshConfig   *meshconfig.MeshConfig
	MeshNetworks *meshconfig.MeshNetworks
	DomainSuffix string
}

// New builds a snapshot over objects. Objects keep their order.
func New(objects []*Object, opts Options) *Snapshot {
	s := &Snapshot{state: &state{
		objects:      objects,
		byKind:       make(map[GroupKind][]*Object),
		byKey:        make(map[Key]*Object, len(objects)),
		MeshConfig:   opts.MeshConfig,
		MeshNetworks: opts.MeshNetworks,
		DomainSuffix: opts.DomainSuffix,
		fqdns:        map[[2]string]string{},
	}}
	if s.MeshConfig != nil {
		s.MeshConfigGiven = true
	} else {
		s.MeshConfig = &meshconfig.MeshConfig{}
	}
	if s.DomainSuffix == "" {
		s.DomainSuffix = "cluster.local"
	}
	for _, o := range objects {
		s.byKind[o.GroupKind] = append(s.byKind[o.GroupKind], o)
		// Lookups go by kind, namespace and name: in a snapshot merged from
		// several clusters the first cluster's object answers (namespace
		// sameness), and only a second object of the same cluster is a
		// duplicate.
		k := o.Key()
		k.Cluster = ""
		if first, taken := s.byKey[k]; taken {
			if first.Source.Cluster == o.Source.Cluster {
				s.duplicates = append(s.duplicates, [2]*Object{first, o})
			}
			continue
		}
		s.byKey[k] = o
	}
	return s
}

// ReadSet collects the kinds read through a tracked view of a snapshot.
type ReadSet struct {
	mu    sync.Mutex
	kinds map[GroupKind]bool
}

// Kinds returns the kinds read, sorted.
func (r *ReadSet) Kinds() []GroupKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]GroupKind, 0, len(r.kinds))
	for gk := range r.kinds {
		out = append(out, gk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Has reports whether gk was read.
func (r *ReadSet) Has(gk GroupKind) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kinds[gk]
}

// Tracked returns a view of the snapshot, sharing its objects and indexes,
// that records every kind read through it: by List, ListOf, Get,
// InNamespace, Namespace, the workload and host indexes. Objects (every
// object, whatever its kind) records nothing. The runner gives each
// analyzer such a view to learn which kinds its findings depend on.
func (s *Snapshot) Tracked() (*Snapshot, *ReadSet) {
	r := &ReadSet{kinds: map[GroupKind]bool{}}
	return &Snapshot{state: s.state, reads: r}, r
}

func (s *Snapshot) read(gks ...GroupKind) {
	if s.reads == nil {
		return
	}
	s.reads.mu.Lock()
	for _, gk := range gks {
		s.reads.kinds[gk] = true
	}
	s.reads.mu.Unlock()
}

// Duplicates lists the objects whose kind, namespace and name an earlier
// object already had, each paired with that first one.
func (s *Snapshot) Duplicates() [][2]*Object { return s.duplicates }

// Objects returns every object in load order.
func (s *Snapshot) Objects() []*Object { return s.objects }

// List returns the objects of a kind in load order.
func (s *Snapshot) List(gk GroupKind) []*Object {
	s.read(gk)
	return s.byKind[gk]
}

// Get returns the object of a kind by effective namespace and name, or nil.
func (s *Snapshot) Get(gk GroupKind, namespace, name string) *Object {
	s.read(gk)
	return s.byKey[Key{GroupKind: gk, Namespace: namespace, Name: name}]
}

// InNamespace returns the objects of a kind in one namespace.
func (s *Snapshot) InNamespace(gk GroupKind, namespace string) []*Object {
	s.read(gk)
	var out []*Object
	for _, o := range s.byKind[gk] {
		if o.Namespace() == namespace {
			out = append(out, o)
		}
	}
	return out
}

// Namespace returns the Namespace object of that name, or nil.
func (s *Snapshot) Namespace(name string) *corev1.Namespace {
	o := s.Get(Namespace, "", name)
	if o == nil {
		return nil
	}
	return o.Obj.(*corev1.Namespace)
}

// Namespaces returns the sorted names of every namespace that has a
// Namespace object or holds an object.
func (s *Snapshot) Namespaces() []string {
	s.read(Namespace)
	seen := map[string]bool{}
	for _, o := range s.objects {
		if o.GroupKind == Namespace {
			seen[o.Name()] = true
		} else if ns := o.Namespace(); ns != "" {
			seen[ns] = true
		}
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// RootNamespace is the mesh's root configuration namespace.
func (s *Snapshot) RootNamespace() string {
	if ns := s.MeshConfig.GetRootNamespace(); ns != "" {
		return ns
	}
	return "istio-system"
}

// FQDN expands a short host name relative to a namespace the way Istio
// does: "reviews" in "default" is "reviews.default.svc.cluster.local";
// names with a dot, wildcards and "*" are kept as written.
func (s *Snapshot) FQDN(host, namespace string) string {
	if host == "" || strings.HasPrefix(host, "*") || strings.Contains(host, ".") {
		return host
	}
	// Checks ask for the same few thousand names over and over: build each
	// once.
	k := [2]string{host, namespace}
	s.fqdnMu.RLock()
	full, ok := s.fqdns[k]
	s.fqdnMu.RUnlock()
	if ok {
		return full
	}
	full = host + "." + namespace + ".svc." + s.DomainSuffix
	s.fqdnMu.Lock()
	s.fqdns[k] = full
	s.fqdnMu.Unlock()
	return full
}

// Typed pairs an object with its typed value (Object.Obj as a T).
type Typed[T comparable] struct {
	Obj  *Object
	Spec T
}

// ListOf returns the objects of a kind whose value is a non-nil T, in load
// order: the typed view every check of that kind starts from.
func ListOf[T comparable](s *Snapshot, gk GroupKind) []Typed[T] {
	s.read(gk)
	objs := s.byKind[gk]
	out := make([]Typed[T], 0, len(objs))
	var zero T
	for _, o := range objs {
		if v, ok := o.Obj.(T); ok && v != zero && o.Meta != nil {
			out = append(out, Typed[T]{Obj: o, Spec: v})
		}
	}
	return out
}
