package kube

import (
	"context"
	"fmt"
	"sort"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

// Change is one object added, updated or deleted in a watched cluster.
type Change struct {
	// Object is the new version; nil when the object was deleted.
	Object *mesh.Object
	// Key identifies the object (set for every change).
	Key mesh.Key
}

// Deleted reports whether the change removes the object.
func (c Change) Deleted() bool { return c.Object == nil }

// Handler receives a watched cluster's objects. Calls are serialized.
type Handler interface {
	// Synced is called once, with every object, when every informer has
	// listed its kind.
	Synced(ctx context.Context, res *Result) error
	// Changed is called with each batch of changes after that, in order.
	Changed(ctx context.Context, changes []Change) error
}

// Watch keeps the handler current with the cluster cfg points at: it lists
// and watches every modeled kind the identity may read (Secrets as metadata
// only, through the metadata API) with client-go informers, until ctx is
// done or the handler fails. Kinds not installed or forbidden are reported
// in the Result given to Synced, as Load does.
func Watch(ctx context.Context, cfg *rest.Config, opts Options, h Handler) error {
	opts = withDefaults(opts)
	c, err := newClient(cfg, opts.Logger)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	plan, skipped, err := c.plan(ctx, opts)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = logWarnings{opts.Logger}
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("cluster %s: dynamic client: %w", opts.Cluster, err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("cluster %s: metadata client: %w", opts.Cluster, err)
	}

	w := &watcher{opts: opts, wake: make(chan struct{}, 1), versions: map[mesh.Key]string{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var informers []cache.SharedIndexInformer
	dynFactories := map[string]dynamicinformer.DynamicSharedInformerFactory{}
	metaFactories := map[string]metadatainformer.SharedInformerFactory{}
	for _, p := range plan {
		gvr := schema.GroupVersionResource{Group: p.info.Group, Version: p.version, Resource: p.info.Resource}
		for _, ns := range p.namespaces {
			var inf cache.SharedIndexInformer
			if p.info.GroupKind == mesh.Secret {
				f, ok := metaFactories[ns]
				if !ok {
					f = metadatainformer.NewFilteredSharedInformerFactory(meta, 0, ns, nil)
					metaFactories[ns] = f
				}
				inf = f.ForResource(gvr).Informer()
			} else {
				f, ok := dynFactories[ns]
				if !ok {
					f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
					dynFactories[ns] = f
				}
				inf = f.ForResource(gvr).Informer()
			}
			info, version := p.info, p.version
			if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(obj any) { w.enqueue(info, version, obj, false) },
				UpdateFunc: func(_, obj any) { w.enqueue(info, version, obj, false) },
				DeleteFunc: func(obj any) { w.enqueue(info, version, obj, true) },
			}); err != nil {
				return fmt.Errorf("cluster %s: watch %s: %w", opts.Cluster, p.info.GroupResource(), err)
			}
			_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
				opts.Logger.Warn("watch failed; retrying", "cluster", opts.Cluster, "resource", info.GroupResource(), "err", err)
			})
			informers = append(informers, inf)
		}
	}
	for _, f := range dynFactories {
		f.Start(ctx.Done())
	}
	for _, f := range metaFactories {
		f.Start(ctx.Done())
	}
	defer func() {
		cancel()
		for _, f := range dynFactories {
			f.Shutdown()
		}
		for _, f := range metaFactories {
			f.Shutdown()
		}
	}()
	syncs := make([]cache.InformerSynced, len(informers))
	for i, inf := range informers {
		syncs[i] = inf.HasSynced
	}
	if !cache.WaitForCacheSync(ctx.Done(), syncs...) {
		return fmt.Errorf("cluster %s: informers did not sync: %w", opts.Cluster, context.Cause(ctx))
	}

	// Everything delivered so far is in the stores: start from them. A
	// notification still on its way repeats a version the stores hold, and
	// the version check drops it.
	w.mu.Lock()
	w.queue = nil
	w.mu.Unlock()
	res, err := w.initial(ctx, informers, plan)
	if err != nil {
		return err
	}
	res.Skipped = append(res.Skipped, skipped...)
	sortSkipped(res.Skipped)
	if err := h.Synced(ctx, res); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		}
		w.mu.Lock()
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		changes, problems, notices := w.decode(ctx, batch)
		for _, p := range append(problems, notices...) {
			w.opts.Logger.Warn("changed object", "cluster", w.opts.Cluster, "problem", p.Error())
		}
		if len(changes) == 0 {
			continue
		}
		if err := h.Changed(ctx, changes); err != nil {
			return err
		}
	}
}

