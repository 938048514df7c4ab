package gateway

import (
	"fmt"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Certificate reports Gateways that serve the same certificate as another
// Gateway on the same workloads.
var Certificate = &analysis.Analyzer{
	Name: "gateway.Certificate",
	Doc: "report gateways serving the same certificate as another gateway on their workloads\n\n" +
		"When two Gateways configure the same proxies (this one's selector is empty or a subset of the other's) " +
		"with the same credentialName, or the same serverCertificate and privateKey files, clients reusing an " +
		"HTTP/2 connection may be routed to the wrong server and receive 404s.",
	Codes: []*analysis.Code{codes.GatewayDuplicateCertificate},
	Run:   runCertificate,
}

// tlsUser is one TLS server of a gateway.
type tlsUser struct {
	key      mesh.Key
	name     string
	selector map[string]string
}

func runCertificate(p *analysis.Pass) (any, error) {
	byCert := map[string][]tlsUser{}
	for _, o := range p.Snapshot.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		for _, srv := range gw.GetServers() {
			if id, _ := certificateID(srv.GetTls()); id != "" {
				byCert[id] = append(byCert[id], tlsUser{key: o.Key(), name: fullName(o), selector: gw.GetSelector()})
			}
		}
	}
	for _, o := range p.Snapshot.List(mesh.Gateway) {
		gw, ok := o.Obj.(*networking.Gateway)
		if !ok {
			continue
		}
		for i, srv := range gw.GetServers() {
			id, what := certificateID(srv.GetTls())
			if id == "" {
				continue
			}
			for _, other := range byCert[id] {
				if other.key == o.Key() || !mesh.MatchLabels(gw.GetSelector(), other.selector) {
					continue
				}
				p.Reportf(codes.GatewayDuplicateCertificate, o,
					"server %d serves %s, as does gateway %s on the same workloads (%s)",
					i, what, other.name, describeSelector(gw.GetSelector()))
			}
		}
	}
	return nil, nil
}

// certificateID identifies the certificate a server presents, with a
// description; "" when it names none that can be compared.
func certificateID(tls *networking.ServerTLSSettings) (id, what string) {
	switch {
	case tls == nil:
		return "", ""
	case tls.GetCredentialName() != "":
		return "credential\x00" + tls.GetCredentialName(), fmt.Sprintf("credentialName %q", tls.GetCredentialName())
	case tls.GetServerCertificate() != "" && tls.GetPrivateKey() != "":
		return "files\x00" + tls.GetServerCertificate() + "\x00" + tls.GetPrivateKey(),
			fmt.Sprintf("certificate %s with key %s", tls.GetServerCertificate(), tls.GetPrivateKey())
	}
	return "", ""
}
