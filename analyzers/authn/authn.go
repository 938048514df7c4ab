// Package authn checks request authentication settings.
package authn

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{BlockedCIDRs}

// BlockedCIDRs checks that istiod restricts where it fetches JWKS from.
var BlockedCIDRs = &analysis.Analyzer{
	Name: "authn.BlockedCIDRs",
	Doc: "report istiod fetching JWKS for RequestAuthentications without BLOCKED_CIDRS_IN_JWKS_URIS\n\n" +
		"istiod fetches the jwksUri of every RequestAuthentication itself. Without " +
		"BLOCKED_CIDRS_IN_JWKS_URIS on the istiod Deployment, anyone allowed to write a " +
		"RequestAuthentication can make istiod request private and loopback addresses.",
	Codes: []*analysis.Code{codes.JwksUriFetchUnrestricted},
	Run:   run,
}

const (
	envBlockedCIDRs = "BLOCKED_CIDRS_IN_JWKS_URIS"
	maxNamesShown   = 5
)

func run(p *analysis.Pass) (any, error) {
	ras := p.Snapshot.List(mesh.RequestAuthentication)
	if len(ras) == 0 {
		return nil, nil
	}
	for _, o := range p.Snapshot.List(mesh.Deployment) {
		if o.Labels()["app"] != "istiod" {
			continue
		}
		d, ok := o.Obj.(*appsv1.Deployment)
		if !ok || blocksCIDRs(d) {
			continue
		}
		p.Reportf(codes.JwksUriFetchUnrestricted, o,
			"istiod Deployment %s/%s does not set %s, yet fetches the JWKS of %d RequestAuthentication(s) (%s) "+
				"from any address, private and loopback ones included",
			o.Namespace(), o.Name(), envBlockedCIDRs, len(ras), raNames(ras))
	}
	return nil, nil
}

// blocksCIDRs reports whether a container of the pod template sets the
// variable, to a value or from a reference.
func blocksCIDRs(d *appsv1.Deployment) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == envBlockedCIDRs && (e.Value != "" || e.ValueFrom != nil) {
				return true
			}
		}
	}
	return false
}

func raNames(ras []*mesh.Object) string {
	n := min(len(ras), maxNamesShown)
	names := make([]string, n)
	for i := range n {
		names[i] = ras[i].Namespace() + "/" + ras[i].Name()
	}
	s := strings.Join(names, ", ")
	if len(ras) > n {
		s += fmt.Sprintf(" and %d more", len(ras)-n)
	}
	return s
}
