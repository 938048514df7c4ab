// Package security checks the mesh's security configuration against
// Istio's own semantics: AuthorizationPolicies that allow more or deny
// less than they seem to, mutual TLS that is not enforced, JWT validation
// that is not required, ingress hosts, traffic that bypasses the proxy,
// and control-plane versions with known authorization bypasses.
package security

import "github.com/meshpilot/meshpilot/analysis"

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{AuthorizationPolicies, PeerAuthentications, RequestAuthentications, Gateways, Capture, Version}
