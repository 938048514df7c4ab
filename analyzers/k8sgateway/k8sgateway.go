// Package k8sgateway checks what Istio needs of Kubernetes Gateway API
// deployments: policies attached to gateway pods the supported way, and
// Gateway API CRDs recent enough for Istio to watch.
package k8sgateway

import (
	"fmt"
	"strconv"
	"strings"

	typev1beta1 "istio.io/api/type/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Selector, CRDVersion}

// gatewayNameLabel is set by Istio on the pods of the gateways it deploys
// for Gateway API Gateways.
const gatewayNameLabel = "gateway.networking.k8s.io/gateway-name"

// Selector reports policies that select Gateway API gateway pods by label.
var Selector = &analysis.Analyzer{
	Name: "k8sgateway.Selector",
	Doc: "report policies selecting Gateway API gateway pods by label\n\n" +
		"An AuthorizationPolicy, RequestAuthentication, Telemetry or WasmPlugin whose workload selector matches " +
		"the pods of a Gateway API gateway (labelled " + gatewayNameLabel + ") does not apply to them; such " +
		"policies attach to the Gateway with targetRefs.",
	Codes: []*analysis.Code{codes.IneffectiveSelector},
	Run:   runSelector,
}

// selectable is what the policy kinds have in common.
type selectable interface {
	GetSelector() *typev1beta1.WorkloadSelector
	GetTargetRef() *typev1beta1.PolicyTargetReference
	GetTargetRefs() []*typev1beta1.PolicyTargetReference
}

var policyKinds = []mesh.GroupKind{mesh.AuthorizationPolicy, mesh.RequestAuthentication, mesh.Telemetry, mesh.WasmPlugin}

func runSelector(p *analysis.Pass) (any, error) {
	gateways := map[string][]*mesh.Workload{}
	for _, w := range p.Snapshot.Workloads() {
		if _, ok := w.Labels[gatewayNameLabel]; ok {
			gateways[w.Namespace] = append(gateways[w.Namespace], w)
		}
	}
	if len(gateways) == 0 {
		return nil, nil
	}
	for _, gk := range policyKinds {
		for _, o := range p.Snapshot.List(gk) {
			pol, ok := o.Obj.(selectable)
			if !ok || pol.GetSelector() == nil || pol.GetTargetRef() != nil || len(pol.GetTargetRefs()) > 0 {
				continue
			}
			for _, w := range gateways[o.Namespace()] {
				if mesh.MatchLabels(pol.GetSelector().GetMatchLabels(), w.Labels) {
					p.Reportf(codes.IneffectiveSelector, o,
						"selector matches pods of Gateway API gateway %q, where selectors have no effect; attach with targetRefs to the Gateway instead",
						w.Labels[gatewayNameLabel])
				}
			}
		}
	}
	return nil, nil
}

// CRDVersion reports Gateway API CRDs older than Istio accepts.
var CRDVersion = &analysis.Analyzer{
	Name: "k8sgateway.CRDVersion",
	Doc: "report Gateway API CRDs below the bundle version Istio requires\n\n" +
		"Istio ignores a Gateway API CustomResourceDefinition whose " + bundleVersionAnnotation + " annotation " +
		"is older than the version it needs, and with it every resource of that kind.",
	Codes: []*analysis.Code{codes.GatewayAPICRDVersionBelowMinimum},
	Run:   runCRDVersion,
}

const bundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"

// minimumBundle is the oldest Gateway API bundle Istio watches, by CRD.
var minimumBundle = map[string]version{
	"grpcroutes.gateway.networking.k8s.io":         {1, 1, 0},
	"backendtlspolicies.gateway.networking.k8s.io": {1, 4, 0},
	"tlsroutes.gateway.networking.k8s.io":          {1, 5, 0},
}

func runCRDVersion(p *analysis.Pass) (any, error) {
	for _, o := range p.Snapshot.List(mesh.CustomResourceDefinition) {
		min, ok := minimumBundle[o.Name()]
		if !ok {
			continue
		}
		raw, ok := o.Annotations()[bundleVersionAnnotation]
		if !ok {
			continue
		}
		v, err := parseVersion(raw)
		if err != nil {
			continue
		}
		if v.less(min) {
			p.Reportf(codes.GatewayAPICRDVersionBelowMinimum, o,
				"CRD %s is from Gateway API bundle %s but Istio needs %s or later; until it is upgraded Istio ignores every %s",
				o.Name(), strings.TrimSpace(raw), min, kindOf(o.Name()))
		}
	}
	return nil, nil
}

func kindOf(crdName string) string {
	plural, _, _ := strings.Cut(crdName, ".")
	return plural
}

// version is a release number; pre-release and build suffixes are
// dropped, so 1.5.0-rc.1 counts as 1.5.0.
type version [3]uint64

func (v version) String() string { return fmt.Sprintf("v%d.%d.%d", v[0], v[1], v[2]) }

func (v version) less(w version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// parseVersion reads "v1.4.1", "1.4" or "1.5.0-rc.1+build".
func parseVersion(s string) (version, error) {
	var v version
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 || s == "" {
		return v, fmt.Errorf("bad version %q", s)
	}
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return v, fmt.Errorf("bad version %q: %w", s, err)
		}
		v[i] = n
	}
	return v, nil
}
