// Package analyzers gathers every check meshpilot runs.
package analyzers

import (
	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/ambient"
	"github.com/meshpilot/meshpilot/analyzers/annotations"
	"github.com/meshpilot/meshpilot/analyzers/applicationuid"
	"github.com/meshpilot/meshpilot/analyzers/auth"
	"github.com/meshpilot/meshpilot/analyzers/authn"
	"github.com/meshpilot/meshpilot/analyzers/conditions"
	"github.com/meshpilot/meshpilot/analyzers/deployment"
	"github.com/meshpilot/meshpilot/analyzers/deprecation"
	"github.com/meshpilot/meshpilot/analyzers/destinationrule"
	"github.com/meshpilot/meshpilot/analyzers/envoyfilter"
	"github.com/meshpilot/meshpilot/analyzers/externalcontrolplane"
	"github.com/meshpilot/meshpilot/analyzers/gateway"
	"github.com/meshpilot/meshpilot/analyzers/gatewayapi"
	"github.com/meshpilot/meshpilot/analyzers/inference"
	"github.com/meshpilot/meshpilot/analyzers/injection"
	"github.com/meshpilot/meshpilot/analyzers/k8sgateway"
	"github.com/meshpilot/meshpilot/analyzers/kiali"
	"github.com/meshpilot/meshpilot/analyzers/meshnetworks"
	"github.com/meshpilot/meshpilot/analyzers/multicluster"
	"github.com/meshpilot/meshpilot/analyzers/resilience"
	"github.com/meshpilot/meshpilot/analyzers/routerules"
	"github.com/meshpilot/meshpilot/analyzers/schema"
	"github.com/meshpilot/meshpilot/analyzers/security"
	"github.com/meshpilot/meshpilot/analyzers/service"
	"github.com/meshpilot/meshpilot/analyzers/serviceentry"
	"github.com/meshpilot/meshpilot/analyzers/sidecar"
	"github.com/meshpilot/meshpilot/analyzers/telemetry"
	"github.com/meshpilot/meshpilot/analyzers/traffic"
	"github.com/meshpilot/meshpilot/analyzers/virtualservice"
	"github.com/meshpilot/meshpilot/analyzers/webhook"
)

// All returns every analyzer, in a stable order.
func All() []*analysis.Analyzer {
	var out []*analysis.Analyzer
	for _, family := range [][]*analysis.Analyzer{
		schema.Analyzers,
		auth.Analyzers,
		authn.Analyzers,
		envoyfilter.Analyzers,
		meshnetworks.Analyzers,
		multicluster.Analyzers,
		serviceentry.Analyzers,
		sidecar.Analyzers,
		injection.Analyzers,
		webhook.Analyzers,
		service.Analyzers,
		externalcontrolplane.Analyzers,
		deployment.Analyzers,
		applicationuid.Analyzers,
		annotations.Analyzers,
		deprecation.Analyzers,
		routerules.Analyzers,
		telemetry.Analyzers,
		k8sgateway.Analyzers,
		conditions.Analyzers,
		virtualservice.Analyzers,
		gateway.Analyzers,
		destinationrule.Analyzers,
		security.Analyzers,
		ambient.Analyzers,
		gatewayapi.Analyzers,
		inference.Analyzers,
		kiali.Analyzers,
		resilience.Analyzers,
		traffic.Analyzers,
	} {
		out = append(out, family...)
	}
	return out
}

// CrossCluster returns the analyzers that need objects of several clusters
// in one snapshot; over one cluster they find nothing.
func CrossCluster() []*analysis.Analyzer {
	return multicluster.Analyzers
}
