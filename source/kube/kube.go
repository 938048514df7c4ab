// Package kube reads a mesh from a live cluster through its Kubernetes API:
// every kind the snapshot models, listed with pagination; Secrets as metadata
// only, so that secret data never leaves the API server; kinds whose CRDs
// are not installed skipped quietly, kinds the identity may not list skipped
// and reported.
//
// Objects are decoded by the same code as files (package source/files), so
// the analyzers see live objects exactly as they would see the same objects
// written to YAML. They carry the cluster's name instead of a file.
package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	meshconfig "istio.io/api/mesh/v1alpha1"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

// Options configure a read.
type Options struct {
	// Cluster names the cluster in findings and messages.
	Cluster string
	// Namespaces, when set, are the namespaces to fall back to for a kind the
	// identity may not list cluster-wide (the root namespace is added). Kinds
	// it may list cluster-wide are still read in full: a VirtualService in
	// one namespace routes to Services of others.
	Namespaces []string
	// RootNamespace is the mesh's root namespace (default istio-system).
	RootNamespace string
	// PageSize is the number of objects asked for per list call (default 500).
	PageSize int64
	// Parallelism bounds concurrent list calls (default 8).
	Parallelism int
	// Kinds to read (default every modeled kind).
	Kinds  []mesh.KindInfo
	Logger *slog.Logger
}

// Reason says why a kind was not read.
type Reason string

// Reasons a kind is skipped.
const (
	// NotInstalled: the API server does not serve the kind (its CRD is not
	// installed, or not in a version meshpilot reads).
	NotInstalled Reason = "not installed"
	// Forbidden: the identity may not list it (RBAC).
	Forbidden Reason = "forbidden"
	// Failed: listing failed for another reason.
	Failed Reason = "failed"
)

// Skipped is a kind (in a namespace, or cluster-wide) that was not read.
type Skipped struct {
	Kind      mesh.GroupKind
	Resource  string // "virtualservices.networking.istio.io"
	Namespace string // "" for cluster-wide
	Reason    Reason
	Detail    string
}

// Result is what a read produced.
type Result struct {
	Cluster string
	Objects []*mesh.Object
	// Skipped kinds, sorted; NotInstalled ones are expected and quiet.
	Skipped []Skipped
	// Problems are objects that could not be decoded; Notices are worth
	// saying but not errors (fields unknown to meshpilot's API version).
	Problems []files.Problem
	Notices  []files.Problem
	// MeshConfig and MeshNetworks come from the istio ConfigMap of the root
	// namespace, when it was read; nil otherwise.
	MeshConfig   *meshconfig.MeshConfig
	MeshNetworks *meshconfig.MeshNetworks
	IstioCRDs    bool   // networking.istio.io is served
	Istiod       string // "namespace/name" of an istiod Deployment, or ""
	ServerHost   string
	ListRequests int
}

// Snapshot builds a snapshot of the objects read.
// Mesh config and networks given in opts win over the cluster's.
func (r *Result) Snapshot(opts mesh.Options) *mesh.Snapshot {
	if opts.MeshConfig == nil {
		opts.MeshConfig = r.MeshConfig
	}
	if opts.MeshNetworks == nil {
		opts.MeshNetworks = r.MeshNetworks
	}
	return mesh.New(r.Objects, opts)
}

// finish puts the objects in one order, reads the mesh config from the
// istio ConfigMap among them and finds istiod: what Load and Watch share.
func (r *Result) finish() {
	sortObjects(r.Objects)
	mc := &files.Result{Objects: r.Objects}
	mc.ReadMeshConfigMaps()
	r.MeshConfig, r.MeshNetworks = mc.MeshConfig, mc.MeshNetworks
	r.Problems = append(r.Problems, mc.Problems...)
	r.Istiod = findIstiod(r.Objects)
	sortSkipped(r.Skipped)
}