// planned is one kind to watch: its version and the namespaces ("" for
// cluster-wide) its informers cover.
type planned struct {
	info       mesh.KindInfo
	version    string
	namespaces []string
}

// plan finds what to watch: served kinds the identity may list, cluster-wide
// or (when that is forbidden and namespaces were given) per namespace.
func (c *client) plan(ctx context.Context, opts Options) ([]planned, []Skipped, error) {
	served, err := c.served(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("discover API resources: %w", err)
	}
	var out []planned
	var skipped []Skipped
	for _, k := range opts.Kinds {
		v, ok := served.version(k)
		if !ok {
			skipped = append(skipped, Skipped{Kind: k.GroupKind, Resource: k.GroupResource(), Reason: NotInstalled, Detail: served.describe(k)})
			continue
		}
		err := c.probe(ctx, k, v, "")
		switch {
		case err == nil:
			out = append(out, planned{info: k, version: v, namespaces: []string{""}})
			continue
		case apierrors.IsForbidden(err) && k.Namespaced && len(opts.Namespaces) > 0:
			p := planned{info: k, version: v}
			for _, ns := range scope(opts) {
				if err := c.probe(ctx, k, v, ns); err != nil {
					skipped = append(skipped, skipFor(k, ns, err))
					continue
				}
				p.namespaces = append(p.namespaces, ns)
			}
			if len(p.namespaces) > 0 {
				out = append(out, p)
			}
		default:
			skipped = append(skipped, skipFor(k, "", err))
		}
	}
	return out, skipped, nil
}

// probe lists one object of a kind: whether the identity may list it.
func (c *client) probe(ctx context.Context, k mesh.KindInfo, version, namespace string) error {
	req := c.rest.Get().AbsPath(resourcePath(k, version, namespace)...).Param("limit", "1")
	if k.GroupKind == mesh.Secret {
		req = req.SetHeader("Accept", metadataAccept)
	}
	_, err := req.DoRaw(ctx)
	return err
}

type queued struct {
	info    mesh.KindInfo
	version string
	obj     any
	deleted bool
}

type watcher struct {
	opts  Options
	mu    sync.Mutex
	queue []queued
	wake  chan struct{}
	// versions holds each object's last resourceVersion: an informer
	// replays objects on relist, and an unchanged object is no change.
	versions map[mesh.Key]string
}

