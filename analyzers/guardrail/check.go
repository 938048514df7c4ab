package guardrail

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// checker validates a decoded document section by section and compiles it.
type checker struct {
	*decoder
	doc   *document
	env   *cel.Env
	names map[string]string // limit and rule names → path of the first
}

// errAt reports a problem with the field at path, placed at its value or,
// when the field is absent, at the nearest enclosing one present.
func (c *checker) errAt(p, format string, args ...any) {
	at, ok := c.at[p]
	for q := p; !ok && q != ""; {
		q = parent(q)
		at, ok = c.at[q]
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: at.line, Column: at.col, Path: p, Msg: fmt.Sprintf(format, args...)})
}

func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (c *checker) check() *Policy {
	doc := c.doc
	if doc.APIVersion != APIVersion {
		c.errAt("apiVersion", "must be %s, not %q", APIVersion, doc.APIVersion)
	}
	if doc.Kind != Kind {
		c.errAt("kind", "must be %s, not %q", Kind, doc.Kind)
	}
	if doc.Metadata.Name == "" {
		c.errAt("metadata.name", "required")
	}
	p := &Policy{Name: doc.Metadata.Name, kinds: map[mesh.GroupKind]*kindChecks{}}
	c.checkProjects()
	c.names = map[string]string{}
	for i := range doc.Spec.Limits {
		if l := c.checkLimit(fmt.Sprintf("spec.limits[%d]", i), &doc.Spec.Limits[i]); l != nil {
			p.limits = append(p.limits, l)
		}
	}
	if len(doc.Spec.Rules) > 0 {
		env, err := newEnv()
		if err != nil {
			c.errAt("spec.rules", "build CEL environment: %v", err)
			return p
		}
		c.env = env
	}
	for i := range doc.Spec.Rules {
		if r := c.checkRule(fmt.Sprintf("spec.rules[%d]", i), &doc.Spec.Rules[i]); r != nil {
			p.rules = append(p.rules, r)
		}
	}
	if len(doc.Spec.Limits)+len(doc.Spec.Rules) == 0 {
		c.errAt("spec", "a policy needs at least one limit or rule")
	}
	p.index()
	return p
}

func projectID(s string) (projectRef, bool) {
	cluster, project, full := strings.Cut(s, ":")
	if !full {
		cluster, project = "", s
	}
	if !strings.HasPrefix(project, "p-") || len(project) < 3 || (full && cluster == "") {
		return projectRef{}, false
	}
	return projectRef{cluster: cluster, project: project}, true
}

func (c *checker) checkProjects() {
	for name, id := range c.doc.Spec.Projects {
		if ref, ok := projectID(id); !ok || ref.cluster == "" {
			c.errAt("spec.projects."+name, "%q is not a Rancher project id of the form <cluster>:<project> (c-m-xxxxx:p-xxxxx)", id)
		}
	}
}

func (c *checker) checkName(p, name string) {
	if name == "" {
		c.errAt(p+".name", "required")
		return
	}
	if first, dup := c.names[name]; dup {
		c.errAt(p+".name", "name %q is already used by %s", name, first)
		return
	}
	c.names[name] = p
}

func (c *checker) checkLevel(p, s string) analysis.Level {
	switch s {
	case "info":
		return analysis.Info
	case "warning":
		return analysis.Warning
	case "error":
		return analysis.Error
	}
	c.errAt(p, "unknown level %q (want info, warning or error)", s)
	return 0
}

func (c *checker) checkLimit(p string, ls *limitSpec) *limit {
	c.checkName(p, ls.Name)
	l := &limit{name: ls.Name, level: c.checkLevel(p+".level", ls.Level), maxAttempts: -1, mtls: ls.RequiredMTLSMode}
	if len(ls.Scope.Kinds) > 0 {
		c.errAt(p+".scope.kinds", "a limit applies to the kinds its limits concern; kinds scope rules only")
	}
	l.scope = c.checkScope(p+".scope", &ls.Scope)
	set := false
	if ls.MaxRouteTimeout != "" {
		set = true
		d, err := time.ParseDuration(ls.MaxRouteTimeout)
		switch {
		case err != nil:
			c.errAt(p+".maxRouteTimeout", "invalid duration %q (want for example 30s or 1m30s)", ls.MaxRouteTimeout)
		case d <= 0:
			c.errAt(p+".maxRouteTimeout", "must be positive, not %s", ls.MaxRouteTimeout)
		}
		l.maxTimeout = d
	}
	if ls.MaxRetryAttempts != nil {
		set = true
		if *ls.MaxRetryAttempts < 0 {
			c.errAt(p+".maxRetryAttempts", "must not be negative, not %d", *ls.MaxRetryAttempts)
		}
		l.maxAttempts = *ls.MaxRetryAttempts
	}
	if len(ls.AllowedRetryOn) > 0 {
		set = true
		l.allowedRetryOn = map[string]bool{}
		for i, v := range ls.AllowedRetryOn {
			if !knownRetryOn(v) {
				c.errAt(fmt.Sprintf("%s.allowedRetryOn[%d]", p, i), "unknown retryOn value %q (want an Envoy retry policy such as 5xx, gateway-error, connect-failure, or an HTTP status code)", v)
			}
			l.allowedRetryOn[v] = true
			l.allowedList = append(l.allowedList, v)
		}
	}
	if ls.RequiredMTLSMode != "" {
		set = true
		if ls.RequiredMTLSMode != "STRICT" && ls.RequiredMTLSMode != "PERMISSIVE" {
			c.errAt(p+".requiredMtlsMode", "must be STRICT or PERMISSIVE, not %q", ls.RequiredMTLSMode)
		}
	}
	if len(ls.ForbiddenKinds) > 0 {
		set = true
		l.forbidden = map[mesh.GroupKind]bool{}
		for i, k := range ls.ForbiddenKinds {
			for _, gk := range c.resolveKind(fmt.Sprintf("%s.forbiddenKinds[%d]", p, i), k) {
				l.forbidden[gk] = true
			}
		}
	}
	if !set {
		c.errAt(p, "limit %q sets no limit (maxRouteTimeout, maxRetryAttempts, allowedRetryOn, requiredMtlsMode or forbiddenKinds)", ls.Name)
	}
	return l
}

