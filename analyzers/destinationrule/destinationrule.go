// Package destinationrule checks DestinationRules: the TLS they originate
// and whether their hosts and subsets match anything.
package destinationrule

import (
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{CaCertificate, SubsetSelectPod}

// CaCertificate reports TLS origination that does not verify the server.
var CaCertificate = &analysis.Analyzer{
	Name: "destinationrule.CaCertificate",
	Doc: "report TLS origination without caCertificates\n\n" +
		"A DestinationRule whose traffic policy, or a port level setting of it, originates SIMPLE or MUTUAL TLS " +
		"without caCertificates does not verify the certificate the server presents. A credentialName is " +
		"accepted instead only when the rule has a workloadSelector (it then applies to gateways, which read " +
		"the CA from the credential).",
	Codes: []*analysis.Code{codes.NoServerCertificateVerificationDestinationLevel, codes.NoServerCertificateVerificationPortLevel},
	Run:   runCaCertificate,
}

func runCaCertificate(p *analysis.Pass) (any, error) {
	for _, o := range p.Snapshot.List(mesh.DestinationRule) {
		dr, ok := o.Obj.(*networking.DestinationRule)
		if !ok {
			continue
		}
		selected := dr.GetWorkloadSelector() != nil
		tp := dr.GetTrafficPolicy()
		if unverified(tp.GetTls(), selected) {
			p.Reportf(codes.NoServerCertificateVerificationDestinationLevel, o,
				"traffic to %s originates %s TLS without caCertificates: the server's certificate is not verified",
				dr.GetHost(), tp.GetTls().GetMode())
		}
		for _, pl := range tp.GetPortLevelSettings() {
			if unverified(pl.GetTls(), selected) {
				p.Reportf(codes.NoServerCertificateVerificationPortLevel, o,
					"traffic to %s port %d originates %s TLS without caCertificates: the server's certificate is not verified",
					dr.GetHost(), pl.GetPort().GetNumber(), pl.GetTls().GetMode())
			}
		}
	}
	return nil, nil
}

// unverified reports whether tls originates TLS with nothing to verify the
// server against.
func unverified(tls *networking.ClientTLSSettings, selected bool) bool {
	switch tls.GetMode() {
	case networking.ClientTLSSettings_SIMPLE, networking.ClientTLSSettings_MUTUAL:
	default:
		return false
	}
	if tls.GetCaCertificates() != "" {
		return false
	}
	return !(tls.GetCredentialName() != "" && selected)
}
