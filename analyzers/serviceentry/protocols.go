package serviceentry

import (
	"fmt"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// ConflictingProtocols checks that ServiceEntries visible together agree
// on each host and port's protocol.
var ConflictingProtocols = &analysis.Analyzer{
	Name: "serviceentry.ConflictingProtocols",
	Doc: "report ServiceEntries declaring one host and port with different protocols\n\n" +
		"When ServiceEntries visible in the same namespace (by exportTo) declare the same host and port " +
		"with different protocols, the proxy keeps only one of them and traffic of the other protocol breaks.",
	Codes: []*analysis.Code{codes.ConflictingServiceEntryProtocol},
	Run:   runProtocols,
}

// allScope is the scope of entries exported to every namespace.
const allScope = "*"

type hostPort struct {
	scope string
	host  string
	port  uint32
}

type declaration struct {
	protocol string // upper-cased
	entry    *mesh.Object
}

func runProtocols(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	index := map[hostPort][]declaration{}
	var keys []hostPort
	for _, o := range snap.List(mesh.ServiceEntry) {
		se, ok := o.Obj.(*networking.ServiceEntry)
		if !ok {
			continue
		}
		for _, scope := range scopes(snap, se.GetExportTo(), o.Namespace()) {
			for _, h := range se.GetHosts() {
				host := snap.FQDN(h, o.Namespace())
				for _, port := range se.GetPorts() {
					k := hostPort{scope: scope, host: host, port: port.GetNumber()}
					if _, seen := index[k]; !seen {
						keys = append(keys, k)
					}
					index[k] = append(index[k], declaration{strings.ToUpper(port.GetProtocol()), o})
				}
			}
		}
	}
	reported := map[*mesh.Object]bool{}
	for _, k := range keys {
		decls := index[k]
		if k.scope != allScope {
			decls = append(decls[:len(decls):len(decls)], index[hostPort{allScope, k.host, k.port}]...)
		}
		protocols := distinctProtocols(decls)
		if len(protocols) < 2 {
			continue
		}
		entries := distinctEntries(decls)
		for _, d := range decls {
			if reported[d.entry] {
				continue
			}
			reported[d.entry] = true
			finding := analysis.NewFinding(codes.ConflictingServiceEntryProtocol, d.entry, fmt.Sprintf("host %s port %d is declared with protocols %s by ServiceEntries %s%s: only one protocol takes effect",
				k.host, k.port, strings.Join(protocols, ", "), strings.Join(entries, ", "), scopeNote(k.scope)))
			finding.Equivalents = []string{"KIA1212"}
			p.Report(finding)
		}
	}
	return nil, nil
}

// scopes lists the namespaces a ServiceEntry is visible in, allScope
// standing for all of them. Without exportTo the mesh default applies.
func scopes(snap *mesh.Snapshot, exportTo []string, owner string) []string {
	if len(exportTo) == 0 {
		exportTo = snap.MeshConfig.GetDefaultServiceExportTo()
	}
	if len(exportTo) == 0 {
		return []string{allScope}
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range exportTo {
		switch e {
		case allScope:
			return []string{allScope}
		case "~":
			continue
		case ".":
			e = owner
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

func distinctProtocols(decls []declaration) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range decls {
		if !seen[d.protocol] {
			seen[d.protocol] = true
			out = append(out, d.protocol)
		}
	}
	sort.Strings(out)
	for i, p := range out {
		if p == "" {
			out[i] = "(none)"
		}
	}
	return out
}

func distinctEntries(decls []declaration) []string {
	seen := map[*mesh.Object]bool{}
	var out []string
	for _, d := range decls {
		if !seen[d.entry] {
			seen[d.entry] = true
			out = append(out, d.entry.Namespace()+"/"+d.entry.Name())
		}
	}
	sort.Strings(out)
	return out
}

func scopeNote(scope string) string {
	if scope == allScope {
		return ""
	}
	return fmt.Sprintf(" (visible together in namespace %s)", scope)
}