// decodeLive decodes items an API server sent through the file decoder.
// The objects come from the cluster, not a file; a field meshpilot's API
// types do not know was accepted by the API server against its own schema,
// so it is version skew, not a mistake: a notice, and the object is kept.
func decodeLive(ctx context.Context, named []files.Named, cluster string, log *slog.Logger) (objs []*mesh.Object, problems, notices []files.Problem, err error) {
	if len(named) == 0 {
		return nil, nil, nil, nil
	}
	decoded, err := files.LoadBytes(ctx, named, files.Options{Logger: log})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("decode: %w", err)
	}
	for _, o := range decoded.Objects {
		o.Source = mesh.Source{Cluster: cluster}
		for _, fe := range o.SchemaErrors {
			notices = append(notices, files.Problem{File: objectName(cluster, o), Field: fe.Path,
				Msg: fmt.Sprintf("%s (ignored: the API server accepted it; meshpilot's API types may be older than the cluster's)", fe.Message)})
		}
		o.SchemaErrors = nil
	}
	return decoded.Objects, decoded.Problems, append(notices, decoded.Notices...), nil
}

// Lost returns the skipped kinds that lose information: forbidden or
// failed, not merely not installed.
func (r *Result) Lost() []Skipped {
	var out []Skipped
	for _, s := range r.Skipped {
		if s.Reason != NotInstalled {
			out = append(out, s)
		}
	}
	return out
}

// Load reads every modeled kind from the cluster cfg points at.
func Load(ctx context.Context, cfg *rest.Config, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	c, err := newClient(cfg, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	res := &Result{Cluster: opts.Cluster, ServerHost: cfg.Host}
	served, err := c.served(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: discover API resources at %s: %w", opts.Cluster, cfg.Host, err)
	}
	res.IstioCRDs = len(served.groups[mesh.GroupNetworking]) > 0

	type job struct {
		info    mesh.KindInfo
		version string
	}
	var jobs []job
	for _, k := range opts.Kinds {
		v, ok := served.version(k)
		if !ok {
			res.Skipped = append(res.Skipped, Skipped{Kind: k.GroupKind, Resource: k.GroupResource(), Reason: NotInstalled,
				Detail: served.describe(k)})
			continue
		}
		jobs = append(jobs, job{k, v})
	}

	var (
		mu    sync.Mutex
		named []files.Named
		lists [][]*mesh.Object // Secrets, built without the decoder
		wg    sync.WaitGroup
		sem   = make(chan struct{}, opts.Parallelism)
	)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			out := c.readKind(ctx, j.info, j.version, opts)
			mu.Lock()
			defer mu.Unlock()
			named = append(named, out.named...)
			lists = append(lists, out.objects)
			res.Skipped = append(res.Skipped, out.skipped...)
			res.ListRequests += out.requests
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}

	// One order whatever the goroutines did: findings and reports must not
	// depend on scheduling.
	sort.Slice(named, func(i, j int) bool { return named[i].Name < named[j].Name })
	objs, problems, notices, err := decodeLive(ctx, named, opts.Cluster, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	res.Objects, res.Problems, res.Notices = objs, problems, notices
	for _, l := range lists {
		res.Objects = append(res.Objects, l...)
	}
	res.finish()
	return res, nil
}

func withDefaults(o Options) Options {
	if o.Cluster == "" {
		o.Cluster = "cluster"
	}
	if o.RootNamespace == "" {
		o.RootNamespace = "istio-system"
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 8
	}
	if o.Kinds == nil {
		o.Kinds = mesh.Kinds()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// client lists resources as raw JSON.
type client struct {
	rest *rest.RESTClient
	disc *discovery.DiscoveryClient
}

// logWarnings sends the API server's deprecation warnings ("v1 Endpoints is
// deprecated") to the logger at debug level instead of client-go's stderr:
// meshpilot reads every kind it models, deprecated or not.
type logWarnings struct{ log *slog.Logger }

func (l logWarnings) HandleWarningHeader(code int, agent, text string) {
	l.log.Debug("API server warning", "code", code, "agent", agent, "text", text)
}

func newClient(cfg *rest.Config, log *slog.Logger) (*client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = logWarnings{log}
	// Listing forty kinds page by page: client-go's default 5 QPS would make
	// a large cluster's read take minutes.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	cfg.GroupVersion = &schema.GroupVersion{}
	cfg.APIPath = "/"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	if cfg.UserAgent == "" {
		cfg.UserAgent = "meshpilot"
	}
	rc, err := rest.UnversionedRESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("rest client: %w", err)
	}
	return &client{rest: rc, disc: disc}, nil
}

// servedResources is what discovery says the server serves.
type servedResources struct {
	// byResource maps "resource.group" to its served versions, preferred first.
	byResource map[string][]string
	groups     map[string][]string
}

func (s servedResources) version(k mesh.KindInfo) (string, bool) {
	got := s.byResource[k.GroupResource()]
	for _, want := range k.Versions {
		for _, v := range got {
			if v == want {
				return v, true
			}
		}
	}
	return "", false
}

func (s servedResources) describe(k mesh.KindInfo) string {
	if got := s.byResource[k.GroupResource()]; len(got) > 0 {
		return fmt.Sprintf("served in %s; meshpilot reads %s", strings.Join(got, ", "), strings.Join(k.Versions, ", "))
	}
	return "the API server does not serve " + k.GroupResource()
}

func (c *client) served(ctx context.Context) (servedResources, error) {
	s := servedResources{byResource: map[string][]string{}, groups: map[string][]string{}}
	_, lists, err := c.disc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return s, err
	}
	// A group that failed discovery (an aggregated API down) is simply not
	// served; its kinds are reported as skipped.
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		s.groups[gv.Group] = append(s.groups[gv.Group], gv.Version)
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			key := r.Name
			if gv.Group != "" {
				key += "." + gv.Group
			}
			s.byResource[key] = append(s.byResource[key], gv.Version)
		}
	}
	return s, ctx.Err()
}

