package mesh

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Workload is something that runs pods: a Pod present in the snapshot or,
// where none of its pods are present, the pod template of a controller
// (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob). A GitOps
// folder holds Deployments, not Pods; selectors, subsets and policies match
// workloads.
type Workload struct {
	Object       *Object // the Pod, or the controller whose template this is
	Namespace    string
	Labels       map[string]string
	Annotations  map[string]string
	Spec         *corev1.PodSpec
	FromTemplate bool
}

type nsLabel struct{ ns, key, value string }

// Workloads returns every workload of the snapshot.
func (s *Snapshot) Workloads() []*Workload {
	s.indexedWorkloads()
	return s.workloads
}

// WorkloadsIn returns the workloads of one namespace.
func (s *Snapshot) WorkloadsIn(namespace string) []*Workload {
	s.indexedWorkloads()
	return s.wlByNS[namespace]
}

// SelectWorkloads returns the workloads of a namespace whose labels match
// every pair of selector; an empty selector matches them all. An empty
// namespace searches every namespace.
func (s *Snapshot) SelectWorkloads(namespace string, selector map[string]string) []*Workload {
	s.indexedWorkloads()
	if len(selector) == 0 {
		if namespace == "" {
			return s.workloads
		}
		return s.wlByNS[namespace]
	}
	var candidates []*Workload
	first := true
	for k, v := range selector {
		list := s.wlByLabel[nsLabel{namespace, k, v}]
		if first || len(list) < len(candidates) {
			candidates, first = list, false
		}
	}
	var out []*Workload
	for _, w := range candidates {
		if MatchLabels(selector, w.Labels) {
			out = append(out, w)
		}
	}
	return out
}

// AnyWorkload reports whether some workload of namespace ("" for any)
// carries every pair of selector, without building a list.
func (s *Snapshot) AnyWorkload(namespace string, selector map[string]string) bool {
	s.indexedWorkloads()
	if len(selector) == 0 {
		if namespace == "" {
			return len(s.workloads) > 0
		}
		return len(s.wlByNS[namespace]) > 0
	}
	var candidates []*Workload
	first := true
	for k, v := range selector {
		list := s.wlByLabel[nsLabel{namespace, k, v}]
		if first || len(list) < len(candidates) {
			candidates, first = list, false
		}
	}
	for _, w := range candidates {
		if MatchLabels(selector, w.Labels) {
			return true
		}
	}
	return false
}

// MatchLabels reports whether every pair of selector is in set.
func MatchLabels(selector, set map[string]string) bool {
	for k, v := range selector {
		if got, ok := set[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// workloadKinds are the kinds workloads are made of.
var workloadKinds = []GroupKind{Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob}

func (s *Snapshot) indexedWorkloads() {
	s.read(workloadKinds...)
	s.workloadsOnce.Do(s.indexWorkloads)
}

func (s *Snapshot) indexWorkloads() {
	var pods []*Workload
	for _, o := range s.byKind[Pod] {
		p := o.Obj.(*corev1.Pod)
		pods = append(pods, &Workload{Object: o, Namespace: o.Namespace(), Labels: p.Labels, Annotations: p.Annotations, Spec: &p.Spec})
	}
	s.workloads = append(s.workloads, pods...)
	podsByNS := map[string][]*Workload{}
	for _, p := range pods {
		podsByNS[p.Namespace] = append(podsByNS[p.Namespace], p)
	}
	for _, gk := range []GroupKind{Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob} {
		for _, o := range s.byKind[gk] {
			sel, tmpl := controllerTemplate(o)
			if tmpl == nil || s.ownedByPresentController(o) {
				continue
			}
			if hasMatchingPod(podsByNS[o.Namespace()], sel, tmpl.Labels) {
				continue
			}
			s.workloads = append(s.workloads, &Workload{
				Object: o, Namespace: o.Namespace(), Labels: tmpl.Labels,
				Annotations: tmpl.Annotations, Spec: &tmpl.Spec, FromTemplate: true,
			})
		}
	}
	s.wlByNS = map[string][]*Workload{}
	s.wlByLabel = map[nsLabel][]*Workload{}
	for _, w := range s.workloads {
		s.wlByNS[w.Namespace] = append(s.wlByNS[w.Namespace], w)
		for k, v := range w.Labels {
			s.wlByLabel[nsLabel{w.Namespace, k, v}] = append(s.wlByLabel[nsLabel{w.Namespace, k, v}], w)
			s.wlByLabel[nsLabel{"", k, v}] = append(s.wlByLabel[nsLabel{"", k, v}], w)
		}
	}
}

// ownedByPresentController: a ReplicaSet or Job whose owning Deployment or
// CronJob is in the snapshot is represented by its owner.
func (s *Snapshot) ownedByPresentController(o *Object) bool {
	for _, ref := range o.Meta.OwnerReferences {
		var gk GroupKind
		switch ref.Kind {
		case "Deployment":
			gk = Deployment
		case "CronJob":
			gk = CronJob
		default:
			continue
		}
		if s.Get(gk, o.Namespace(), ref.Name) != nil {
			return true
		}
	}
	return false
}

func hasMatchingPod(pods []*Workload, sel *metav1.LabelSelector, tmplLabels map[string]string) bool {
	var selector labels.Selector
	if sel != nil {
		var err error
		if selector, err = metav1.LabelSelectorAsSelector(sel); err != nil {
			selector = nil
		}
	}
	for _, p := range pods {
		if selector != nil && !selector.Empty() {
			if selector.Matches(labels.Set(p.Labels)) {
				return true
			}
		} else if len(tmplLabels) > 0 && MatchLabels(tmplLabels, p.Labels) {
			return true
		}
	}
	return false
}

// PodTemplate returns the pod template of a controller object, or nil.
func PodTemplate(o *Object) *corev1.PodTemplateSpec {
	_, t := controllerTemplate(o)
	return t
}

func controllerTemplate(o *Object) (*metav1.LabelSelector, *corev1.PodTemplateSpec) {
	switch v := o.Obj.(type) {
	case *appsv1.Deployment:
		return v.Spec.Selector, &v.Spec.Template
	case *appsv1.StatefulSet:
		return v.Spec.Selector, &v.Spec.Template
	case *appsv1.DaemonSet:
		return v.Spec.Selector, &v.Spec.Template
	case *appsv1.ReplicaSet:
		return v.Spec.Selector, &v.Spec.Template
	case *batchv1.Job:
		return v.Spec.Selector, &v.Spec.Template
	case *batchv1.CronJob:
		return v.Spec.JobTemplate.Spec.Selector, &v.Spec.JobTemplate.Spec.Template
	}
	return nil, nil
}
