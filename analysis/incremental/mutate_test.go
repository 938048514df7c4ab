package incremental_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	telemetry "istio.io/api/telemetry/v1alpha1"
	typev1beta1 "istio.io/api/type/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/meshpilot/meshpilot/analysis/incremental"
	"github.com/meshpilot/meshpilot/mesh"
)

// clone copies an object deeply enough to change it: a new Meta and a new
// typed value (objects are immutable once built).
func clone(o *mesh.Object) *mesh.Object {
	c := *o
	info, _ := mesh.LookupKind(o.GroupKind)
	switch v := o.Obj.(type) {
	case proto.Message:
		c.Obj = proto.Clone(v)
		c.Meta = o.Meta.DeepCopy()
	case *mesh.SecretInfo:
		s := *v
		c.Obj = &s
		c.Meta = o.Meta.DeepCopy()
	case runtime.Object:
		cp := v.DeepCopyObject()
		c.Obj = cp
		c.Meta = objectMeta(cp)
	default:
		if info.New == nil {
			c.Meta = o.Meta.DeepCopy()
			break
		}
		nu := info.New()
		data, err := json.Marshal(o.Obj)
		if err == nil && json.Unmarshal(data, nu) == nil {
			c.Obj = nu
		}
		if m := objectMeta(c.Obj); m != nil {
			c.Meta = m
		} else {
			c.Meta = o.Meta.DeepCopy()
		}
	}
	if c.Meta == nil {
		c.Meta = o.Meta.DeepCopy()
	}
	return &c
}

// objectMeta returns a pointer to the ObjectMeta embedded in a typed
// Kubernetes object, or nil.
func objectMeta(obj any) *metav1.ObjectMeta {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("ObjectMeta")
	if !f.IsValid() {
		return nil
	}
	m, _ := f.Addr().Interface().(*metav1.ObjectMeta)
	return m
}

// withSpec returns a with the typed value of b (same kind), keeping a's
// metadata and source.
func withSpec(a, b *mesh.Object) *mesh.Object {
	c := clone(b)
	if m := objectMeta(c.Obj); m != nil {
		*m = *a.Meta.DeepCopy()
		c.Meta = m
	} else {
		c.Meta = a.Meta.DeepCopy()
	}
	c.Source, c.DefaultNamespace = a.Source, a.DefaultNamespace
	c.SchemaErrors = a.SchemaErrors
	return c
}

// corpus is what mutations draw from: the names, labels and hosts of the
// mesh being mutated.
type corpus struct {
	namespaces []string
	labels     [][2]string
	hosts      []string
	gateways   []string
}

func newCorpus(objs []*mesh.Object) *corpus {
	c := &corpus{}
	ns, hosts, gws := map[string]bool{"ns-new": true}, map[string]bool{}, map[string]bool{"mesh": true}
	labels := map[[2]string]bool{{"app", "x"}: true, {"version", "v1"}: true, {"istio", "ingressgateway"}: true}
	for _, h := range []string{"*.example.com", "*.local", "*", "api.example.com", "*.svc.cluster.local"} {
		hosts[h] = true
	}
	addLabels := func(l map[string]string) {
		for k, v := range l {
			labels[[2]string{k, v}] = true
		}
	}
	for _, o := range objs {
		if o.Namespace() != "" {
			ns[o.Namespace()] = true
		}
		addLabels(o.Labels())
		if t := mesh.PodTemplate(o); t != nil {
			addLabels(t.Labels)
		}
		switch v := o.Obj.(type) {
		case *networking.VirtualService:
			for _, h := range v.GetHosts() {
				hosts[h] = true
			}
		case *networking.DestinationRule:
			hosts[v.GetHost()] = true
			for _, s := range v.GetSubsets() {
				addLabels(s.GetLabels())
			}
		case *networking.ServiceEntry:
			for _, h := range v.GetHosts() {
				hosts[h] = true
			}
		case *networking.Gateway:
			gws[o.Namespace()+"/"+o.Name()] = true
			addLabels(v.GetSelector())
		case *corev1.Service:
			hosts[o.Name()] = true
			hosts[o.Name()+"."+o.Namespace()+".svc.cluster.local"] = true
			addLabels(v.Spec.Selector)
		}
	}
	for k := range ns {
		c.namespaces = append(c.namespaces, k)
	}
	for k := range labels {
		c.labels = append(c.labels, k)
	}
	for k := range hosts {
		if k != "" {
			c.hosts = append(c.hosts, k)
		}
	}
	for k := range gws {
		c.gateways = append(c.gateways, k)
	}
	sort.Strings(c.namespaces)
	sort.Slice(c.labels, func(i, j int) bool { return c.labels[i][0]+c.labels[i][1] < c.labels[j][0]+c.labels[j][1] })
	sort.Strings(c.hosts)
	sort.Strings(c.gateways)
	return c
}

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }

