// Package overhead computes what the sidecar data plane costs a mesh, per
// namespace: how many pods run with an istio-proxy sidecar, without one or
// in ambient mode, the CPU and memory the proxies request (and where each
// figure came from), namespaces labelled for injection whose pods lack a
// proxy, and which namespaces could move to ambient mode because nothing
// in them needs an L7 proxy.
//
// The package is pure: it reads a *mesh.Snapshot and returns a Report.
package overhead

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/meshpilot/meshpilot/mesh"
)

// Source says where a proxy resource figure came from.
type Source string

// The sources of proxy resource figures, in order of precedence.
const (
	// SourceContainer: resources.requests of the pod's istio-proxy container.
	SourceContainer Source = "container"
	// SourceAnnotation: the pod's sidecar.istio.io/proxyCPU or proxyMemory annotation.
	SourceAnnotation Source = "annotation"
	// SourceInjector: global.proxy.resources.requests in the values of the
	// istio-sidecar-injector ConfigMap.
	SourceInjector Source = "injector"
	// SourceDefault: Istio's documented defaults, 100m CPU and 128Mi memory.
	SourceDefault Source = "default"
)

// Sources lists every source in order of precedence.
var Sources = []Source{SourceContainer, SourceAnnotation, SourceInjector, SourceDefault}

// Istio's default proxy requests (global.proxy.resources.requests).
const (
	DefaultCPU    = "100m"
	DefaultMemory = "128Mi"
)

// Annotations that set a pod's proxy requests.
const (
	AnnotationProxyCPU    = "sidecar.istio.io/proxyCPU"
	AnnotationProxyMemory = "sidecar.istio.io/proxyMemory"
)

// Data plane modes of a workload.
const (
	ModeSidecar = "sidecar"
	ModeAmbient = "ambient"
	ModeNone    = "none"
)

// Ambient candidacy of a namespace.
const (
	CandidateYes     = "yes"
	CandidateNo      = "no"
	CandidateAmbient = "already ambient"
	CandidateNA      = "n/a"
)

// Amount is a total of proxy requests: CPU in millicores or memory in
// bytes, with how many pods each source contributed.
type Amount struct {
	Quantity string         `json:"quantity"` // canonical Kubernetes quantity: "1800m", "2304Mi"
	Value    int64          `json:"value"`    // millicores (CPU) or bytes (memory)
	Sources  map[Source]int `json:"sources,omitempty"`
	memory   bool
}

func (a *Amount) add(v int64, src Source, pods int) {
	a.Value += v * int64(pods)
	if pods > 0 {
		if a.Sources == nil {
			a.Sources = map[Source]int{}
		}
		a.Sources[src] += pods
	}
	a.format()
}

func (a *Amount) merge(b Amount) {
	a.Value += b.Value
	for s, n := range b.Sources {
		if a.Sources == nil {
			a.Sources = map[Source]int{}
		}
		a.Sources[s] += n
	}
	a.format()
}

func (a *Amount) format() {
	if a.memory {
		a.Quantity = resource.NewQuantity(a.Value, resource.BinarySI).String()
	} else {
		a.Quantity = resource.NewMilliQuantity(a.Value, resource.DecimalSI).String()
	}
}

// SourceList returns the sources that contributed, in precedence order.
func (a Amount) SourceList() []Source {
	var out []Source
	for _, s := range Sources {
		if a.Sources[s] > 0 {
			out = append(out, s)
		}
	}
	return out
}

func newAmount(memory bool) Amount {
	a := Amount{memory: memory}
	a.format()
	return a
}

// Workload is one workload's share.
type Workload struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Pods     int    `json:"pods"` // replicas; 1 for a Pod
	Mode     string `json:"mode"` // sidecar | ambient | none
	Why      string `json:"why"`  // what decided the mode
	ProxyCPU string `json:"proxyCPU,omitempty"`
	// CPUSource and MemorySource say where the per-pod figures came from.
	CPUSource    Source `json:"cpuSource,omitempty"`
	ProxyMemory  string `json:"proxyMemory,omitempty"`
	MemorySource Source `json:"memorySource,omitempty"`
}

// Missing is a workload of a namespace labelled for injection that runs
// without a proxy.
type Missing struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Pods   int    `json:"pods"`
	Reason string `json:"reason"`
}

