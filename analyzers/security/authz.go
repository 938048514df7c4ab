package security

import (
	"fmt"
	"sort"
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	security "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// AuthorizationPolicies checks AuthorizationPolicies against Istio's
// security best practices.
var AuthorizationPolicies = &analysis.Analyzer{
	Name: "security.AuthorizationPolicies",
	Doc: "report AuthorizationPolicies that admit more, or deny less, than they seem to\n\n" +
		"Checks the scope of ALLOW policies per namespace, rules that match everything or anyone, negative " +
		"ALLOW and positive DENY matching, request principals without RequestAuthentication, HTTP-only " +
		"fields on TCP ports, Service ports instead of container ports, methods, hosts, IP blocks at " +
		"gateways, and dry-run, CUSTOM and AUDIT policies. (Principals and mTLS needs are the kiali " +
		"package's checks: MP3004, MP3005, MP3006.)",
	Codes: []*analysis.Code{
		codes.NoAllowPolicyInScope, codes.AllowAllRule, codes.AllowRuleWithoutSource, codes.AllowRuleWithoutOperation,
		codes.AnyAuthenticatedPeer, codes.BroadWildcard, codes.DenyWithoutRules, codes.AllowWithNegativeMatch,
		codes.DenyPathVariant, codes.RootNamespaceSelectorMeshWide, codes.HTTPFieldsOnTCPPort, codes.DenyHTTPFieldsWithoutPorts,
		codes.PathNormalizationBypass, codes.HostMatchVariant, codes.HostsOnSidecarPolicy,
		codes.PolicyPortIsServicePort, codes.InvalidMethod, codes.IPBlocksBehindSNAT, codes.RemoteIPBlocksUntrusted,
		codes.RequestPrincipalsWithoutRequestAuthentication, codes.DryRunPolicy, codes.CustomActionPolicy, codes.AuditPolicy,
	},
	Run: runAuthz,
}

// policy is an AuthorizationPolicy with the workloads it applies to.
type policy struct {
	o        *mesh.Object
	ap       *security.AuthorizationPolicy
	ws       []*mesh.Workload // mesh workloads it applies to
	targeted bool             // attached with targetRef(s)
	gateway  bool             // enforced by gateway proxies
	dryRun   bool
}

func (p *policy) allow() bool { return p.ap.GetAction() == security.AuthorizationPolicy_ALLOW }
func (p *policy) deny() bool  { return p.ap.GetAction() == security.AuthorizationPolicy_DENY }

type authz struct {
	pass *analysis.Pass
	x    *index
}

func runAuthz(pass *analysis.Pass) (any, error) {
	a := &authz{pass: pass, x: newIndex(pass.Snapshot)}
	var policies []*policy
	for _, o := range pass.Snapshot.List(mesh.AuthorizationPolicy) {
		ap, ok := o.Obj.(*security.AuthorizationPolicy)
		if !ok || ap == nil {
			continue
		}
		p := a.resolve(o, ap)
		policies = append(policies, p)
		a.checkPolicy(p)
	}
	a.checkScope(policies)
	return nil, nil
}

func (a *authz) resolve(o *mesh.Object, ap *security.AuthorizationPolicy) *policy {
	p := &policy{o: o, ap: ap, dryRun: o.Annotations()["istio.io/dry-run"] == "true"}
	refs := targetRefs(ap.GetTargetRef(), ap.GetTargetRefs())
	if len(refs) > 0 {
		p.targeted = true
		for _, r := range refs {
			if r.GetKind() != "Gateway" {
				continue
			}
			p.gateway = true
			ns := r.GetNamespace()
			if ns == "" {
				ns = o.Namespace()
			}
			p.ws = append(p.ws, a.pass.Snapshot.SelectWorkloads(ns, map[string]string{"gateway.networking.k8s.io/gateway-name": r.GetName()})...)
		}
		return p
	}
	sel := ap.GetSelector().GetMatchLabels()
	p.ws = a.x.scope(o.Namespace(), sel)
	if len(p.ws) > 0 {
		p.gateway = true
		for _, w := range p.ws {
			if !isGateway(w) {
				p.gateway = false
			}
		}
	} else if di, ok := a.pass.Snapshot.DefaultIngress(); ok && len(sel) > 0 && mesh.MatchLabels(sel, di.Labels) &&
		(o.Namespace() == di.Namespace || o.Namespace() == a.x.root) {
		p.gateway = true
	}
	return p
}

func targetRefs(one *typev1beta1.PolicyTargetReference, many []*typev1beta1.PolicyTargetReference) []*typev1beta1.PolicyTargetReference {
	if one != nil {
		return append([]*typev1beta1.PolicyTargetReference{one}, many...)
	}
	return many
}

// targetsGatewayOf reports whether the refs attach to the Kubernetes
// Gateway that deployed w.
func targetsGatewayOf(one *typev1beta1.PolicyTargetReference, many []*typev1beta1.PolicyTargetReference, w *mesh.Workload) bool {
	for _, r := range targetRefs(one, many) {
		if r.GetKind() == "Gateway" && r.GetName() == w.Labels["gateway.networking.k8s.io/gateway-name"] {
			return true
		}
	}
	return false
}

func (a *authz) checkPolicy(p *policy) {
	switch {
	case p.dryRun:
		a.pass.Reportf(codes.DryRunPolicy, p.o, "istio.io/dry-run is \"true\": this %s policy only logs its decisions and enforces nothing", p.ap.GetAction())
	case p.ap.GetAction() == security.AuthorizationPolicy_CUSTOM:
		a.pass.Reportf(codes.CustomActionPolicy, p.o, "action CUSTOM delegates to provider %q; only one CUSTOM provider may apply to a workload", p.ap.GetProvider().GetName())
	case p.ap.GetAction() == security.AuthorizationPolicy_AUDIT:
		a.pass.Reportf(codes.AuditPolicy, p.o, "action AUDIT only marks matching requests for audit logging; it neither allows nor denies them")
	}
	if p.deny() && len(p.ap.GetRules()) == 0 {
		a.pass.Reportf(codes.DenyWithoutRules, p.o, "this DENY policy has no rules, so it never matches and denies nothing (rules: [{}] would deny every request)")
	}
	if p.o.Namespace() == a.x.root && len(p.ap.GetSelector().GetMatchLabels()) > 0 {
		a.checkRootSelector(p)
	}
	reqPrincipalRule := -1
	for i, r := range p.ap.GetRules() {
		if r == nil {
			continue
		}
		if p.allow() {
			a.checkAllowRule(p, i, r)
		}
		if p.deny() {
			a.checkDenyPaths(p, i, r)
		}
		a.checkWildcards(p, i, r)
		a.checkNormalization(p, i, r)
		a.checkProtocol(p, i, r)
		a.checkOperations(p, i, r)
		a.checkIPBlocks(p, i, r)
		if reqPrincipalRule < 0 && usesRequestPrincipal(r) {
			reqPrincipalRule = i
		}
	}
	if reqPrincipalRule >= 0 {
		a.checkRequestAuthn(p, reqPrincipalRule)
	}
}

// checkScope reports, once per namespace, the mesh workloads that no
// enforced ALLOW policy selects.
func (a *authz) checkScope(policies []*policy) {
	covered := map[*mesh.Workload]bool{}
	everything := false
	for _, p := range policies {
		if !p.allow() || p.dryRun || p.targeted {
			continue
		}
		if p.o.Namespace() == a.x.root && len(p.ap.GetSelector().GetMatchLabels()) == 0 {
			everything = true
			break
		}
		for _, w := range p.ws {
			covered[w] = true
		}
	}
	if everything {
		return
	}
	snap := a.pass.Snapshot
	for _, ns := range snap.Namespaces() {
		var open []*mesh.Workload
		total := 0
		for _, w := range snap.WorkloadsIn(ns) {
			if isGateway(w) || !a.x.meshWorkload(w) {
				continue
			}
			total++
			if !covered[w] {
				open = append(open, w)
			}
		}
		if len(open) == 0 {
			continue
		}
		// Name them in one order whatever the input order: a folder and a
		// live cluster list the same workloads differently.
		sort.Slice(open, func(i, j int) bool {
			if open[i].Object.Name() != open[j].Object.Name() {
				return open[i].Object.Name() < open[j].Object.Name()
			}
			return open[i].Object.Kind < open[j].Object.Kind
		})
		obj := snap.Get(mesh.Namespace, "", ns)
		if obj == nil {
			obj = open[0].Object
		}
		a.pass.Reportf(codes.NoAllowPolicyInScope, obj,
			"%d of %d mesh workloads in namespace %s have no ALLOW policy in scope (%s), so every request reaching them is allowed; no ALLOW policy in namespace %s or the root namespace %s selects them",
			len(open), total, ns, names(open, 5), ns, a.x.root)
	}
}

func (a *authz) checkRootSelector(p *policy) {
	others := map[string]bool{}
	var list []string
	for _, w := range p.ws {
		if w.Namespace != a.x.root && !others[w.Namespace] {
			others[w.Namespace] = true
			list = append(list, w.Namespace)
		}
	}
	if len(list) == 0 {
		return
	}
	a.pass.Reportf(codes.RootNamespaceSelectorMeshWide, p.o,
		"this policy is in the root namespace %s, so its selector %s applies in every namespace: it matches workloads in %s",
		a.x.root, mesh.FormatLabels(p.ap.GetSelector().GetMatchLabels()), strings.Join(list, ", "))
}

// ---- rule anatomy ----

func emptySource(s *security.Source) bool {
	return s == nil || (len(s.Principals)+len(s.NotPrincipals)+len(s.RequestPrincipals)+len(s.NotRequestPrincipals)+
		len(s.Namespaces)+len(s.NotNamespaces)+len(s.ServiceAccounts)+len(s.NotServiceAccounts)+len(s.IpBlocks)+
		len(s.NotIpBlocks)+len(s.RemoteIpBlocks)+len(s.NotRemoteIpBlocks)+len(s.TrustDomains)+len(s.NotTrustDomains) == 0)
}

func emptyOperation(op *security.Operation) bool {
	return op == nil || len(op.Hosts)+len(op.NotHosts)+len(op.Ports)+len(op.NotPorts)+len(op.Methods)+
		len(op.NotMethods)+len(op.Paths)+len(op.NotPaths) == 0
}

func hasSource(r *security.Rule) bool {
	for _, f := range r.GetFrom() {
		if !emptySource(f.GetSource()) {
			return true
		}
	}
	for _, c := range r.GetWhen() {
		k := c.GetKey()
		if strings.HasPrefix(k, "source.") || strings.HasPrefix(k, "request.auth.") || k == "remote.ip" {
			return true
		}
	}
	return false
}

func hasOperation(r *security.Rule) bool {
	for _, t := range r.GetTo() {
		if !emptyOperation(t.GetOperation()) {
			return true
		}
	}
	for _, c := range r.GetWhen() {
		k := c.GetKey()
		if strings.HasPrefix(k, "destination.") || strings.HasPrefix(k, "request.headers") || k == "connection.sni" {
			return true
		}
	}
	return false
}

func matchAll(r *security.Rule) bool {
	return !hasSource(r) && !hasOperation(r) && len(r.GetWhen()) == 0
}

// onlyWildcardIdentity: the rule's single restriction is principals or
// namespaces "*".
func onlyWildcardIdentity(r *security.Rule) bool {
	if hasOperation(r) || len(r.GetWhen()) > 0 || len(r.GetFrom()) == 0 {
		return false
	}
	star := func(l []string) bool { return len(l) == 1 && l[0] == "*" }
	for _, f := range r.GetFrom() {
		s := f.GetSource()
		if s == nil || !(star(s.Principals) || star(s.Namespaces)) {
			return false
		}
		if (len(s.Principals) > 0 && !star(s.Principals)) || (len(s.Namespaces) > 0 && !star(s.Namespaces)) {
			return false
		}
		if len(s.NotPrincipals)+len(s.RequestPrincipals)+len(s.NotRequestPrincipals)+len(s.NotNamespaces)+
			len(s.ServiceAccounts)+len(s.NotServiceAccounts)+len(s.IpBlocks)+len(s.NotIpBlocks)+len(s.RemoteIpBlocks)+
			len(s.NotRemoteIpBlocks)+len(s.TrustDomains)+len(s.NotTrustDomains) > 0 {
			return false
		}
	}
	return true
}

func (a *authz) checkAllowRule(p *policy, i int, r *security.Rule) {
	switch {
	case matchAll(r):
		msg := fmt.Sprintf("rules[%d] is empty, so it matches every request: this policy allows all traffic to the workloads it selects", i)
		if len(r.GetFrom())+len(r.GetTo()) > 0 {
			msg = fmt.Sprintf("rules[%d] has only empty from/to entries, so it matches every request: this policy allows all traffic to the workloads it selects", i)
		}
		a.pass.Report(analysis.NewFinding(codes.AllowAllRule, p.o, msg+" and makes any other ALLOW policy on them moot"))
		return
	case !hasSource(r) && !p.gateway:
		what := "the operations in its to"
		if !hasOperation(r) {
			what = "every operation its conditions match"
		}
		a.pass.Reportf(codes.AllowRuleWithoutSource, p.o,
			"rules[%d] has no from: %s are allowed from any source, plaintext and unauthenticated callers included", i, what)
	case onlyWildcardIdentity(r):
		a.pass.Reportf(codes.AnyAuthenticatedPeer, p.o,
			"rules[%d] only requires a wildcard identity (principals or namespaces \"*\"): any workload of the mesh may use every port, method and path", i)
	case hasSource(r) && !hasOperation(r) && !p.gateway:
		a.pass.Reportf(codes.AllowRuleWithoutOperation, p.o,
			"rules[%d] has no to: the callers it names may use every port, method and path of the workloads", i)
	}
	if neg := negativeFields(r); len(neg) > 0 {
		a.pass.Reportf(codes.AllowWithNegativeMatch, p.o,
			"rules[%d] of this ALLOW policy matches negatively (%s): everything not listed is allowed, variants of the listed values included", i, strings.Join(neg, ", "))
	}
}

func negativeFields(r *security.Rule) []string {
	var out []string
	for j, f := range r.GetFrom() {
		s := f.GetSource()
		for _, fld := range []struct {
			name string
			n    int
		}{{"notPrincipals", len(s.GetNotPrincipals())}, {"notNamespaces", len(s.GetNotNamespaces())},
			{"notServiceAccounts", len(s.GetNotServiceAccounts())}, {"notRequestPrincipals", len(s.GetNotRequestPrincipals())}} {
			if fld.n > 0 {
				out = append(out, fmt.Sprintf("from[%d].source.%s", j, fld.name))
			}
		}
	}
	for j, t := range r.GetTo() {
		op := t.GetOperation()
		for _, fld := range []struct {
			name string
			n    int
		}{{"notPaths", len(op.GetNotPaths())}, {"notHosts", len(op.GetNotHosts())}, {"notMethods", len(op.GetNotMethods())}} {
			if fld.n > 0 {
				out = append(out, fmt.Sprintf("to[%d].operation.%s", j, fld.name))
			}
		}
	}
	for j, c := range r.GetWhen() {
		if len(c.GetNotValues()) > 0 {
			out = append(out, fmt.Sprintf("when[%d].notValues (%s)", j, c.GetKey()))
		}
	}
	return out
}

// checkDenyPaths reports exact paths whose "/x/*" form is missing and
// "/x/*" prefixes whose exact form is missing.
func (a *authz) checkDenyPaths(p *policy, i int, r *security.Rule) {
	for j, t := range r.GetTo() {
		paths := t.GetOperation().GetPaths()
		has := map[string]bool{}
		for _, s := range paths {
			has[s] = true
		}
		covered := func(s string) bool {
			for q := range has {
				if strings.HasSuffix(q, "*") && strings.HasPrefix(s, strings.TrimSuffix(q, "*")) && q != s+"/*" {
					return true
				}
			}
			return false
		}
		for k, s := range paths {
			switch {
			case s == "" || s == "*" || strings.Contains(s, "{") || strings.HasPrefix(s, "*"):
			case !strings.Contains(s, "*") && !strings.HasSuffix(s, "/") && !has[s+"/*"] && !has[s+"*"] && !covered(s):
				a.pass.Reportf(codes.DenyPathVariant, p.o,
					"rules[%d].to[%d].operation.paths[%d] %q denies that exact path only: %q and %q are not denied", i, j, k, s, s+"/", s+"/x")
			case strings.HasSuffix(s, "/*") && !has[strings.TrimSuffix(s, "/*")] && !has[strings.TrimSuffix(s, "/*")+"*"] &&
				!covered(strings.TrimSuffix(s, "/*")):
				a.pass.Reportf(codes.DenyPathVariant, p.o,
					"rules[%d].to[%d].operation.paths[%d] %q does not deny %q itself", i, j, k, s, strings.TrimSuffix(s, "/*"))
			}
		}
	}
}

func (a *authz) checkWildcards(p *policy, i int, r *security.Rule) {
	if !p.allow() && !p.deny() {
		return
	}
	for j, t := range r.GetTo() {
		op := t.GetOperation()
		field, list := "paths", op.GetPaths()
		if p.deny() {
			field, list = "notPaths", op.GetNotPaths()
		}
		for k, s := range list {
			if len(s) > 2 && strings.HasSuffix(s, "*") && !strings.HasSuffix(s, "/*") && strings.HasPrefix(s, "/") {
				a.pass.Reportf(codes.BroadWildcard, p.o,
					"rules[%d].to[%d].operation.%s[%d] %q also matches %q; end the prefix at a segment: %q",
					i, j, field, k, s, strings.TrimSuffix(s, "*")+"-internal", strings.TrimSuffix(s, "*")+"/*")
			}
		}
	}
	for j, f := range r.GetFrom() {
		s := f.GetSource()
		field, list := "principals", s.GetPrincipals()
		if p.deny() {
			field, list = "notPrincipals", s.GetNotPrincipals()
		}
		for k, pr := range list {
			if why := broadPrincipal(pr); why != "" {
				a.pass.Reportf(codes.BroadWildcard, p.o, "rules[%d].from[%d].source.%s[%d] %q %s", i, j, field, k, pr, why)
			}
		}
	}
}

// broadPrincipal says why a wildcard principal covers more than one
// namespace's service accounts, or "".
func broadPrincipal(pr string) string {
	if pr == "*" || !strings.Contains(pr, "*") || strings.HasPrefix(pr, "spiffe://") {
		return ""
	}
	if strings.HasSuffix(pr, "*") {
		prefix := strings.TrimSuffix(pr, "*")
		parts := strings.Split(prefix, "/")
		// td/ns/<ns>/sa/<prefix> is scoped to one namespace.
		if len(parts) >= 5 && parts[1] == "ns" && parts[2] != "" && parts[3] == "sa" {
			return ""
		}
		return "matches the service accounts of more than one namespace"
	}
	suffix := strings.TrimPrefix(pr, "*")
	if strings.HasPrefix(suffix, "/ns/") && strings.Contains(suffix, "/sa/") {
		return "" // any trust domain, one service account
	}
	return "matches service accounts in every namespace that end the same way"
}

func (a *authz) checkNormalization(p *policy, i int, r *security.Rule) {
	norm := a.pass.Snapshot.MeshConfig.GetPathNormalization().GetNormalization()
	switch norm {
	case meshconfig.MeshConfig_ProxyPathNormalization_MERGE_SLASHES, meshconfig.MeshConfig_ProxyPathNormalization_DECODE_AND_MERGE_SLASHES:
		return
	}
	field := "paths"
	if p.allow() {
		field = "notPaths"
	} else if !p.deny() {
		return
	}
	for j, t := range r.GetTo() {
		op := t.GetOperation()
		list := op.GetPaths()
		if p.allow() {
			list = op.GetNotPaths()
		}
		if len(list) == 0 {
			continue
		}
		name := "BASE (the default)"
		if norm == meshconfig.MeshConfig_ProxyPathNormalization_NONE {
			name = "NONE"
		} else if norm == meshconfig.MeshConfig_ProxyPathNormalization_BASE {
			name = "BASE"
		}
		a.pass.Reportf(codes.PathNormalizationBypass, p.o,
			"rules[%d].to[%d].operation.%s %q is enforced with path normalization %s, which keeps \"//\" and %%2F: if the application merges slashes or decodes them, %q reaches the path",
			i, j, field, list[0], name, doubleSlash(list[0]))
		return
	}
}

func doubleSlash(path string) string {
	if i := strings.LastIndexByte(strings.TrimSuffix(strings.TrimSuffix(path, "*"), "/"), '/'); i > 0 {
		return path[:i] + "/" + path[i:]
	}
	return "/" + path
}

func usesRequestPrincipal(r *security.Rule) bool {
	for _, f := range r.GetFrom() {
		if len(f.GetSource().GetRequestPrincipals())+len(f.GetSource().GetNotRequestPrincipals()) > 0 {
			return true
		}
	}
	for _, c := range r.GetWhen() {
		if strings.HasPrefix(c.GetKey(), "request.auth.") {
			return true
		}
	}
	return false
}

func (a *authz) checkRequestAuthn(p *policy, i int) {
	var without []*mesh.Workload
	for _, w := range p.ws {
		if !a.x.requestAuthn(w) {
			without = append(without, w)
		}
	}
	if len(without) == 0 {
		return
	}
	effect := "the rule never matches"
	if p.deny() {
		effect = "a DENY on notRequestPrincipals denies every request, others never match"
	}
	a.pass.Reportf(codes.RequestPrincipalsWithoutRequestAuthentication, p.o,
		"rules[%d] matches on the request principal (JWT) but no RequestAuthentication applies to %s, so no token is validated there and %s",
		i, names(without, 3), effect)
}

// httpOnly lists the HTTP-only fields of a rule.
func httpOnly(r *security.Rule) []string {
	var out []string
	for j, t := range r.GetTo() {
		op := t.GetOperation()
		for _, f := range []struct {
			n    string
			l, m []string
		}{{"methods", op.GetMethods(), op.GetNotMethods()}, {"paths", op.GetPaths(), op.GetNotPaths()}, {"hosts", op.GetHosts(), op.GetNotHosts()}} {
			if len(f.l)+len(f.m) > 0 {
				out = append(out, fmt.Sprintf("to[%d].operation.%s", j, f.n))
			}
		}
	}
	for j, f := range r.GetFrom() {
		if len(f.GetSource().GetRequestPrincipals())+len(f.GetSource().GetNotRequestPrincipals()) > 0 {
			out = append(out, fmt.Sprintf("from[%d].source.requestPrincipals", j))
		}
	}
	for j, c := range r.GetWhen() {
		if strings.HasPrefix(c.GetKey(), "request.") {
			out = append(out, fmt.Sprintf("when[%d] %s", j, c.GetKey()))
		}
	}
	return out
}

func rulePorts(r *security.Rule) []string {
	var out []string
	for _, t := range r.GetTo() {
		out = append(out, t.GetOperation().GetPorts()...)
	}
	return out
}

func (a *authz) checkProtocol(p *policy, i int, r *security.Rule) {
	if p.gateway || len(p.ws) == 0 || (!p.allow() && !p.deny()) {
		return
	}
	fields := httpOnly(r)
	if len(fields) == 0 {
		return
	}
	ports := rulePorts(r)
	tcp := map[string]string{} // port → protocol, for the non-HTTP ports the rule covers
	allTCP, anyKnown := true, false
	for _, w := range p.ws {
		for port, info := range a.x.containerPorts(w) {
			ps := fmt.Sprint(port)
			if info.protocol != "" {
				anyKnown = true
			}
			if nonHTTP(info.protocol) {
				if len(ports) == 0 || contains(ports, ps) {
					tcp[ps] = info.protocol
				}
			} else {
				allTCP = false
			}
		}
	}
	if len(tcp) == 0 {
		return
	}
	list := sortedKeys(tcp)
	switch {
	case p.allow() && (len(ports) > 0 || (allTCP && anyKnown)):
		a.pass.Reportf(codes.HTTPFieldsOnTCPPort, p.o,
			"rules[%d] uses HTTP-only fields (%s) for port %s, which carries %s: Istio drops this ALLOW rule there, so the traffic it names is denied",
			i, strings.Join(fields, ", "), strings.Join(list, ", "), tcp[list[0]])
	case p.deny() && len(ports) == 0:
		a.pass.Reportf(codes.DenyHTTPFieldsWithoutPorts, p.o,
			"rules[%d] uses HTTP-only fields (%s) and no ports; on port %s (%s) Istio ignores them and the rule denies every connection",
			i, strings.Join(fields, ", "), strings.Join(list, ", "), tcp[list[0]])
	}
}

func (a *authz) checkOperations(p *policy, i int, r *security.Rule) {
	for j, t := range r.GetTo() {
		op := t.GetOperation()
		base := fmt.Sprintf("/spec/rules/%d/to/%d/operation/", i, j)
		a.checkHosts(p, i, j, op, base)
		a.checkPorts(p, i, j, op, base)
		a.checkMethods(p, i, j, op, base)
	}
}

func (a *authz) checkHosts(p *policy, i, j int, op *security.Operation, base string) {
	if len(op.GetHosts())+len(op.GetNotHosts()) == 0 {
		return
	}
	if !p.gateway {
		if len(p.ws) > 0 && !p.targeted {
			a.pass.Reportf(codes.HostsOnSidecarPolicy, p.o,
				"rules[%d].to[%d].operation matches on hosts, but this policy is enforced by sidecars, where the Host header is whatever the client sends", i, j)
		}
		return
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"hosts", op.GetHosts()}, {"notHosts", op.GetNotHosts()}} {
		has := map[string]bool{}
		for _, h := range f.list {
			has[strings.ToLower(h)] = true
		}
		var missing []string
		for _, h := range f.list {
			if !strings.Contains(h, ":") && h != "*" && !has[strings.ToLower(h)+":*"] {
				missing = append(missing, h)
			}
		}
		if len(missing) == 0 {
			continue
		}
		fixed := append([]string(nil), f.list...)
		for _, h := range missing {
			fixed = append(fixed, h+":*")
		}
		fd := analysis.NewFinding(codes.HostMatchVariant, p.o, fmt.Sprintf(
			"rules[%d].to[%d].operation.%s lists %s without the \"host:*\" form, so a Host header with a port (%q) does not match",
			i, j, f.name, quoteAll(missing), missing[0]+":443"))
		fd.Fixes = []analysis.Fix{{
			Message: "add the host:* form of " + quoteAll(missing),
			Explanation: fmt.Sprintf("Adds %s to rules[%d].to[%d].operation.%s of %s, so the rule matches these hosts whether or not the Host header carries a port.",
				quoteAll(suffixAll(missing, ":*")), i, j, f.name, fd.Resource),
			Edits: []analysis.Edit{{Resource: fd.Resource, Path: base + f.name, Value: toAny(fixed)}},
		}}
		a.pass.Report(fd)
	}
}

