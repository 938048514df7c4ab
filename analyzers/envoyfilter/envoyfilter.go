// Package envoyfilter checks the patch operations of EnvoyFilters.
package envoyfilter

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Patches}

// Patches checks each EnvoyFilter patch's operation against what it
// applies to, and relative operations against ordering.
var Patches = &analysis.Analyzer{
	Name: "envoyfilter.Patches",
	Doc: "report EnvoyFilter patches whose operation is ignored or depends on an unset order\n\n" +
		"ADD and REMOVE are ignored on ROUTE_CONFIGURATION and HTTP_ROUTE; REPLACE only works on " +
		"HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST. Relative operations (INSERT_BEFORE, INSERT_AFTER, " +
		"REPLACE, REMOVE) depend on what other EnvoyFilters did first, so the filter needs a priority; " +
		"more so when an earlier patch of the same name only applies to some proxy versions.",
	Codes: []*analysis.Code{codes.EnvoyFilterUsesRelativeOperation, codes.EnvoyFilterUsesReplaceOperationIncorrectly,
		codes.EnvoyFilterUsesAddOperationIncorrectly, codes.EnvoyFilterUsesRemoveOperationIncorrectly,
		codes.EnvoyFilterUsesRelativeOperationWithProxyVersion},
	Run: run,
}

// issues gathers one filter's findings by code, keeping each code's
// patch indexes, so a code is reported once per filter.
type issues struct {
	order   []*analysis.Code
	patches map[*analysis.Code][]string
}

func (is *issues) add(c *analysis.Code, index int, op networking.EnvoyFilter_Patch_Operation, applyTo networking.EnvoyFilter_ApplyTo) {
	if is.patches[c] == nil {
		is.order = append(is.order, c)
	}
	is.patches[c] = append(is.patches[c], fmt.Sprintf("configPatches[%d] (%s on %s)", index, op, applyTo))
}

func run(p *analysis.Pass) (any, error) {
	// Names patched by earlier patches restricted to some proxy versions,
	// in load order across filters.
	versioned := map[string]bool{}
	for _, o := range p.Snapshot.List(mesh.EnvoyFilter) {
		ef, ok := o.Obj.(*networking.EnvoyFilter)
		if !ok {
			continue
		}
		is := &issues{patches: map[*analysis.Code][]string{}}
		for i, cp := range ef.GetConfigPatches() {
			checkPatch(is, i, cp, ef.GetPriority(), versioned)
			if cp.GetPatch() != nil && cp.GetMatch().GetProxy().GetProxyVersion() != "" {
				versioned[patchedName(cp)] = true
			}
		}
		for _, c := range is.order {
			p.Reportf(c, o, "%s: %s", strings.Join(is.patches[c], ", "), explain(c))
		}
	}
	return nil, nil
}

func checkPatch(is *issues, i int, cp *networking.EnvoyFilter_EnvoyConfigObjectPatch, priority int32, versioned map[string]bool) {
	patch := cp.GetPatch()
	if patch == nil {
		return
	}
	op, applyTo := patch.GetOperation(), cp.GetApplyTo()
	routeLevel := applyTo == networking.EnvoyFilter_ROUTE_CONFIGURATION || applyTo == networking.EnvoyFilter_HTTP_ROUTE
	relative := false
	switch op {
	case networking.EnvoyFilter_Patch_ADD:
		if routeLevel {
			is.add(codes.EnvoyFilterUsesAddOperationIncorrectly, i, op, applyTo)
		}
	case networking.EnvoyFilter_Patch_REMOVE:
		if routeLevel {
			is.add(codes.EnvoyFilterUsesRemoveOperationIncorrectly, i, op, applyTo)
		} else {
			relative = true
		}
	case networking.EnvoyFilter_Patch_REPLACE:
		switch applyTo {
		case networking.EnvoyFilter_HTTP_FILTER, networking.EnvoyFilter_NETWORK_FILTER, networking.EnvoyFilter_VIRTUAL_HOST:
			relative = true
		default:
			is.add(codes.EnvoyFilterUsesReplaceOperationIncorrectly, i, op, applyTo)
		}
	case networking.EnvoyFilter_Patch_INSERT_BEFORE, networking.EnvoyFilter_Patch_INSERT_AFTER:
		relative = true
	}
	if !relative || priority != 0 {
		return
	}
	if versioned[patchedName(cp)] {
		is.add(codes.EnvoyFilterUsesRelativeOperationWithProxyVersion, i, op, applyTo)
	} else {
		is.add(codes.EnvoyFilterUsesRelativeOperation, i, op, applyTo)
	}
}

// patchedName is the name a patch is about: its value's name, else the
// filter its listener match names; "" when neither is given.
func patchedName(cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) string {
	fields := cp.GetPatch().GetValue().GetFields()
	if fields == nil {
		return ""
	}
	if v, ok := fields["name"]; ok {
		return valueString(v)
	}
	return cp.GetMatch().GetListener().GetFilterChain().GetFilter().GetName()
}

func valueString(v *structpb.Value) string {
	if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
		return s.StringValue
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

func explain(c *analysis.Code) string {
	switch c {
	case codes.EnvoyFilterUsesAddOperationIncorrectly:
		return "ADD is ignored when applied to ROUTE_CONFIGURATION or HTTP_ROUTE"
	case codes.EnvoyFilterUsesRemoveOperationIncorrectly:
		return "REMOVE is ignored when applied to ROUTE_CONFIGURATION or HTTP_ROUTE"
	case codes.EnvoyFilterUsesReplaceOperationIncorrectly:
		return "REPLACE only applies to HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST and is ignored here"
	case codes.EnvoyFilterUsesRelativeOperationWithProxyVersion:
		return "relative operation without a priority on a name an earlier patch only applies to some proxy " +
			"versions (match.proxy.proxyVersion): the result depends on the proxy version and filter order; set spec.priority"
	default:
		return "relative operation without a priority: the result depends on the order EnvoyFilters are applied in; set spec.priority"
	}
}
