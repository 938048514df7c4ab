// Package incremental keeps a mesh's findings current as single objects
// are added, updated and deleted: only the namespaces a change can affect
// are analyzed again, over a small snapshot of them and of what they read,
// and the findings that opened and closed are reported. The findings are
// always those analysis.Run reports over a snapshot of all current
// objects; the package's differential tests check that after every change.
//
// # Partitions
//
// A partition is a namespace (across clusters: the snapshot's lookups name
// namespaces, not clusters), holding its objects and its Namespace object.
// The global partitions are cluster-scoped objects, the root namespace and
// istio-system. Some objects are global wherever they live: Istio
// Gateways, the sidecar injector's ConfigMaps, istiod, multi-cluster
// Secrets, ServiceEntries with a workload selector, VirtualServices with a
// narrowly exported wildcard host. A change to a global object, or one that
// reaches the findings of a global partition, runs a full analysis.
//
// # Links
//
// Each object provides tokens to its partition and reads tokens, both
// derived from the object alone (see deps.go): hosts (exact, and suffixes
// for wildcards on either side), workload labels, DestinationRules covering
// a namespace, first objects in load order with a property, names of
// Gateway listeners and EnvoyFilter patches. Reading a token makes a
// partition depend on every partition providing it, as a whole when the
// analyzers follow a provider into its namespace (a Service to its
// workloads and their PeerAuthentications). Other reads depend only on an
// existence: some workload anywhere carrying labels (DestinationRule
// subsets), a namespace of a name or pattern; or on a partition named
// directly (principals, parentRefs, exportTo).
//
// A change re-analyzes its partition and the readers of what it provides,
// or of anything its partition provides for kinds that readers follow
// (workloads, Services, Namespaces, PeerAuthentications,
// RequestAuthentications, Secrets). The snapshot analyzed holds those
// partitions, the global ones, the partitions they read, and one witness
// partition per existence they depend on; only the findings on objects of
// the re-analyzed partitions are replaced.
package incremental