func (a *authz) checkPorts(p *policy, i, j int, op *security.Operation, base string) {
	if len(p.ws) == 0 {
		return
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"ports", op.GetPorts()}, {"notPorts", op.GetNotPorts()}} {
		for k, ps := range f.list {
			var port uint32
			if _, err := fmt.Sscan(ps, &port); err != nil || port == 0 {
				continue
			}
			target, ok := a.x.serviceToTarget(p.ws, port)
			if !ok {
				continue
			}
			fd := analysis.NewFinding(codes.PolicyPortIsServicePort, p.o, fmt.Sprintf(
				"rules[%d].to[%d].operation.%s[%d] %q is a Service port that forwards to container port %d; policies match container ports, so this never matches",
				i, j, f.name, k, ps, target))
			fd.Fixes = []analysis.Fix{{
				Message: fmt.Sprintf("use container port %d", target),
				Explanation: fmt.Sprintf("Replaces port %s with %d in rules[%d].to[%d].operation.%s of %s: the Service forwards port %s to container port %d, which is the port the proxy sees.",
					ps, target, i, j, f.name, fd.Resource, ps, target),
				Edits: []analysis.Edit{{Resource: fd.Resource, Path: fmt.Sprintf("%s%s/%d", base, f.name, k), Value: fmt.Sprint(target)}},
			}}
			a.pass.Report(fd)
		}
	}
}

var httpMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true}

func (a *authz) checkMethods(p *policy, i, j int, op *security.Operation, base string) {
	for _, f := range []struct {
		name string
		list []string
	}{{"methods", op.GetMethods()}, {"notMethods", op.GetNotMethods()}} {
		for k, m := range f.list {
			if httpMethods[m] || m == "*" || strings.Contains(m, "*") {
				continue
			}
			up := strings.ToUpper(m)
			if !httpMethods[up] {
				a.pass.Reportf(codes.InvalidMethod, p.o, "rules[%d].to[%d].operation.%s[%d] %q is not an HTTP method, so it never matches", i, j, f.name, k, m)
				continue
			}
			fd := analysis.NewFinding(codes.InvalidMethod, p.o, fmt.Sprintf(
				"rules[%d].to[%d].operation.%s[%d] %q is not upper case; methods match exactly, so it never matches a %s request", i, j, f.name, k, m, up))
			fd.Fixes = []analysis.Fix{{
				Message:     fmt.Sprintf("write %q as %q", m, up),
				Explanation: fmt.Sprintf("Changes %s[%d] of rules[%d].to[%d].operation of %s from %q to %q, the form in which HTTP requests carry the method.", f.name, k, i, j, fd.Resource, m, up),
				Edits:       []analysis.Edit{{Resource: fd.Resource, Path: fmt.Sprintf("%s%s/%d", base, f.name, k), Value: up}},
			}}
			a.pass.Report(fd)
		}
	}
	if len(op.GetMethods()) > 0 && !contains(op.GetMethods(), "POST") && a.allGRPC(p) {
		a.pass.Reportf(codes.InvalidMethod, p.o,
			"rules[%d].to[%d].operation.methods %s never matches gRPC, which always uses POST, and the workloads only serve gRPC", i, j, quoteAll(op.GetMethods()))
	}
}

