package destinationrule

import (
	"fmt"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// SubsetSelectPod reports DestinationRules for unknown hosts and subsets
// that select no pod.
var SubsetSelectPod = &analysis.Analyzer{
	Name: "destinationrule.SubsetSelectPod",
	Doc: "report destination rules for unknown hosts and subsets that select no pod\n\n" +
		"The host must be a Service or ServiceEntry host visible from the rule's namespace (or exportTo). Each " +
		"subset's labels, merged with the ServiceEntry's workloadSelector, must match some workload; pods also " +
		"carry their node's topology labels (region, zone, subzone, hostname), as Istio's registry gives them.",
	Codes: []*analysis.Code{codes.DestinationRuleSubsetNotSelectPods, codes.UnknownDestinationRuleHost},
	Run:   runSubsetSelectPod,
}

func runSubsetSelectPod(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	reg := newRegistry(snap)
	var pods *podIndex
	for _, o := range snap.List(mesh.DestinationRule) {
		dr, ok := o.Obj.(*networking.DestinationRule)
		if !ok || dr.GetHost() == "" {
			continue
		}
		e := reg.lookup(o.Namespace(), dr.GetExportTo(), dr.GetHost())
		if e == nil {
			finding := analysis.NewFinding(codes.UnknownDestinationRuleHost, o, fmt.Sprintf("host %q matches no Service or ServiceEntry visible from namespace %s", dr.GetHost(), o.Namespace()))
			finding.Equivalents = []string{"KIA0202"}
			p.Report(finding)
			continue
		}
		if len(dr.GetSubsets()) == 0 {
			continue
		}
		if pods == nil {
			pods = newPodIndex(snap)
		}

		// Subsets are keyed by name; a repeated name keeps the last labels.
		var names []string
		byName := map[string]map[string]string{}
		for _, ss := range dr.GetSubsets() {
			if _, seen := byName[ss.GetName()]; !seen {
				names = append(names, ss.GetName())
			}
			byName[ss.GetName()] = merge(e.selector, ss.GetLabels())
		}
		for _, name := range names {
			if !pods.any(byName[name]) {
				finding := analysis.NewFinding(codes.DestinationRuleSubsetNotSelectPods, o, fmt.Sprintf("subset %q selects no pod: no workload in any namespace has labels %s", name, labelString(byName[name])))
				finding.Equivalents = []string{"KIA0203"}
				p.Report(finding)
			}
		}
	}
	return nil, nil
}

func merge(a, b map[string]string) map[string]string {
	if len(a) == 0 {
		return b // read only: no copy needed
	}
	if len(b) == 0 {
		return a
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func labelString(l map[string]string) string {
	return "{" + mesh.FormatLabels(l) + "}"
}

// Topology labels Istio's registry adds to a pod from its node.
const (
	labelRegion   = "topology.kubernetes.io/region"
	labelZone     = "topology.kubernetes.io/zone"
	labelSubzone  = "topology.istio.io/subzone"
	labelHostname = "kubernetes.io/hostname"
)

// podIndex finds workloads by label, with their node's topology labels.
// Without Node objects (a GitOps folder) there are no topology labels to
// add, and the snapshot's own label index answers.
type podIndex struct {
	snap   *mesh.Snapshot
	labels []map[string]string
	byPair map[[2]string][]int
}

func newPodIndex(snap *mesh.Snapshot) *podIndex {
	if len(snap.List(mesh.Node)) == 0 {
		return &podIndex{snap: snap}
	}
	nodes := map[string]map[string]string{}
	for _, o := range snap.List(mesh.Node) {
		nodes[o.Name()] = o.Labels()
	}
	ix := &podIndex{byPair: map[[2]string][]int{}}
	for _, w := range snap.Workloads() {
		l := w.Labels
		if w.Spec != nil {
			l = withTopology(l, w.Spec, nodes)
		}
		i := len(ix.labels)
		ix.labels = append(ix.labels, l)
		for k, v := range l {
			ix.byPair[[2]string{k, v}] = append(ix.byPair[[2]string{k, v}], i)
		}
	}
	return ix
}

// withTopology adds the labels of the pod's node that Istio's registry
// gives its endpoints; empty node values are not given.
func withTopology(labels map[string]string, spec *corev1.PodSpec, nodes map[string]map[string]string) map[string]string {
	node, ok := nodes[spec.NodeName]
	if spec.NodeName == "" || !ok {
		return labels
	}
	out := make(map[string]string, len(labels)+4)
	for k, v := range labels {
		out[k] = v
	}
	for _, k := range []string{labelRegion, labelZone, labelSubzone} {
		if v := node[k]; v != "" {
			out[k] = v
		}
	}
	out[labelHostname] = spec.NodeName
	return out
}

// any reports whether some workload carries every label of selector.
func (ix *podIndex) any(selector map[string]string) bool {
	if ix.snap != nil {
		return ix.snap.AnyWorkload("", selector)
	}
	if len(selector) == 0 {
		return len(ix.labels) > 0
	}
	var candidates []int
	first := true
	for k, v := range selector {
		list := ix.byPair[[2]string{k, v}]
		if first || len(list) < len(candidates) {
			candidates, first = list, false
		}
	}
	for _, i := range candidates {
		if mesh.MatchLabels(selector, ix.labels[i]) {
			return true
		}
	}
	return false
}
