package kiali

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// AuthorizationPolicy checks what AuthorizationPolicy rules refer to.
var AuthorizationPolicy = &analysis.Analyzer{
	Name: "kiali.AuthorizationPolicy",
	Doc: "report AuthorizationPolicy rules with unknown hosts or principals, or that need mTLS\n\n" +
		"Operation hosts must be served by a Service, ServiceEntry or VirtualService. Principals must be " +
		"written without the spiffe:// scheme, belong to the mesh's trust domain (or an alias) and name a " +
		"service account of their namespace, when the inputs describe that namespace. Rules on source " +
		"principals, namespaces or connection SNI need mutual TLS in the policy's namespace. (Methods are " +
		"checked by security.AuthorizationPolicies, MP2020.)",
	Codes: []*analysis.Code{codes.AuthorizationPolicyHostNotFound,
		codes.AuthorizationPolicyNeedsMTLS, codes.AuthorizationPolicyPrincipalNotFound,
		codes.AuthorizationPolicyForeignPrincipal},
	Run: runAuthorizationPolicy,
}

// mtlsKeys are the condition keys whose values come from the peer
// certificate.
var mtlsKeys = map[string]bool{"source.namespace": true, "source.principal": true, "connection.sni": true}

type apChecker struct {
	p        *analysis.Pass
	snap     *mesh.Snapshot
	mtls     *mtls
	domains  map[string]bool
	accounts map[string]map[string]bool // namespace → service accounts; absent: not described
	vsHosts  map[string]bool
	vsWild   []string
}

func runAuthorizationPolicy(p *analysis.Pass) (any, error) {
	policies := p.Snapshot.List(mesh.AuthorizationPolicy)
	if len(policies) == 0 {
		return nil, nil
	}
	c := &apChecker{p: p, snap: p.Snapshot, mtls: newMTLS(p.Snapshot)}
	c.indexTrustDomains()
	c.indexServiceAccounts()
	c.indexVirtualServiceHosts()
	for _, o := range policies {
		ap, ok := o.Obj.(*security.AuthorizationPolicy)
		if !ok || ap == nil {
			continue
		}
		c.checkOperations(o, ap)
		c.checkPrincipals(o, ap)
		if why := needsMTLS(ap); why != "" && !c.mtls.namespaceEnabled(o.Namespace()) {
			p.Reportf(codes.AuthorizationPolicyNeedsMTLS, o,
				"%s is only known over mutual TLS, which is not in force in namespace %s", why, o.Namespace())
		}
	}
	return nil, nil
}

func (c *apChecker) indexTrustDomains() {
	c.domains = map[string]bool{"cluster.local": true}
	if td := c.snap.MeshConfig.GetTrustDomain(); td != "" {
		c.domains[td] = true
	}
	for _, td := range c.snap.MeshConfig.GetTrustDomainAliases() {
		c.domains[td] = true
	}
}

// indexServiceAccounts collects, per namespace the inputs describe (with a
// workload or a ServiceAccount), the service accounts that exist or are
// used. Every namespace has "default".
func (c *apChecker) indexServiceAccounts() {
	c.accounts = map[string]map[string]bool{}
	add := func(ns, sa string) {
		if c.accounts[ns] == nil {
			c.accounts[ns] = map[string]bool{"default": true}
		}
		if sa != "" {
			c.accounts[ns][sa] = true
		}
	}
	for _, o := range c.snap.List(mesh.ServiceAccount) {
		add(o.Namespace(), o.Name())
	}
	for _, w := range c.snap.Workloads() {
		sa := ""
		if w.Spec != nil {
			sa = w.Spec.ServiceAccountName
			if sa == "" {
				sa = w.Spec.DeprecatedServiceAccount
			}
		}
		add(w.Namespace, sa)
	}
}

func (c *apChecker) indexVirtualServiceHosts() {
	c.vsHosts = map[string]bool{}
	for _, o := range c.snap.List(mesh.VirtualService) {
		vs, ok := o.Obj.(*networking.VirtualService)
		if !ok || vs == nil {
			continue
		}
		for _, h := range vs.GetHosts() {
			if strings.HasPrefix(h, "*") {
				c.vsWild = append(c.vsWild, h)
			} else {
				c.vsHosts[c.snap.FQDN(h, o.Namespace())] = true
			}
		}
	}
}