// mutator proposes random single-object changes to a model.
type mutator struct {
	r       *rand.Rand
	c       *corpus
	deleted []*mesh.Object
	// variant, when not negative, picks the field specific changes
	// instead of the random source, to enumerate them all.
	variant int
}

// choose picks one of n alternatives.
func (m *mutator) choose(n int) int {
	if m.variant >= 0 {
		return m.variant % n
	}
	return m.r.IntN(n)
}

// variants is how many alternatives specific has, at most.
const variants = 8

// next returns a change to the current objects and a description.
func (m *mutator) next(objs []*mesh.Object) ([]incremental.Change, string) {
	if len(objs) == 0 {
		return nil, "nothing"
	}
	o := pick(m.r, objs)
	switch n := m.r.IntN(20); {
	case n < 2:
		m.deleted = append(m.deleted, o)
		return []incremental.Change{incremental.Delete(o.Key())}, "delete " + o.Ref().String()
	case n < 4 && len(m.deleted) > 0:
		i := m.r.IntN(len(m.deleted))
		d := m.deleted[i]
		m.deleted = append(m.deleted[:i], m.deleted[i+1:]...)
		return []incremental.Change{incremental.Upsert(d)}, "re-add " + d.Ref().String()
	case n < 6:
		return m.relabel(o)
	case n < 8:
		var same []*mesh.Object
		for _, b := range objs {
			if b.GroupKind == o.GroupKind && b != o {
				same = append(same, b)
			}
		}
		if len(same) == 0 {
			return m.relabel(o)
		}
		b := pick(m.r, same)
		return []incremental.Change{incremental.Upsert(withSpec(o, b))}, fmt.Sprintf("%s takes the spec of %s", o.Ref(), b.Ref())
	case n < 9:
		return m.move(o)
	case n < 10:
		return m.annotate(o)
	default:
		if ch, what, ok := m.specific(o); ok {
			return ch, what
		}
		return m.relabel(o)
	}
}

func (m *mutator) relabel(o *mesh.Object) ([]incremental.Change, string) {
	c := clone(o)
	target := map[string]string{}
	if t := mesh.PodTemplate(c); t != nil && m.r.IntN(2) == 0 {
		if t.Labels == nil {
			t.Labels = map[string]string{}
		}
		target = t.Labels
	} else {
		if c.Meta.Labels == nil {
			c.Meta.Labels = map[string]string{}
		}
		target = c.Meta.Labels
	}
	what := ""
	if len(target) > 0 && m.r.IntN(3) == 0 {
		keys := sortedKeys(target)
		k := pick(m.r, keys)
		delete(target, k)
		what = "drop label " + k
	} else {
		var p [2]string
		switch {
		case o.GroupKind == mesh.Namespace && m.r.IntN(2) == 0:
			p = pick(m.r, [][2]string{{"istio-injection", "enabled"}, {"istio-injection", "disabled"},
				{"istio.io/dataplane-mode", "ambient"}, {"istio.io/rev", "canary"}, {"istio.io/use-waypoint", "waypoint"},
				{"environment", "test"}})
		case len(m.c.labels) > 0:
			p = pick(m.r, m.c.labels)
		default:
			p = [2]string{"app", "x"}
		}
		target[p[0]] = p[1]
		what = "label " + p[0] + "=" + p[1]
	}
	return []incremental.Change{incremental.Upsert(c)}, fmt.Sprintf("%s: %s", o.Ref(), what)
}

