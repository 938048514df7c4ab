// Package auth checks AuthorizationPolicies: that they apply to some
// workload, and that the namespaces their rules name exist.
package auth

import (
	"fmt"
	"strings"

	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{AuthorizationPolicies}

// AuthorizationPolicies checks the workloads and namespaces that
// AuthorizationPolicies refer to.
var AuthorizationPolicies = &analysis.Analyzer{
	Name: "auth.AuthorizationPolicies",
	Doc: "report AuthorizationPolicies that apply to no mesh workload or name unknown namespaces\n\n" +
		"A policy applies to the mesh workloads (with a sidecar, or in ambient mode) its selector matches: " +
		"in its own namespace, or in every namespace for a policy of the root namespace; a policy without " +
		"selector applies to its whole namespace. A policy that applies to none protects nothing. " +
		"Source namespaces and notNamespaces (exact, \"prefix*\" or \"*suffix\") must match a namespace.",
	Codes: []*analysis.Code{codes.ReferencedResourceNotFound, codes.NoMatchingWorkloadsFound},
	Run:   run,
}

func run(p *analysis.Pass) (any, error) {
	policies := p.Snapshot.List(mesh.AuthorizationPolicy)
	if len(policies) == 0 {
		return nil, nil
	}
	c := &checker{p: p, snap: p.Snapshot, meshNS: map[string]bool{}, nsMatch: map[string]bool{}, meshWL: map[*mesh.Workload]bool{}}
	c.collectNamespaces()
	for _, o := range policies {
		ap, ok := o.Obj.(*security.AuthorizationPolicy)
		if !ok {
			continue
		}
		c.checkWorkloads(o, ap)
		c.checkNamespaces(o, ap)
	}
	return nil, nil
}

type checker struct {
	p    *analysis.Pass
	snap *mesh.Snapshot
	// meshNS caches whether a namespace holds a mesh workload, meshWL
	// whether a workload is in the mesh.
	meshNS map[string]bool
	meshWL map[*mesh.Workload]bool
	// namespaces are the known namespace names; nil when the snapshot has
	// no Namespace object, so that references cannot be judged.
	namespaces []string
	exactNS    map[string]bool
	nsMatch    map[string]bool // cache of expression → matched
}

func (c *checker) checkWorkloads(o *mesh.Object, ap *security.AuthorizationPolicy) {
	sel := ap.GetSelector()
	if sel == nil && (ap.GetTargetRef() != nil || len(ap.GetTargetRefs()) > 0) {
		// Attached to gateways or services, not selecting workloads.
		return
	}
	ns := o.Namespace()
	if ns == c.snap.RootNamespace() {
		if sel == nil {
			return
		}
		if !c.anyInMesh(c.snap.SelectWorkloads("", sel.GetMatchLabels())) {
			finding := analysis.NewFinding(codes.NoMatchingWorkloadsFound, o, fmt.Sprintf("the mesh-wide policy's selector %s matches no mesh workload in any namespace", formatSelector(sel.GetMatchLabels())))
			finding.Equivalents = []string{"KIA0004"}
			c.p.Report(finding)
		}
		return
	}
	if sel == nil {
		if !c.namespaceInMesh(ns) {
			finding := analysis.NewFinding(codes.NoMatchingWorkloadsFound, o, fmt.Sprintf("the namespace-wide policy applies to no workload: namespace %s has no mesh workload (with a sidecar or in ambient mode)", ns))
			finding.Equivalents = []string{"KIA0004"}
			c.p.Report(finding)
		}
		return
	}
	if !c.anyInMesh(c.snap.SelectWorkloads(ns, sel.GetMatchLabels())) {
		finding := analysis.NewFinding(codes.NoMatchingWorkloadsFound, o, fmt.Sprintf("the selector %s matches no mesh workload (with a sidecar or in ambient mode) in namespace %s",
			formatSelector(sel.GetMatchLabels()), ns))
		finding.Equivalents = []string{"KIA0004"}
		c.p.Report(finding)
	}
}

func (c *checker) namespaceInMesh(ns string) bool {
	v, ok := c.meshNS[ns]
	if !ok {
		v = c.anyInMesh(c.snap.WorkloadsIn(ns))
		c.meshNS[ns] = v
	}
	return v
}

func (c *checker) anyInMesh(ws []*mesh.Workload) bool {
	for _, w := range ws {
		v, ok := c.meshWL[w]
		if !ok {
			v = inMesh(c.snap, w)
			c.meshWL[w] = v
		}
		if v {
			return true
		}
	}
	return false
}

func (c *checker) collectNamespaces() {
	if len(c.snap.List(mesh.Namespace)) == 0 {
		return
	}
	c.namespaces = c.snap.Namespaces()
	c.exactNS = make(map[string]bool, len(c.namespaces))
	for _, ns := range c.namespaces {
		c.exactNS[strings.ToLower(ns)] = true
	}
}

func (c *checker) checkNamespaces(o *mesh.Object, ap *security.AuthorizationPolicy) {
	if c.namespaces == nil {
		return
	}
	reported := map[string]bool{}
	for i, rule := range ap.GetRules() {
		for j, from := range rule.GetFrom() {
			src := from.GetSource()
			for _, field := range []struct {
				name  string
				exprs []string
			}{{"namespaces", src.GetNamespaces()}, {"notNamespaces", src.GetNotNamespaces()}} {
				for _, expr := range field.exprs {
					if reported[expr] || c.matches(expr) {
						continue
					}
					reported[expr] = true
					finding := analysis.NewFinding(codes.ReferencedResourceNotFound, o, fmt.Sprintf("rules[%d].from[%d].source.%s: %q matches no namespace", i, j, field.name, expr))
					finding.Equivalents = []string{"KIA0101"}
					c.p.Report(finding)
				}
			}
		}
	}
}

// matches reports whether a namespace expression ("ns", "prefix*",
// "*suffix" or "*") names a known namespace.
func (c *checker) matches(expr string) bool {
	if v, ok := c.nsMatch[expr]; ok {
		return v
	}
	var v bool
	switch {
	case expr == "*":
		v = true
	case strings.HasPrefix(expr, "*"):
		v = c.any(func(ns string) bool { return strings.HasSuffix(ns, expr[1:]) })
	case strings.HasSuffix(expr, "*"):
		v = c.any(func(ns string) bool { return strings.HasPrefix(ns, expr[:len(expr)-1]) })
	default:
		v = c.exactNS[strings.ToLower(expr)]
	}
	c.nsMatch[expr] = v
	return v
}

func (c *checker) any(f func(string) bool) bool {
	for _, ns := range c.namespaces {
		if f(ns) {
			return true
		}
	}
	return false
}

// inMesh reports whether a workload has (or will be injected with) a
// sidecar, or runs in ambient mode; pods created from a template in an
// ambient namespace will be captured.
func inMesh(snap *mesh.Snapshot, w *mesh.Workload) bool {
	if w.Annotations[mesh.AnnotationRedirection] == "enabled" || snap.HasSidecar(w) {
		return true
	}
	_, label := w.Labels[mesh.LabelSidecarInject]
	_, annotation := w.Annotations[mesh.LabelSidecarInject]
	if label || annotation {
		return false // opted out of injection explicitly
	}
	ns := snap.Namespace(w.Namespace)
	if ns == nil || ns.Labels[mesh.LabelInjection] != "" || ns.Labels[mesh.LabelRevision] != "" {
		return false
	}
	return w.FromTemplate && ns.Labels[mesh.LabelDataplaneMode] == "ambient" && w.Labels[mesh.LabelDataplaneMode] != "none"
}

func formatSelector(labels map[string]string) string {
	if len(labels) == 0 {
		return "{} (every workload)"
	}
	return mesh.FormatLabels(labels)
}
