package virtualservice

import (
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// JWTClaimRoute reports VirtualServices that route on JWT claims through
// gateway workloads no RequestAuthentication applies to.
var JWTClaimRoute = &analysis.Analyzer{
	Name: "virtualservice.JWTClaimRoute",
	Doc: "report routing on JWT claims through gateways without a RequestAuthentication\n\n" +
		"Matching on @request.auth.claims headers only works where a RequestAuthentication has " +
		"validated the token: every workload selected by a gateway the VirtualService binds to needs " +
		"one, in its own namespace or the root namespace. When reading files, istioctl assumes its " +
		"default ingress gateway pod (istio-system, istio=ingressgateway), and so does this check.",
	Codes: []*analysis.Code{codes.JwtClaimBasedRoutingWithoutRequestAuthN},
	Run:   runJWTClaimRoute,
}

// claimHeaderPrefix starts the pseudo-headers that match JWT claims.
const claimHeaderPrefix = "@request.auth.claims"

// gatewayWorkload is a workload a gateway may select: a workload of the
// snapshot, or istioctl's stand-in for the default ingress gateway.
type gatewayWorkload struct {
	namespace, name string
	labels          map[string]string
}

func runJWTClaimRoute(p *analysis.Pass) (any, error) {
	authn := map[string][]map[string]string{} // namespace → RequestAuthentication selectors
	for _, o := range p.Snapshot.List(mesh.RequestAuthentication) {
		ra, ok := o.Obj.(*security.RequestAuthentication)
		if !ok || ra == nil || o.Meta == nil {
			continue
		}
		authn[o.Namespace()] = append(authn[o.Namespace()], ra.GetSelector().GetMatchLabels())
	}
	gateways := indexObjects(p.Snapshot, mesh.Gateway)
	workloads := gatewayWorkloads(p.Snapshot)
	root := p.Snapshot.RootNamespace()
	for _, vs := range virtualServices(p.Snapshot) {
		key := claimRouteKey(vs.Spec)
		if key == "" {
			continue
		}
		for _, ref := range vs.Spec.GetGateways() {
			if ref == meshGateway {
				continue
			}
			ns, name := splitRef(ref, vs.Obj.Namespace())
			gw := gateways.get(mesh.Gateway, vs.Obj.Source.Cluster, ns, name)
			spec, ok := gwSpec(gw)
			if !ok {
				continue // a missing gateway is the Gateway check's finding
			}
			for _, w := range workloads {
				if !mesh.MatchLabels(spec.GetSelector(), w.labels) {
					continue
				}
				if authenticated(w, authn[root]) || (w.namespace != root && authenticated(w, authn[w.namespace])) {
					continue
				}
				p.Reportf(codes.JwtClaimBasedRoutingWithoutRequestAuthN, vs.Obj,
					"routes on JWT claim %q through Gateway %s/%s, but no RequestAuthentication applies to its "+
						"workload %s/%s, so the claim is never set", key, ns, name, w.namespace, w.name)
			}
		}
	}
	return nil, nil
}

func gwSpec(o *mesh.Object) (*networking.Gateway, bool) {
	if o == nil {
		return nil, false
	}
	spec, ok := o.Obj.(*networking.Gateway)
	return spec, ok && spec != nil
}

func authenticated(w gatewayWorkload, selectors []map[string]string) bool {
	for _, sel := range selectors {
		if mesh.MatchLabels(sel, w.labels) {
			return true
		}
	}
	return false
}

// gatewayWorkloads lists the snapshot's workloads, plus in file mode the
// default ingress gateway pod istioctl assumes.
func gatewayWorkloads(s *mesh.Snapshot) []gatewayWorkload {
	var out []gatewayWorkload
	if in, ok := s.DefaultIngress(); ok {
		out = append(out, gatewayWorkload{namespace: in.Namespace, name: in.Service + "-dummypod", labels: in.Labels})
	}
	for _, w := range s.Workloads() {
		out = append(out, gatewayWorkload{namespace: w.Namespace, name: w.Object.Name(), labels: w.Labels})
	}
	return out
}

// claimRouteKey returns the first header, in name order per match, that
// matches on a JWT claim, or "".
func claimRouteKey(vs *networking.VirtualService) string {
	for _, rule := range vs.GetHttp() {
		for _, m := range rule.GetMatch() {
			for _, headers := range []map[string]*networking.StringMatch{m.GetHeaders(), m.GetWithoutHeaders()} {
				names := make([]string, 0, len(headers))
				for k := range headers {
					names = append(names, k)
				}
				sort.Strings(names)
				for _, k := range names {
					if isClaimHeader(k) {
						return k
					}
				}
			}
		}
	}
	return ""
}

// isClaimHeader: "@request.auth.claims.<name>[.<name>...]" or
// "@request.auth.claims[<name>][<name>...]", the prefix in any case.
func isClaimHeader(h string) bool {
	if len(h) < len(claimHeaderPrefix) || !strings.EqualFold(h[:len(claimHeaderPrefix)], claimHeaderPrefix) {
		return false
	}
	rest := h[len(claimHeaderPrefix):]
	switch {
	case strings.HasPrefix(rest, "."):
		return len(rest) > 1
	case strings.HasPrefix(rest, "["):
		return strings.HasSuffix(rest, "]") && len(rest) > 2
	}
	return false
}
