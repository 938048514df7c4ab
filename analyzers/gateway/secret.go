package gateway

import (
	"fmt"
	"strings"
	"time"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Secret reports TLS servers whose credentialName names a missing or
// unusable Secret.
var Secret = &analysis.Analyzer{
	Name: "gateway.Secret",
	Doc: "report gateway credentials that are missing or cannot be served\n\n" +
		"A server's tls.credentialName names a Secret in the namespace of the gateway's workload (not of the " +
		"Gateway), or \"namespace/name\". The Secret must exist and hold a certificate and its private key, " +
		"as cert and key or tls.crt and tls.key; the certificate must be valid PEM and within its validity period. " +
		"Gateways that select no workload are reported by gateway.Selector, which this analyzer requires.",
	Codes:    []*analysis.Code{codes.ReferencedResourceNotFound, codes.InvalidGatewayCredential},
	Requires: []*analysis.Analyzer{Selector},
	Run:      runSecret,
}

func runSecret(p *analysis.Pass) (any, error) {
	sel, ok := p.ResultOf[Selector].(*selection)
	if !ok {
		return nil, nil
	}
	now := time.Now()
	for _, o := range p.Snapshot.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		ns := sel.namespace(gw)
		if ns == "" {
			continue // gateway.Selector reports it
		}
		for i, srv := range gw.GetServers() {
			cn := srv.GetTls().GetCredentialName()
			if cn == "" {
				continue
			}
			secNS, secName := ns, cn
			if before, after, found := strings.Cut(cn, "/"); found {
				secNS, secName = before, after
			}
			secret := p.Snapshot.Get(mesh.Secret, secNS, secName)
			if secret == nil {
				p.Reportf(codes.ReferencedResourceNotFound, o,
					"server %d: credentialName %q names Secret %s/%s, which does not exist (the gateway's workload runs in namespace %s)",
					i, cn, secNS, secName, ns)
				continue
			}
			info, _ := secret.Obj.(*mesh.SecretInfo)
			if problem := credentialProblem(info, now); problem != "" {
				p.Reportf(codes.InvalidGatewayCredential, o, "server %d: Secret %s/%s cannot be served: %s", i, secNS, secName, problem)
			}
		}
	}
	return nil, nil
}

// credentialProblem says why Istio could not serve a Secret as a gateway
// credential, or "" when it could.
func credentialProblem(info *mesh.SecretInfo, now time.Time) string {
	if info == nil {
		return "its content could not be read"
	}
	if info.MetadataOnly {
		return "" // read from a live cluster as metadata only: its content is not ours to judge
	}
	c := info.Cert
	if c == nil || !c.Paired {
		keys := "none"
		if len(info.Keys) > 0 {
			keys = strings.Join(info.Keys, ", ")
		}
		return fmt.Sprintf("it holds no non-empty cert and key, nor tls.crt and tls.key (keys: %s)", keys)
	}
	if c.ParseErr != "" {
		return fmt.Sprintf("%s is not a PEM certificate: %s", c.Key, c.ParseErr)
	}
	if t := now.Unix(); t > c.NotAfter {
		return fmt.Sprintf("the certificate in %s expired on %s", c.Key, time.Unix(c.NotAfter, 0).UTC().Format(time.RFC3339))
	} else if t < c.NotBefore {
		return fmt.Sprintf("the certificate in %s is not valid before %s", c.Key, time.Unix(c.NotBefore, 0).UTC().Format(time.RFC3339))
	}
	return ""
}
