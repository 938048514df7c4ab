// Package gatewayapi checks Kubernetes Gateway API resources on their own
// terms: routes whose parents or backends do not resolve or are not granted,
// Gateways whose listeners or addresses conflict or whose class is missing,
// and ReferenceGrants naming unknown namespaces.
package gatewayapi

import (
	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Routes, Gateways, ReferenceGrants}

// builtinClasses are the GatewayClasses istiod creates itself, so a folder
// of configuration rarely holds them.
var builtinClasses = map[string]bool{"istio": true, "istio-waypoint": true, "istio-remote": true, "istio-east-west": true}

func orDefault[T ~string](p *T, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return string(*p)
}

// knownNamespaces is every namespace with a Namespace object or an object.
func knownNamespaces(snap *mesh.Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, ns := range snap.Namespaces() {
		out[ns] = true
	}
	return out
}