func hasVerb(verbs metav1.Verbs, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

type kindResult struct {
	named    []files.Named
	objects  []*mesh.Object
	skipped  []Skipped
	requests int
}

// readKind lists one kind: cluster-wide, or, when that is forbidden and
// namespaces were given, namespace by namespace.
func (c *client) readKind(ctx context.Context, k mesh.KindInfo, version string, opts Options) kindResult {
	var out kindResult
	items, n, err := c.list(ctx, k, version, "", opts.PageSize)
	out.requests += n
	if err == nil {
		out.add(k, version, items, opts.Cluster)
		return out
	}
	if apierrors.IsForbidden(err) && k.Namespaced && len(opts.Namespaces) > 0 {
		for _, ns := range scope(opts) {
			items, n, err := c.list(ctx, k, version, ns, opts.PageSize)
			out.requests += n
			if err != nil {
				out.skipped = append(out.skipped, skipFor(k, ns, err))
				continue
			}
			out.add(k, version, items, opts.Cluster)
		}
		return out
	}
	out.skipped = append(out.skipped, skipFor(k, "", err))
	return out
}

func scope(opts Options) []string {
	seen := map[string]bool{}
	var out []string
	for _, ns := range append(append([]string{}, opts.Namespaces...), opts.RootNamespace) {
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out
}

func skipFor(k mesh.KindInfo, ns string, err error) Skipped {
	s := Skipped{Kind: k.GroupKind, Resource: k.GroupResource(), Namespace: ns, Reason: Failed, Detail: err.Error()}
	switch {
	case apierrors.IsForbidden(err):
		s.Reason = Forbidden
	case apierrors.IsNotFound(err):
		s.Reason = NotInstalled
	}
	return s
}

func (out *kindResult) add(k mesh.KindInfo, version string, items []json.RawMessage, cluster string) {
	apiVersion := version
	if k.Group != "" {
		apiVersion = k.Group + "/" + version
	}
	for _, raw := range items {
		if k.GroupKind == mesh.Secret {
			if o, ok := secretMeta(raw, version, cluster); ok {
				out.objects = append(out.objects, o)
			}
			continue
		}
		doc, name, err := normalize(raw, apiVersion, k.Kind)
		if err != nil {
			out.skipped = append(out.skipped, Skipped{Kind: k.GroupKind, Resource: k.GroupResource(), Reason: Failed,
				Detail: fmt.Sprintf("decode list item: %v", err)})
			continue
		}
		out.named = append(out.named, files.Named{Name: fmt.Sprintf("%s: %s %s", cluster, k.Kind, name), Data: doc})
	}
}

// normalize gives a list item its apiVersion and kind (typed lists omit
// them) and drops managedFields, which no check reads.
func normalize(raw json.RawMessage, apiVersion, kind string) ([]byte, string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "", err
	}
	m["apiVersion"] = apiVersion
	m["kind"] = kind
	name := ""
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
		n, _ := md["name"].(string)
		if ns, _ := md["namespace"].(string); ns != "" {
			name = ns + "/" + n
		} else {
			name = n
		}
	}
	b, err := json.Marshal(m)
	return b, name, err
}

