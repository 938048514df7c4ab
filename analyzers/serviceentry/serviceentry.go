// Package serviceentry checks ServiceEntries: TCP ports that need an
// address, and hosts whose ports are declared with conflicting protocols.
package serviceentry

import (
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Addresses, ConflictingProtocols}

// Addresses checks that ServiceEntries with TCP ports have addresses.
var Addresses = &analysis.Analyzer{
	Name: "serviceentry.Addresses",
	Doc: "report ServiceEntries with TCP ports but no address\n\n" +
		"Traffic on a TCP port (or one without protocol) is told apart by destination address only. A " +
		"ServiceEntry with such ports needs spec.addresses, an address Istio allocated (status.addresses), " +
		"or DNS capture with auto-allocation enabled in the mesh config's proxyMetadata " +
		"(ISTIO_META_DNS_CAPTURE with ISTIO_META_DNS_AUTO_ALLOCATE or PILOT_ENABLE_IP_AUTOALLOCATE).",
	Codes: []*analysis.Code{codes.ServiceEntryAddressesRequired},
	Run:   runAddresses,
}

func runAddresses(p *analysis.Pass) (any, error) {
	entries := p.Snapshot.List(mesh.ServiceEntry)
	if len(entries) == 0 || autoAllocates(p.Snapshot) {
		return nil, nil
	}
	for _, o := range entries {
		se, ok := o.Obj.(*networking.ServiceEntry)
		if !ok || len(se.GetAddresses()) > 0 || len(o.StatusAddresses) > 0 {
			continue
		}
		var ports []string
		for _, port := range se.GetPorts() {
			if proto := port.GetProtocol(); proto == "" || strings.EqualFold(proto, "TCP") {
				ports = append(ports, describePort(port))
			}
		}
		if len(ports) == 0 {
			continue
		}
		p.Reportf(codes.ServiceEntryAddressesRequired, o,
			"port %s serves TCP (or has no protocol) but the ServiceEntry has no addresses and none is "+
				"allocated: set spec.addresses, or enable DNS capture with address auto-allocation",
			strings.Join(ports, ", "))
	}
	return nil, nil
}

// autoAllocates reports whether the mesh's default proxy config captures
// DNS and allocates addresses for ServiceEntries.
func autoAllocates(snap *mesh.Snapshot) bool {
	md := snap.MeshConfig.GetDefaultConfig().GetProxyMetadata()
	if md["ISTIO_META_DNS_CAPTURE"] != "true" {
		return false
	}
	return md["ISTIO_META_DNS_AUTO_ALLOCATE"] == "true" || md["PILOT_ENABLE_IP_AUTOALLOCATE"] == "true"
}

func describePort(port *networking.ServicePort) string {
	s := strconv.FormatUint(uint64(port.GetNumber()), 10)
	if port.GetName() != "" {
		s += " (" + port.GetName() + ")"
	}
	return s
}