// Namespace is the overhead of one namespace.
type Namespace struct {
	Name           string `json:"name"`
	InjectionLabel string `json:"injectionLabel,omitempty"` // "istio-injection=enabled", "istio.io/rev=canary"
	Workloads      int    `json:"workloads"`
	Pods           int    `json:"pods"`
	WithProxy      int    `json:"withProxy"`    // pods
	WithoutProxy   int    `json:"withoutProxy"` // pods, ambient excluded
	Ambient        int    `json:"ambient"`      // pods
	ProxyCPU       Amount `json:"proxyCPU"`
	ProxyMemory    Amount `json:"proxyMemory"`
	// MissingProxy lists workloads without a proxy although the namespace
	// is labelled for injection.
	MissingProxy []Missing `json:"missingProxy,omitempty"`
	// AmbientCandidate is yes, no (see AmbientBlockers), already ambient,
	// or n/a (control plane and system namespaces).
	AmbientCandidate string     `json:"ambientCandidate"`
	AmbientBlockers  []string   `json:"ambientBlockers,omitempty"`
	Entries          []Workload `json:"entries"`
}

// Totals sums every namespace.
type Totals struct {
	Workloads    int    `json:"workloads"`
	Pods         int    `json:"pods"`
	WithProxy    int    `json:"withProxy"`
	WithoutProxy int    `json:"withoutProxy"`
	Ambient      int    `json:"ambient"`
	ProxyCPU     Amount `json:"proxyCPU"`
	ProxyMemory  Amount `json:"proxyMemory"`
	// AmbientCandidates names the namespaces that could move to ambient.
	AmbientCandidates []string `json:"ambientCandidates"`
}

// Report is the whole computation.
type Report struct {
	Namespaces []Namespace `json:"namespaces"`
	Total      Totals      `json:"total"`
	// Injector names the ConfigMap whose values gave injector defaults,
	// when one was among the inputs ("istio-system/istio-sidecar-injector").
	Injector string `json:"injector,omitempty"`
	// InjectorCPU and InjectorMemory are its global.proxy.resources.requests.
	InjectorCPU    string `json:"injectorCPU,omitempty"`
	InjectorMemory string `json:"injectorMemory,omitempty"`
}

// systemNamespaces are never injected nor enrolled.
var systemNamespaces = map[string]bool{
	"kube-system": true, "kube-public": true, "kube-node-lease": true, "local-path-storage": true,
}

const injectorConfig = "istio-sidecar-injector"

// injectorDefaults are the proxy requests of one injector ConfigMap.
type injectorDefaults struct {
	ref         string
	cpu, memory *resource.Quantity
	byDefault   bool // sidecarInjectorWebhook.enableNamespacesByDefault
}

type computer struct {
	snap     *mesh.Snapshot
	present  bool                         // an injector webhook or ConfigMap is among the inputs
	injector map[string]*injectorDefaults // by revision ("" for the default)
	nodes    int
}

// Compute builds the report of a snapshot.
func Compute(snap *mesh.Snapshot) *Report {
	c := &computer{snap: snap, injector: map[string]*injectorDefaults{}, nodes: len(snap.List(mesh.Node))}
	c.readInjectors()
	rep := &Report{}
	if d := c.injectorFor(""); d != nil {
		rep.Injector = d.ref
		if d.cpu != nil {
			rep.InjectorCPU = d.cpu.String()
		}
		if d.memory != nil {
			rep.InjectorMemory = d.memory.String()
		}
	}
	byNS := map[string][]*mesh.Workload{}
	for _, w := range snap.Workloads() {
		byNS[w.Namespace] = append(byNS[w.Namespace], w)
	}
	names := make([]string, 0, len(byNS))
	for n := range byNS {
		names = append(names, n)
	}
	sort.Strings(names)
	tot := Totals{ProxyCPU: newAmount(false), ProxyMemory: newAmount(true), AmbientCandidates: []string{}}
	blockers := c.ambientBlockers()
	for _, name := range names {
		ns := c.namespace(name, byNS[name])
		c.candidate(&ns, blockers[name])
		tot.Workloads += ns.Workloads
		tot.Pods += ns.Pods
		tot.WithProxy += ns.WithProxy
		tot.WithoutProxy += ns.WithoutProxy
		tot.Ambient += ns.Ambient
		tot.ProxyCPU.merge(ns.ProxyCPU)
		tot.ProxyMemory.merge(ns.ProxyMemory)
		if ns.AmbientCandidate == CandidateYes {
			tot.AmbientCandidates = append(tot.AmbientCandidates, name)
		}
		rep.Namespaces = append(rep.Namespaces, ns)
	}
	rep.Total = tot
	return rep
}