func (c *apChecker) checkOperations(o *mesh.Object, ap *security.AuthorizationPolicy) {
	for i, rule := range ap.GetRules() {
		for j, to := range rule.GetTo() {
			for _, h := range to.GetOperation().GetHosts() {
				if !c.hostKnown(h, o.Namespace()) {
					c.p.Reportf(codes.AuthorizationPolicyHostNotFound, o,
						"rules[%d].to[%d]: host %q is served by no Service, ServiceEntry or VirtualService", i, j, h)
				}
			}
		}
	}
}

func (c *apChecker) hostKnown(h, ns string) bool {
	if h == "" || h == "*" {
		return true
	}
	if i := strings.LastIndexByte(h, ':'); i > 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	candidates := []string{c.snap.FQDN(h, ns)}
	if strings.Count(h, ".") == 1 && !strings.HasPrefix(h, "*") {
		// name.namespace, as a client in the mesh may write it.
		candidates = append(candidates, h+".svc."+c.snap.DomainSuffix)
	}
	for _, fq := range candidates {
		if len(c.snap.LookupHost(fq, "")) > 0 || c.vsHosts[fq] {
			return true
		}
		for _, w := range c.vsWild {
			if mesh.HostMatches(w, fq) || mesh.HostMatches(fq, w) {
				return true
			}
		}
		if strings.HasPrefix(fq, "*") {
			for vh := range c.vsHosts {
				if mesh.HostMatches(fq, vh) {
					return true
				}
			}
		}
	}
	return false
}

func (c *apChecker) checkPrincipals(o *mesh.Object, ap *security.AuthorizationPolicy) {
	seen := map[string]bool{}
	for _, rule := range ap.GetRules() {
		for _, from := range rule.GetFrom() {
			src := from.GetSource()
			for _, pr := range append(src.GetPrincipals()[:len(src.GetPrincipals()):len(src.GetPrincipals())], src.GetNotPrincipals()...) {
				if seen[pr] {
					continue
				}
				seen[pr] = true
				c.checkPrincipal(o, pr)
			}
		}
	}
}

func (c *apChecker) checkPrincipal(o *mesh.Object, pr string) {
	if rest, ok := strings.CutPrefix(pr, "spiffe://"); ok {
		// Istio compares principals without the URI scheme, so the
		// trust domain this one names is "spiffe://...": no peer has it.
		c.p.Reportf(codes.AuthorizationPolicyForeignPrincipal, o,
			"principal %q is written with the spiffe:// scheme, which Istio principals omit, so it never matches; write %q", pr, rest)
		return
	}
	if strings.Contains(pr, "*") {
		return
	}
	parts := strings.Split(pr, "/")
	if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" {
		return
	}
	td, ns, sa := parts[0], parts[2], parts[4]
	if !c.domains[td] {
		c.p.Reportf(codes.AuthorizationPolicyForeignPrincipal, o,
			"principal %q is of trust domain %q, which is neither the mesh's trust domain nor an alias of it", pr, td)
		return
	}
	if known, described := c.accounts[ns]; described && !known[sa] {
		c.p.Reportf(codes.AuthorizationPolicyPrincipalNotFound, o,
			"principal %q names service account %s, which no workload of namespace %s uses and no ServiceAccount defines", pr, sa, ns)
	}
}

// needsMTLS says which part of the policy depends on the peer
// certificate, or "" for none.
func needsMTLS(ap *security.AuthorizationPolicy) string {
	for i, rule := range ap.GetRules() {
		for j, from := range rule.GetFrom() {
			src := from.GetSource()
			switch {
			case len(src.GetPrincipals()) > 0 || len(src.GetNotPrincipals()) > 0:
				return "rules[" + itoa(i) + "].from[" + itoa(j) + "].source principals"
			case len(src.GetNamespaces()) > 0 || len(src.GetNotNamespaces()) > 0:
				return "rules[" + itoa(i) + "].from[" + itoa(j) + "].source namespaces"
			}
		}
		for _, cond := range rule.GetWhen() {
			if mtlsKeys[cond.GetKey()] {
				return "rules[" + itoa(i) + "] condition " + cond.GetKey()
			}
		}
	}
	return ""
}