// move copies an object into another namespace, deleting the original or
// not.
func (m *mutator) move(o *mesh.Object) ([]incremental.Change, string) {
	info, ok := mesh.LookupKind(o.GroupKind)
	if !ok || !info.Namespaced {
		return m.relabel(o)
	}
	ns := pick(m.r, m.c.namespaces)
	c := clone(o)
	c.Meta.Namespace = ns
	if m.r.IntN(2) == 0 {
		return []incremental.Change{incremental.Upsert(c)}, fmt.Sprintf("copy %s to namespace %s", o.Ref(), ns)
	}
	return []incremental.Change{incremental.Delete(o.Key()), incremental.Upsert(c)}, fmt.Sprintf("move %s to namespace %s", o.Ref(), ns)
}

func (m *mutator) annotate(o *mesh.Object) ([]incremental.Change, string) {
	c := clone(o)
	if c.Meta.Annotations == nil {
		c.Meta.Annotations = map[string]string{}
	}
	pair := pick(m.r, [][2]string{
		{"meshpilot.io/ignore", "*"}, {"galley.istio.io/analyze-suppress", "IST0101"},
		{"networking.istio.io/exportTo", "."}, {"networking.istio.io/exportTo", pick(m.r, m.c.namespaces)},
		{"sidecar.istio.io/inject", "false"},
	})
	k, v := pair[0], pair[1]
	if _, had := c.Meta.Annotations[k]; had {
		delete(c.Meta.Annotations, k)
		return []incremental.Change{incremental.Upsert(c)}, fmt.Sprintf("%s: drop annotation %s", o.Ref(), k)
	}
	c.Meta.Annotations[k] = v
	return []incremental.Change{incremental.Upsert(c)}, fmt.Sprintf("%s: annotate %s=%s", o.Ref(), k, v)
}