func (c *computer) readInjectors() {
	for _, o := range c.snap.List(mesh.MutatingWebhookConfiguration) {
		if strings.HasPrefix(o.Name(), injectorConfig) || strings.HasPrefix(o.Name(), "istio-revision-tag") {
			c.present = true
		}
	}
	for _, o := range c.snap.List(mesh.ConfigMap) {
		name := o.Name()
		if name != injectorConfig && !strings.HasPrefix(name, injectorConfig+"-") {
			continue
		}
		c.present = true
		rev := strings.TrimPrefix(strings.TrimPrefix(name, injectorConfig), "-")
		if _, dup := c.injector[rev]; dup {
			continue
		}
		d := &injectorDefaults{ref: o.Namespace() + "/" + name}
		cm, _ := o.Obj.(*corev1.ConfigMap)
		var values map[string]any
		if cm != nil && json.Unmarshal([]byte(cm.Data["values"]), &values) == nil {
			d.cpu = quantityValue(lookup(values, "global", "proxy", "resources", "requests", "cpu"))
			d.memory = quantityValue(lookup(values, "global", "proxy", "resources", "requests", "memory"))
			d.byDefault, _ = lookup(values, "sidecarInjectorWebhook", "enableNamespacesByDefault").(bool)
		}
		c.injector[rev] = d
	}
}

// injectorFor returns the injector serving a revision: its own ConfigMap,
// else the default one.
func (c *computer) injectorFor(rev string) *injectorDefaults {
	if rev == "default" {
		rev = ""
	}
	if d, ok := c.injector[rev]; ok {
		return d
	}
	return c.injector[""]
}

func lookup(v map[string]any, path ...string) any {
	var cur any = v
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func quantityValue(v any) *resource.Quantity {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = fmt.Sprint(x)
	default:
		return nil
	}
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	return &q
}

// replicas is how many pods a workload stands for.
func (c *computer) replicas(w *mesh.Workload) int {
	if !w.FromTemplate {
		return 1
	}
	one := func(p *int32) int {
		if p == nil {
			return 1
		}
		return int(*p)
	}
	switch v := w.Object.Obj.(type) {
	case *appsv1.Deployment:
		return one(v.Spec.Replicas)
	case *appsv1.StatefulSet:
		return one(v.Spec.Replicas)
	case *appsv1.ReplicaSet:
		return one(v.Spec.Replicas)
	case *appsv1.DaemonSet:
		if c.nodes > 0 {
			return c.nodes
		}
		return 1
	case *batchv1.Job:
		return one(v.Spec.Parallelism)
	case *batchv1.CronJob:
		return one(v.Spec.JobTemplate.Spec.Parallelism)
	}
	return 1
}

// injectionLabel says how a namespace asks for injection, "" when it does not.
func injectionLabel(labels map[string]string) string {
	if v := labels[mesh.LabelInjection]; v != "" {
		if v == "enabled" {
			return mesh.LabelInjection + "=enabled"
		}
		return ""
	}
	if v := labels[mesh.LabelRevision]; v != "" {
		return mesh.LabelRevision + "=" + v
	}
	return ""
}

func proxyContainer(spec *corev1.PodSpec) *corev1.Container {
	for _, list := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for i := range list {
			if list[i].Name == mesh.ProxyContainer {
				return &list[i]
			}
		}
	}
	return nil
}

// optedOut reports whether a pod opts out of injection; the label wins
// over the legacy annotation.
func optedOut(w *mesh.Workload) (bool, string) {
	v, where := w.Annotations[mesh.LabelSidecarInject], "annotation"
	if l, ok := w.Labels[mesh.LabelSidecarInject]; ok {
		v, where = l, "label"
	}
	return strings.EqualFold(v, "false"), where
}

// mode decides a workload's data plane, why, and (for a namespace
// labelled for injection) why it lacks a proxy.
func (c *computer) mode(w *mesh.Workload, nsLabels map[string]string) (mode, why, missing string) {
	if proxyContainer(w.Spec) != nil {
		return ModeSidecar, "has an istio-proxy container", ""
	}
	labelled := injectionLabel(nsLabels)
	out, where := optedOut(w)
	switch {
	case w.Spec.HostNetwork:
		if labelled != "" {
			missing = "uses the host network, which is never injected"
		}
	case !w.FromTemplate:
		if labelled != "" && !out {
			missing = "no istio-proxy container: the pod was created before injection was enabled or bypassed the injector; restart it"
		}
	case out:
		if labelled != "" {
			missing = "opts out with " + where + " " + mesh.LabelSidecarInject + "=false"
		}
	case nsLabels[mesh.LabelInjection] == "enabled":
		return ModeSidecar, "namespace " + mesh.LabelInjection + "=enabled", ""
	case nsLabels[mesh.LabelInjection] == "" && nsLabels[mesh.LabelRevision] != "":
		return ModeSidecar, "namespace " + mesh.LabelRevision + "=" + nsLabels[mesh.LabelRevision], ""
	case nsLabels[mesh.LabelInjection] != "":
		// istio-injection=disabled (or anything but enabled) turns injection off.
	case c.present && strings.EqualFold(w.Labels[mesh.LabelSidecarInject], "true"):
		return ModeSidecar, "label " + mesh.LabelSidecarInject + "=true", ""
	case c.present && w.Labels[mesh.LabelRevision] != "":
		return ModeSidecar, "label " + mesh.LabelRevision + "=" + w.Labels[mesh.LabelRevision], ""
	case c.injectorFor("") != nil && c.injectorFor("").byDefault && !systemNamespaces[w.Namespace] &&
		w.Namespace != c.snap.RootNamespace() && nsLabels[mesh.LabelDataplaneMode] != ModeAmbient:
		return ModeSidecar, "the injector enables namespaces by default", ""
	}
	if !w.Spec.HostNetwork {
		podMode := w.Labels[mesh.LabelDataplaneMode]
		if podMode == ModeAmbient {
			return ModeAmbient, "label " + mesh.LabelDataplaneMode + "=ambient", missing
		}
		if podMode != ModeNone && nsLabels[mesh.LabelDataplaneMode] == ModeAmbient {
			return ModeAmbient, "namespace " + mesh.LabelDataplaneMode + "=ambient", missing
		}
	}
	if missing != "" {
		return ModeNone, missing, missing
	}
	return ModeNone, "not injected", ""
}