// secretMeta builds a Secret from its metadata: the list was asked for as
// PartialObjectMetadata, so the API server sent no data.
func secretMeta(raw json.RawMessage, version, cluster string) (*mesh.Object, bool) {
	var pm metav1.PartialObjectMetadata
	if err := json.Unmarshal(raw, &pm); err != nil {
		return nil, false
	}
	return secretFromMeta(&pm, version, cluster)
}

// secretFromMeta builds a Secret from the metadata the API server sent.
func secretFromMeta(pm *metav1.PartialObjectMetadata, version, cluster string) (*mesh.Object, bool) {
	if pm.Name == "" {
		return nil, false
	}
	meta := *pm.ObjectMeta.DeepCopy()
	meta.ManagedFields = nil
	return &mesh.Object{GroupKind: mesh.Secret, Version: version, Meta: &meta,
		Obj: &mesh.SecretInfo{MetadataOnly: true}, Source: mesh.Source{Cluster: cluster}}, true
}

// resourcePath is the REST path of a kind's collection, cluster-wide or in
// a namespace.
func resourcePath(k mesh.KindInfo, version, namespace string) []string {
	path := []string{"/api", version}
	if k.Group != "" {
		path = []string{"/apis", k.Group, version}
	}
	if namespace != "" {
		path = append(path, "namespaces", namespace)
	}
	return append(path, k.Resource)
}

// metadataAccept asks for PartialObjectMetadataList, as client-go's metadata
// client does.
const metadataAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1"

// list follows a list's continue tokens; it returns the items and the number
// of requests made.
func (c *client) list(ctx context.Context, k mesh.KindInfo, version, namespace string, pageSize int64) ([]json.RawMessage, int, error) {
	path := resourcePath(k, version, namespace)
	var items []json.RawMessage
	cont := ""
	requests := 0
	for {
		req := c.rest.Get().AbsPath(path...).Param("limit", fmt.Sprint(pageSize))
		if cont != "" {
			req = req.Param("continue", cont)
		}
		if k.GroupKind == mesh.Secret {
			req = req.SetHeader("Accept", metadataAccept)
		}
		requests++
		body, err := req.DoRaw(ctx)
		if err != nil {
			return nil, requests, fmt.Errorf("list %s: %w", k.GroupResource(), err)
		}
		var page struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, requests, fmt.Errorf("list %s: decode response: %w", k.GroupResource(), err)
		}
		if k.GroupKind == mesh.Secret && page.Kind != "PartialObjectMetadataList" {
			// Never keep secret data: a server that ignored the metadata
			// request is refused rather than read.
			return nil, requests, fmt.Errorf("list %s: the API server answered %q instead of metadata only; not read", k.GroupResource(), page.Kind)
		}
		items = append(items, page.Items...)
		if page.Metadata.Continue == "" {
			return items, requests, nil
		}
		cont = page.Metadata.Continue
	}
}

func objectName(cluster string, o *mesh.Object) string {
	return cluster + ": " + o.Ref().String()
}

func sortObjects(objs []*mesh.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Meta.Namespace != b.Meta.Namespace {
			return a.Meta.Namespace < b.Meta.Namespace
		}
		return a.Meta.Name < b.Meta.Name
	})
}

// findIstiod names an istiod Deployment: Istio is detected by its CRDs and
// its control plane, not by Rancher's deprecated rancher-istio chart.
func findIstiod(objs []*mesh.Object) string {
	for _, o := range objs {
		if o.GroupKind != mesh.Deployment {
			continue
		}
		if o.Labels()["app"] == "istiod" || strings.HasPrefix(o.Name(), "istiod") {
			return o.Namespace() + "/" + o.Name()
		}
	}
	return ""
}