func (w *watcher) enqueue(info mesh.KindInfo, version string, obj any, deleted bool) {
	w.mu.Lock()
	w.queue = append(w.queue, queued{info: info, version: version, obj: obj, deleted: deleted})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// initial decodes every object in the informers' stores.
func (w *watcher) initial(ctx context.Context, informers []cache.SharedIndexInformer, plan []planned) (*Result, error) {
	var batch []queued
	i := 0
	for _, p := range plan {
		for range p.namespaces {
			for _, obj := range informers[i].GetStore().List() {
				batch = append(batch, queued{info: p.info, version: p.version, obj: obj})
			}
			i++
		}
	}
	res := &Result{Cluster: w.opts.Cluster}
	for _, p := range plan {
		if p.info.Group == mesh.GroupNetworking {
			res.IstioCRDs = true
		}
	}
	changes, problems, notices := w.decode(ctx, batch)
	for _, ch := range changes {
		if ch.Object != nil {
			res.Objects = append(res.Objects, ch.Object)
		}
	}
	res.Problems, res.Notices = problems, notices
	res.finish()
	return res, nil
}

// decode turns informer notifications into changes, in order, dropping
// replays of versions already seen; it returns the decoder's problems and
// notices beside them.
func (w *watcher) decode(ctx context.Context, batch []queued) ([]Change, []files.Problem, []files.Problem) {
	type pending struct {
		key     mesh.Key
		deleted bool
		obj     *mesh.Object
		named   int // index into named, or -1
	}
	var named []files.Named
	var refs []string // objectName of each named item, to find it decoded
	var order []pending
	for _, q := range batch {
		if q.deleted {
			if d, ok := q.obj.(cache.DeletedFinalStateUnknown); ok {
				q.obj = d.Obj
			}
		}
		acc, ok := metaOf(q.obj)
		if !ok {
			continue
		}
		key := mesh.Key{GroupKind: q.info.GroupKind, Cluster: w.opts.Cluster, Namespace: acc.GetNamespace(), Name: acc.GetName()}
		if key.Namespace == "" && q.info.Namespaced {
			key.Namespace = "default"
		}
		if q.deleted {
			delete(w.versions, key)
			order = append(order, pending{key: key, deleted: true, named: -1})
			continue
		}
		if rv := acc.GetResourceVersion(); rv != "" && w.versions[key] == rv {
			continue
		} else {
			w.versions[key] = rv
		}
		switch o := q.obj.(type) {
		case *metav1.PartialObjectMetadata:
			if obj, ok := secretFromMeta(o, q.version, w.opts.Cluster); ok {
				order = append(order, pending{key: key, obj: obj, named: -1})
			}
		case *unstructured.Unstructured:
			raw, err := o.MarshalJSON()
			if err != nil {
				w.opts.Logger.Warn("cannot encode object", "cluster", w.opts.Cluster, "object", key, "err", err)
				continue
			}
			apiVersion := q.version
			if q.info.Group != "" {
				apiVersion = q.info.Group + "/" + q.version
			}
			doc, name, err := normalize(raw, apiVersion, q.info.Kind)
			if err != nil {
				continue
			}
			order = append(order, pending{key: key, named: len(named)})
			named = append(named, files.Named{Name: fmt.Sprintf("%s: %s %s", w.opts.Cluster, q.info.Kind, name), Data: doc})
			refs = append(refs, refName(w.opts.Cluster, q.info.Kind, key, q.info.Namespaced))
		}
	}
	objs, problems, notices, err := decodeLive(ctx, named, w.opts.Cluster, w.opts.Logger)
	if err != nil {
		w.opts.Logger.Warn("cannot decode objects", "cluster", w.opts.Cluster, "err", err)
		return nil, nil, nil
	}
	decoded := make(map[string]*mesh.Object, len(objs))
	for _, o := range objs {
		decoded[objectName(w.opts.Cluster, o)] = o
	}
	out := make([]Change, 0, len(order))
	for _, p := range order {
		switch {
		case p.deleted:
			out = append(out, Change{Key: p.key})
		case p.obj != nil:
			out = append(out, Change{Key: p.key, Object: p.obj})
		default:
			if o := decoded[refs[p.named]]; o != nil {
				out = append(out, Change{Key: p.key, Object: o})
			}
		}
	}
	return out, problems, notices
}

// refName is what objectName gives the object of key once decoded.
func refName(cluster, kind string, key mesh.Key, namespaced bool) string {
	r := mesh.Ref{Kind: kind, Name: key.Name}
	if namespaced {
		r.Namespace = key.Namespace
	}
	return cluster + ": " + r.String()
}

func metaOf(obj any) (metav1.Object, bool) {
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		return o, true
	case *metav1.PartialObjectMetadata:
		return o, true
	}
	return nil, false
}

func sortSkipped(s []Skipped) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Resource != s[j].Resource {
			return s[i].Resource < s[j].Resource
		}
		return s[i].Namespace < s[j].Namespace
	})
}