// requests returns a sidecar's per-pod CPU (millicores) and memory (bytes)
// requests and their sources.
func (c *computer) requests(w *mesh.Workload, nsLabels map[string]string) (cpu int64, cpuSrc Source, mem int64, memSrc Source) {
	rev := w.Labels[mesh.LabelRevision]
	if rev == "" {
		rev = nsLabels[mesh.LabelRevision]
	}
	inj := c.injectorFor(rev)
	pick := func(name corev1.ResourceName, annotation string, fromInjector *resource.Quantity, def string) (resource.Quantity, Source) {
		if pc := proxyContainer(w.Spec); pc != nil {
			if q, ok := pc.Resources.Requests[name]; ok {
				return q, SourceContainer
			}
		}
		if v, ok := w.Annotations[annotation]; ok {
			if q, err := resource.ParseQuantity(strings.TrimSpace(v)); err == nil {
				return q, SourceAnnotation
			}
		}
		if fromInjector != nil {
			return *fromInjector, SourceInjector
		}
		return resource.MustParse(def), SourceDefault
	}
	var injCPU, injMem *resource.Quantity
	if inj != nil {
		injCPU, injMem = inj.cpu, inj.memory
	}
	q, cpuSrc := pick(corev1.ResourceCPU, AnnotationProxyCPU, injCPU, DefaultCPU)
	cpu = q.MilliValue()
	q, memSrc = pick(corev1.ResourceMemory, AnnotationProxyMemory, injMem, DefaultMemory)
	mem = q.Value()
	return cpu, cpuSrc, mem, memSrc
}

func (c *computer) namespace(name string, workloads []*mesh.Workload) Namespace {
	var nsLabels map[string]string
	if ns := c.snap.Namespace(name); ns != nil {
		nsLabels = ns.Labels
	}
	out := Namespace{Name: name, InjectionLabel: injectionLabel(nsLabels),
		ProxyCPU: newAmount(false), ProxyMemory: newAmount(true), Entries: []Workload{}}
	for _, w := range workloads {
		pods := c.replicas(w)
		mode, why, missing := c.mode(w, nsLabels)
		e := Workload{Kind: w.Object.Kind, Name: w.Object.Name(), Pods: pods, Mode: mode, Why: why}
		out.Workloads++
		out.Pods += pods
		switch mode {
		case ModeSidecar:
			out.WithProxy += pods
			cpu, cs, mem, ms := c.requests(w, nsLabels)
			out.ProxyCPU.add(cpu, cs, pods)
			out.ProxyMemory.add(mem, ms, pods)
			e.ProxyCPU = resource.NewMilliQuantity(cpu, resource.DecimalSI).String()
			e.ProxyMemory = resource.NewQuantity(mem, resource.BinarySI).String()
			e.CPUSource, e.MemorySource = cs, ms
		case ModeAmbient:
			out.Ambient += pods
		default:
			out.WithoutProxy += pods
		}
		if missing != "" {
			out.MissingProxy = append(out.MissingProxy, Missing{Kind: w.Object.Kind, Name: w.Object.Name(), Pods: pods, Reason: missing})
		}
		out.Entries = append(out.Entries, e)
	}
	return out
}

func (c *computer) candidate(ns *Namespace, blockers []string) {
	switch {
	case ns.Name == c.snap.RootNamespace() || ns.Name == "istio-system" || systemNamespaces[ns.Name]:
		ns.AmbientCandidate = CandidateNA
		ns.AmbientBlockers = []string{"control plane or system namespace"}
	case ns.Pods > 0 && ns.Ambient == ns.Pods:
		ns.AmbientCandidate = CandidateAmbient
	case len(blockers) > 0:
		ns.AmbientCandidate = CandidateNo
		ns.AmbientBlockers = blockers
	default:
		ns.AmbientCandidate = CandidateYes
	}
}