// retryPolicies are Envoy's retry_on values that Istio passes through.
var retryPolicies = map[string]bool{
	"5xx": true, "gateway-error": true, "reset": true, "reset-before-request": true, "connect-failure": true,
	"envoy-ratelimited": true, "retriable-4xx": true, "refused-stream": true, "retriable-status-codes": true,
	"retriable-headers": true, "http3-post-connect-failure": true,
	"cancelled": true, "deadline-exceeded": true, "internal": true, "resource-exhausted": true, "unavailable": true,
}

func knownRetryOn(v string) bool {
	if retryPolicies[v] {
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 100 && n <= 599
}

// resolveKind reads "Kind" or "Kind.group"; a bare Kind names every
// modelled kind of that name (Gateway: Istio's and Gateway API's).
func (c *checker) resolveKind(p, s string) []mesh.GroupKind {
	kind, group, qualified := strings.Cut(s, ".")
	var out []mesh.GroupKind
	for _, k := range mesh.Kinds() {
		if k.Kind == kind && (!qualified || k.Group == group) {
			out = append(out, k.GroupKind)
		}
	}
	if len(out) == 0 {
		c.errAt(p, "unknown kind %q (want a kind meshpilot models, as Kind or Kind.group)", s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (c *checker) checkScope(p string, ss *scopeSpec) *scope {
	s := &scope{}
	if len(ss.Kinds) > 0 {
		s.kinds = map[mesh.GroupKind]bool{}
		for i, k := range ss.Kinds {
			for _, gk := range c.resolveKind(fmt.Sprintf("%s.kinds[%d]", p, i), k) {
				s.kinds[gk] = true
			}
		}
	}
	s.namespaces = c.checkGlobs(p+".namespaces", ss.Namespaces)
	s.exclude = c.checkGlobs(p+".excludeNamespaces", ss.ExcludeNamespaces)
	s.nsSelector = c.checkSelector(p+".namespaceSelector", ss.NamespaceSelector)
	s.objSelector = c.checkSelector(p+".objectSelector", ss.ObjectSelector)
	for i, name := range ss.Projects {
		ref, ok := projectID(name)
		if !ok {
			id, named := c.doc.Spec.Projects[name]
			if !named {
				c.errAt(fmt.Sprintf("%s.projects[%d]", p, i), "%q is neither a Rancher project id (p-xxxxx or <cluster>:p-xxxxx) nor a project named in spec.projects", name)
				continue
			}
			ref, _ = projectID(id)
		}
		s.projects = append(s.projects, ref)
	}
	return s
}

func (c *checker) checkGlobs(p string, globs []string) []string {
	for i, g := range globs {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			c.errAt(fmt.Sprintf("%s[%d]", p, i), "invalid namespace pattern %q: %v", g, path.ErrBadPattern)
		}
	}
	return globs
}

func (c *checker) checkSelector(p string, ls *labelSelector) labels.Selector {
	if ls == nil {
		return nil
	}
	sel := &metav1.LabelSelector{MatchLabels: ls.MatchLabels}
	for _, r := range ls.MatchExpressions {
		sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: r.Key, Operator: metav1.LabelSelectorOperator(r.Operator), Values: r.Values})
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.errAt(p, "invalid label selector: %v", err)
		return nil
	}
	return s
}

func (c *checker) checkRule(p string, rs *ruleSpec) *rule {
	c.checkName(p, rs.Name)
	r := &rule{name: rs.Name, level: c.checkLevel(p+".level", rs.Level), expr: rs.Expression, message: rs.Message}
	r.scope = c.checkScope(p+".scope", &rs.Scope)
	if len(rs.Scope.Kinds) == 0 {
		c.errAt(p+".scope.kinds", "required: a rule names the kinds it applies to")
	}
	if rs.Expression == "" {
		c.errAt(p+".expression", "required")
	} else {
		r.prog = c.compile(p+".expression", rs.Expression, cel.BoolType)
		r.usesNamespace = strings.Contains(rs.Expression, varNamespace)
	}
	if rs.MessageExpression != "" {
		r.msgProg = c.compile(p+".messageExpression", rs.MessageExpression, cel.StringType)
		r.usesNamespace = r.usesNamespace || strings.Contains(rs.MessageExpression, varNamespace)
	}
	if r.message == "" {
		r.message = "failed expression: " + rs.Expression
	}
	return r
}

func (c *checker) compile(p, expr string, want *cel.Type) cel.Program {
	prog, err := compile(c.env, expr, want)
	if err != nil {
		c.errAt(p, "%v", err)
	}
	return prog
}