// specific changes a field that matters to analyzers of the object's kind.
func (m *mutator) specific(o *mesh.Object) ([]incremental.Change, string, bool) {
	c := clone(o)
	r := m.r
	what := ""
	switch v := c.Obj.(type) {
	case *networking.VirtualService:
		switch m.choose(8) {
		case 0:
			for _, h := range v.GetHttp() {
				h.Timeout = durationpb.New(durationFor(r))
			}
			what = "timeouts"
		case 1:
			for _, h := range v.GetHttp() {
				if r.IntN(2) == 0 {
					h.Retries = nil
				} else {
					h.Retries = &networking.HTTPRetry{Attempts: int32(r.IntN(4)), PerTryTimeout: durationpb.New(durationFor(r))}
				}
			}
			what = "retries"
		case 2:
			if len(v.Hosts) > 0 {
				v.Hosts[r.IntN(len(v.Hosts))] = pick(r, m.c.hosts)
			} else {
				v.Hosts = []string{pick(r, m.c.hosts)}
			}
			what = "host"
		case 3:
			if r.IntN(3) == 0 {
				v.Gateways = nil
			} else {
				v.Gateways = []string{pick(r, m.c.gateways)}
			}
			what = "gateways"
		case 4:
			for _, d := range vsDestinations(v) {
				if r.IntN(2) == 0 {
					d.Subset = pick(r, []string{"", "v1", "v2", "v3", "canary"})
				}
			}
			what = "subsets"
		case 5:
			for _, d := range vsDestinations(v) {
				if r.IntN(2) == 0 {
					d.Host = pick(r, m.c.hosts)
				}
			}
			what = "destination hosts"
		case 6:
			for _, h := range v.GetHttp() {
				h.Match = []*networking.HTTPMatchRequest{{Method: &networking.StringMatch{
					MatchType: &networking.StringMatch_Exact{Exact: pick(r, []string{"POST", "GET", "PATCH"})}}}}
			}
			what = "method matches"
		default:
			v.ExportTo = exportTo(r, m.c)
			what = "exportTo"
		}
	case *networking.DestinationRule:
		switch m.choose(5) {
		case 0:
			v.Host = pick(r, m.c.hosts)
			what = "host"
		case 1:
			for _, s := range v.GetSubsets() {
				p := pick(r, m.c.labels)
				s.Labels = map[string]string{p[0]: p[1]}
			}
			what = "subset labels"
		case 2:
			v.ExportTo = exportTo(r, m.c)
			what = "exportTo"
		case 3:
			if v.TrafficPolicy.GetOutlierDetection() != nil {
				v.TrafficPolicy.OutlierDetection = nil
			} else {
				v.TrafficPolicy = &networking.TrafficPolicy{OutlierDetection: &networking.OutlierDetection{}}
			}
			what = "outlier detection"
		default:
			if v.TrafficPolicy == nil {
				v.TrafficPolicy = &networking.TrafficPolicy{}
			}
			v.TrafficPolicy.Tls = &networking.ClientTLSSettings{Mode: pick(r, []networking.ClientTLSSettings_TLSmode{
				networking.ClientTLSSettings_DISABLE, networking.ClientTLSSettings_ISTIO_MUTUAL, networking.ClientTLSSettings_SIMPLE})}
			what = "tls mode"
		}
	case *networking.ServiceEntry:
		v.Hosts = []string{pick(r, m.c.hosts)}
		what = "hosts"
	case *networking.Sidecar:
		p := pick(r, m.c.labels)
		if r.IntN(3) == 0 {
			v.WorkloadSelector = nil
		} else {
			v.WorkloadSelector = &networking.WorkloadSelector{Labels: map[string]string{p[0]: p[1]}}
		}
		v.Egress = []*networking.IstioEgressListener{{Hosts: []string{"./*", pick(r, m.c.namespaces) + "/" + pick(r, m.c.hosts)}}}
		what = "selector and egress"
	case *networking.Gateway:
		p := pick(r, m.c.labels)
		v.Selector = map[string]string{p[0]: p[1]}
		what = "selector"
	case *security.AuthorizationPolicy:
		p := pick(r, m.c.labels)
		if r.IntN(3) == 0 {
			v.Selector = nil
		} else {
			v.Selector = &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{p[0]: p[1]}}
		}
		if r.IntN(2) == 0 {
			v.Rules = append(v.Rules, &security.Rule{From: []*security.Rule_From{{Source: &security.Source{
				Namespaces: []string{pick(r, append(m.c.namespaces, "team-*", "*-prod"))},
				Principals: []string{"cluster.local/ns/" + pick(r, m.c.namespaces) + "/sa/default"}}}},
				To: []*security.Rule_To{{Operation: &security.Operation{Hosts: []string{pick(r, m.c.hosts)}, Paths: []string{"/admin"}}}}})
		}
		what = "selector and rules"
	case *security.PeerAuthentication:
		p := pick(r, m.c.labels)
		if r.IntN(3) == 0 {
			v.Selector = nil
		} else {
			v.Selector = &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{p[0]: p[1]}}
		}
		v.Mtls = &security.PeerAuthentication_MutualTLS{Mode: pick(r, []security.PeerAuthentication_MutualTLS_Mode{
			security.PeerAuthentication_MutualTLS_STRICT, security.PeerAuthentication_MutualTLS_PERMISSIVE, security.PeerAuthentication_MutualTLS_DISABLE})}
		what = "selector and mode"
	case *security.RequestAuthentication:
		p := pick(r, m.c.labels)
		v.Selector = &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{p[0]: p[1]}}
		what = "selector"
	case *telemetry.Telemetry:
		p := pick(r, m.c.labels)
		v.Selector = &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{p[0]: p[1]}}
		what = "selector"
	case *corev1.Service:
		if len(v.Spec.Ports) > 0 && r.IntN(2) == 0 {
			v.Spec.Ports[0].Name = pick(r, []string{"http", "web", "grpc-api", "tcp", ""})
			what = "port name"
		} else {
			p := pick(r, m.c.labels)
			v.Spec.Selector = map[string]string{p[0]: p[1]}
			what = "selector"
		}
	case *appsv1.Deployment:
		if len(v.Spec.Template.Spec.Containers) > 0 {
			uid := int64(1337)
			if r.IntN(2) == 0 {
				v.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: &uid}
			} else {
				v.Spec.Template.Spec.Containers = append(v.Spec.Template.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.0"})
			}
			what = "containers"
		}
	}
	if what == "" {
		return nil, "", false
	}
	return []incremental.Change{incremental.Upsert(c)}, fmt.Sprintf("%s: %s", o.Ref(), what), true
}