func (a *authz) allGRPC(p *policy) bool {
	any := false
	for _, w := range p.ws {
		for _, info := range a.x.containerPorts(w) {
			if !strings.HasPrefix(strings.ToUpper(info.protocol), "GRPC") {
				return false
			}
			any = true
		}
	}
	return any
}

func (a *authz) checkIPBlocks(p *policy, i int, r *security.Rule) {
	if !p.gateway {
		return
	}
	for j, f := range r.GetFrom() {
		s := f.GetSource()
		if len(s.GetIpBlocks())+len(s.GetNotIpBlocks()) > 0 {
			if svc := a.snatService(p); svc != nil {
				a.pass.Reportf(codes.IPBlocksBehindSNAT, p.o,
					"rules[%d].from[%d].source matches ipBlocks at the gateway, but its Service %s/%s (type %s) has externalTrafficPolicy %s: client addresses are replaced by node addresses",
					i, j, svc.Namespace, svc.Name, svc.Spec.Type, orDefault(string(svc.Spec.ExternalTrafficPolicy), "Cluster"))
			}
		}
		if len(s.GetRemoteIpBlocks())+len(s.GetNotRemoteIpBlocks()) > 0 && !a.trustsProxies(p) {
			a.pass.Reportf(codes.RemoteIPBlocksUntrusted, p.o,
				"rules[%d].from[%d].source matches remoteIpBlocks, but numTrustedProxies is not set for the gateway: X-Forwarded-For is ignored and the remote address is the peer's", i, j)
		}
	}
}

func (a *authz) snatService(p *policy) *corev1.Service {
	for _, w := range p.ws {
		for _, svc := range a.x.services(w) {
			t := svc.Spec.Type
			if (t == corev1.ServiceTypeLoadBalancer || t == corev1.ServiceTypeNodePort) && svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
				return svc
			}
		}
	}
	return nil
}

func (a *authz) trustsProxies(p *policy) bool {
	if a.pass.Snapshot.MeshConfig.GetDefaultConfig().GetGatewayTopology().GetNumTrustedProxies() > 0 {
		return true
	}
	for _, w := range p.ws {
		if strings.Contains(w.Annotations["proxy.istio.io/config"], "numTrustedProxies") {
			return true
		}
	}
	return false
}

// ---- small helpers ----

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func quoteAll(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func suffixAll(l []string, suffix string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s + suffix
	}
	return out
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
