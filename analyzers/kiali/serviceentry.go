package kiali

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// ServiceEntry reports ServiceEntries that declare the same host and port.
var ServiceEntry = &analysis.Analyzer{
	Name: "kiali.ServiceEntry",
	Doc: "report ServiceEntries that declare the same host and port with the same protocol\n\n" +
		"Two ServiceEntries visible together (both exported everywhere, or in one namespace) that declare " +
		"one host and port overlap. Declarations with different protocols are IST0177's business.",
	Codes: []*analysis.Code{codes.DuplicateServiceEntryHostPort},
	Run:   runServiceEntry,
}

type seKey struct {
	cluster, scope, host string
	port                 uint32
}

type seDecl struct {
	obj      *mesh.Object
	protocol string
}

func runServiceEntry(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	index := map[seKey][]seDecl{}
	var keys []seKey
	for _, o := range snap.List(mesh.ServiceEntry) {
		se, ok := o.Obj.(*networking.ServiceEntry)
		if !ok || se == nil {
			continue
		}
		scope := o.Namespace()
		if exportedEverywhere(se.GetExportTo()) {
			scope = "*"
		}
		for _, h := range se.GetHosts() {
			for _, port := range se.GetPorts() {
				k := seKey{o.Source.Cluster, scope, snap.FQDN(h, o.Namespace()), port.GetNumber()}
				l := index[k]
				if len(l) > 0 && l[len(l)-1].obj == o {
					continue
				}
				if len(l) == 0 {
					keys = append(keys, k)
				}
				index[k] = append(l, seDecl{o, strings.ToUpper(port.GetProtocol())})
			}
		}
	}
	reported := map[*mesh.Object]bool{}
	for _, k := range keys {
		l := index[k]
		if len(l) < 2 || !sameProtocol(l) {
			continue
		}
		objs := make([]*mesh.Object, len(l))
		for i, d := range l {
			objs[i] = d.obj
		}
		for _, o := range objs {
			if reported[o] {
				continue
			}
			reported[o] = true
			p.Reportf(codes.DuplicateServiceEntryHostPort, o,
				"host %s port %d is also declared by ServiceEntry %s", k.host, k.port, others(objs, o))
		}
	}
	return nil, nil
}

func sameProtocol(l []seDecl) bool {
	for _, d := range l[1:] {
		if d.protocol != l[0].protocol {
			return false
		}
	}
	return true
}
