// Package sidecar checks how Sidecar resources select workloads: selectors
// that match nothing, several Sidecars claiming the same workload or the
// same namespace, and Sidecars that cannot apply because the workloads run
// in ambient mode.
package sidecar

import (
	"fmt"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Selector}

// Selector checks the workload selectors of Sidecar resources.
var Selector = &analysis.Analyzer{
	Name: "sidecar.Selector",
	Doc: "report Sidecar selectors that match no workload or overlap, and Sidecars in ambient mode\n\n" +
		"A Sidecar with a workload selector must select at least one workload of its namespace, and no " +
		"workload may be selected by two Sidecars; a namespace may hold at most one Sidecar without a " +
		"selector. Either conflict leaves the proxy configuration undefined. Sidecars that only reach " +
		"ambient workloads, or that are namespace-wide in an ambient namespace, have no effect.",
	Codes: []*analysis.Code{codes.ReferencedResourceNotFound, codes.ConflictingSidecarWorkloadSelectors,
		codes.MultipleSidecarsWithoutWorkloadSelectors, codes.IneffectivePolicy},
	Run: run,
}

// claim is one workload and the Sidecars selecting it, in load order.
type claim struct {
	w        *mesh.Workload
	sidecars []*mesh.Object
}

func run(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	var claims []*claim
	byWorkload := map[*mesh.Workload]*claim{}
	nsWide := map[string][]*mesh.Object{}
	for _, o := range snap.List(mesh.Sidecar) {
		sc, ok := o.Obj.(*networking.Sidecar)
		if !ok {
			continue
		}
		labels := sc.GetWorkloadSelector().GetLabels()
		if len(labels) == 0 {
			nsWide[o.Namespace()] = append(nsWide[o.Namespace()], o)
			continue
		}
		selected := snap.SelectWorkloads(o.Namespace(), labels)
		if len(selected) == 0 {
			finding := analysis.NewFinding(codes.ReferencedResourceNotFound, o, fmt.Sprintf("the workload selector %s matches no workload in namespace %s", mesh.FormatLabels(labels), o.Namespace()))
			finding.Equivalents = []string{"KIA0004"}
			p.Report(finding)
			continue
		}
		for _, w := range selected {
			c := byWorkload[w]
			if c == nil {
				c = &claim{w: w}
				byWorkload[w] = c
				claims = append(claims, c)
			}
			c.sidecars = append(c.sidecars, o)
		}
	}

	ineffective := map[*mesh.Object]bool{}
	for _, c := range claims {
		if inAmbient(snap, c.w) {
			for _, o := range c.sidecars {
				if !ineffective[o] {
					ineffective[o] = true
					p.Reportf(codes.IneffectivePolicy, o,
						"the selected workload %s runs in ambient mode, which has no sidecar proxy: this Sidecar has no effect",
						workloadName(c.w))
				}
			}
			continue
		}
		if len(c.sidecars) < 2 {
			continue
		}
		for _, o := range c.sidecars {
			finding := analysis.NewFinding(codes.ConflictingSidecarWorkloadSelectors, o, fmt.Sprintf("workload %s in namespace %s is selected by several Sidecars (%s): which one applies is undefined",
				workloadName(c.w), c.w.Namespace, names(c.sidecars)))
			finding.Equivalents = []string{"KIA0003"}
			p.Report(finding)
		}
	}

	namespaces := make([]string, 0, len(nsWide))
	for ns := range nsWide {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		list := nsWide[ns]
		if namespaceAmbient(snap, ns) {
			for _, o := range list {
				if !ineffective[o] {
					ineffective[o] = true
					p.Reportf(codes.IneffectivePolicy, o,
						"namespace %s runs in ambient mode, which has no sidecar proxies: this namespace-wide Sidecar has no effect", ns)
				}
			}
			continue
		}
		if len(list) < 2 {
			continue
		}
		for _, o := range list {
			finding := analysis.NewFinding(codes.MultipleSidecarsWithoutWorkloadSelectors, o, fmt.Sprintf("namespace %s has several Sidecars without a workload selector (%s): which one applies is undefined",
				ns, names(list)))
			finding.Equivalents = []string{"KIA0002"}
			p.Report(finding)
		}
	}
	return nil, nil
}

// inAmbient reports whether a workload is captured by ambient mode: a pod
// the CNI has annotated, or a pod template whose pods will be, being in an
// ambient namespace without opting out or into a sidecar.
func inAmbient(snap *mesh.Snapshot, w *mesh.Workload) bool {
	if w.Annotations[mesh.AnnotationRedirection] == "enabled" {
		return true
	}
	if !w.FromTemplate || !namespaceAmbient(snap, w.Namespace) {
		return false
	}
	return w.Labels[mesh.LabelDataplaneMode] != "none" && w.Labels[mesh.LabelSidecarInject] != "true"
}

// namespaceAmbient reports whether a namespace is labelled for ambient
// mode and not also for sidecar injection, which takes precedence.
func namespaceAmbient(snap *mesh.Snapshot, name string) bool {
	ns := snap.Namespace(name)
	if ns == nil {
		return false
	}
	l := ns.Labels
	if l[mesh.LabelInjection] == "enabled" || l[mesh.LabelRevision] != "" {
		return false
	}
	return l[mesh.LabelDataplaneMode] == "ambient"
}

func workloadName(w *mesh.Workload) string {
	if w.FromTemplate {
		return fmt.Sprintf("%s %s (pod template)", w.Object.Kind, w.Object.Name())
	}
	return w.Object.Name()
}

func names(objs []*mesh.Object) string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Name()
	}
	return strings.Join(out, ", ")
}