func durationFor(r *rand.Rand) time.Duration {
	return time.Duration(1+r.IntN(3)) * time.Second / time.Duration(1+r.IntN(2))
}

func vsDestinations(v *networking.VirtualService) []*networking.Destination {
	var out []*networking.Destination
	for _, h := range v.GetHttp() {
		for _, rd := range h.GetRoute() {
			if rd.Destination != nil {
				out = append(out, rd.Destination)
			}
		}
	}
	for _, t := range v.GetTcp() {
		for _, rd := range t.GetRoute() {
			if rd.Destination != nil {
				out = append(out, rd.Destination)
			}
		}
	}
	return out
}

func exportTo(r *rand.Rand, c *corpus) []string {
	return pick(r, [][]string{nil, {"."}, {"*"}, {pick(r, c.namespaces)}, {"~"}, {".", pick(r, c.namespaces)}})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// describe lists the changes for a failure message.
func describe(what string, chs []incremental.Change) string {
	var keys []string
	for _, c := range chs {
		k := c.Key
		if c.Object != nil {
			k = c.Object.Key()
		}
		keys = append(keys, fmt.Sprintf("%s %s/%s", k.Kind, k.Namespace, k.Name))
	}
	return what + " [" + strings.Join(keys, ", ") + "]"
}

// exhaustive applies, to each object in turn, every specific change, a
// few relabellings, a move and a deletion, each followed by its revert.
func exhaustive(h *harness, seed uint64) {
	m := &mutator{r: rand.New(rand.NewPCG(seed, seed*31+7)), c: newCorpus(h.m.objs), variant: -1}
	base := append([]*mesh.Object(nil), h.m.objs...)
	revert := func(o *mesh.Object, chs []incremental.Change) {
		var back []incremental.Change
		for _, c := range chs {
			if c.Object != nil && c.Object.Key() != o.Key() {
				back = append(back, incremental.Delete(c.Object.Key()))
			}
		}
		h.step(append(back, incremental.Upsert(o)), "revert "+o.Ref().String())
	}
	for _, o := range base {
		for v := range variants {
			m.variant = v
			chs, what, ok := m.specific(o)
			m.variant = -1
			if !ok {
				break
			}
			h.step(chs, what)
			revert(o, chs)
		}
		for range 2 {
			chs, what := m.relabel(o)
			h.step(chs, what)
			revert(o, chs)
		}
		chs, what := m.move(o)
		h.step(chs, what)
		revert(o, chs)
		h.step([]incremental.Change{incremental.Delete(o.Key())}, "delete "+o.Ref().String())
		revert(o, nil)
	}
}
