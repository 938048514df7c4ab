// Package telemetry checks Telemetry resources: the providers they name,
// the workloads their selectors pick, and conflicts between them.
package telemetry

import (
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	telemetryapi "istio.io/api/telemetry/v1alpha1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Providers, Selectors, DefaultSelectors, Lightstep}

// Providers reports access logging that names no provider when the mesh
// has no default one.
var Providers = &analysis.Analyzer{
	Name: "telemetry.Providers",
	Doc: "report access logging without a provider when the mesh has no default\n\n" +
		"An accessLogging entry that is not disabled and lists no provider falls back to the mesh's default " +
		"access log providers; when meshConfig.defaultProviders.accessLogging is empty it configures nothing.",
	Codes: []*analysis.Code{codes.InvalidTelemetryProvider},
	Run:   runProviders,
}

func runProviders(p *analysis.Pass) (any, error) {
	if len(p.Snapshot.MeshConfig.GetDefaultProviders().GetAccessLogging()) > 0 {
		return nil, nil
	}
	for _, o := range p.Snapshot.List(mesh.Telemetry) {
		t, _ := o.Obj.(*telemetryapi.Telemetry)
		for i, l := range t.GetAccessLogging() {
			if l.GetDisabled().GetValue() || len(l.GetProviders()) > 0 {
				continue
			}
			p.Reportf(codes.InvalidTelemetryProvider, o,
				"accessLogging[%d] names no provider and the mesh config sets no defaultProviders.accessLogging, so it logs nothing; name a provider", i)
		}
	}
	return nil, nil
}

// Lightstep reports tracing through a Lightstep extension provider.
var Lightstep = &analysis.Analyzer{
	Name: "telemetry.Lightstep",
	Doc: "report tracing through the deprecated Lightstep provider\n\n" +
		"Lightstep extension providers of the mesh config are deprecated in favour of OpenTelemetry; each " +
		"Telemetry tracing provider that names one is reported.",
	Codes: []*analysis.Code{codes.Deprecated},
	Run:   runLightstep,
}

func runLightstep(p *analysis.Pass) (any, error) {
	lightstep := map[string]bool{}
	for _, ep := range p.Snapshot.MeshConfig.GetExtensionProviders() {
		if _, ok := ep.GetProvider().(*meshconfig.MeshConfig_ExtensionProvider_Lightstep); ok {
			lightstep[ep.GetName()] = true
		}
	}
	if len(lightstep) == 0 {
		return nil, nil
	}
	for _, o := range p.Snapshot.List(mesh.Telemetry) {
		t, _ := o.Obj.(*telemetryapi.Telemetry)
		for _, tr := range t.GetTracing() {
			for _, prov := range tr.GetProviders() {
				if lightstep[prov.GetName()] {
					p.Reportf(codes.Deprecated, o,
						"tracing provider %q is a Lightstep provider, which is deprecated; trace through an OpenTelemetry provider instead", prov.GetName())
				}
			}
		}
	}
	return nil, nil
}

// DefaultSelectors reports namespaces with several selector-less
// Telemetry resources.
var DefaultSelectors = &analysis.Analyzer{
	Name: "telemetry.DefaultSelectors",
	Doc: "report namespaces with more than one Telemetry without selector\n\n" +
		"A Telemetry without workload selector applies to the whole namespace (the whole mesh in the root " +
		"namespace); with two of them, which one applies is undefined.",
	Codes: []*analysis.Code{codes.MultipleTelemetriesWithoutWorkloadSelectors},
	Run:   runDefaultSelectors,
}

func runDefaultSelectors(p *analysis.Pass) (any, error) {
	byNS := map[string][]*mesh.Object{}
	var order []string
	for _, o := range p.Snapshot.List(mesh.Telemetry) {
		t, _ := o.Obj.(*telemetryapi.Telemetry)
		if t.GetSelector() != nil {
			continue
		}
		ns := o.Namespace()
		if byNS[ns] == nil {
			order = append(order, ns)
		}
		byNS[ns] = append(byNS[ns], o)
	}
	for _, ns := range order {
		list := byNS[ns]
		if len(list) < 2 {
			continue
		}
		for _, o := range list {
			p.Reportf(codes.MultipleTelemetriesWithoutWorkloadSelectors, o,
				"namespace %s has %d Telemetry resources without selector (%s); keep one and give the others a selector",
				ns, len(list), names(list))
		}
	}
	return nil, nil
}

// Selectors reports Telemetry selectors that match no workload, and
// workloads that several Telemetry selectors match.
var Selectors = &analysis.Analyzer{
	Name: "telemetry.Selectors",
	Doc: "report Telemetry selectors matching no workload or overlapping another\n\n" +
		"A Telemetry whose selector.matchLabels match no workload of its namespace applies to nothing; a workload " +
		"selected by two Telemetry resources gets one of them, undefined which.",
	Codes: []*analysis.Code{codes.ReferencedResourceNotFound, codes.ConflictingTelemetryWorkloadSelectors},
	Run:   runSelectors,
}

func runSelectors(p *analysis.Pass) (any, error) {
	selectedBy := map[*mesh.Workload][]*mesh.Object{}
	var order []*mesh.Workload
	for _, o := range p.Snapshot.List(mesh.Telemetry) {
		t, _ := o.Obj.(*telemetryapi.Telemetry)
		labels := t.GetSelector().GetMatchLabels()
		if len(labels) == 0 {
			continue
		}
		wls := p.Snapshot.SelectWorkloads(o.Namespace(), labels)
		if len(wls) == 0 {
			p.Reportf(codes.ReferencedResourceNotFound, o,
				"selector %s matches no workload in namespace %s", mesh.FormatLabels(labels), o.Namespace())
			continue
		}
		for _, w := range wls {
			if selectedBy[w] == nil {
				order = append(order, w)
			}
			selectedBy[w] = append(selectedBy[w], o)
		}
	}
	for _, w := range order {
		list := selectedBy[w]
		if len(list) < 2 {
			continue
		}
		for _, o := range list {
			p.Reportf(codes.ConflictingTelemetryWorkloadSelectors, o,
				"%s %s/%s is selected by %d Telemetry resources (%s); only one applies",
				w.Object.Kind, w.Namespace, w.Object.Name(), len(list), names(list))
		}
	}
	return nil, nil
}

func names(list []*mesh.Object) string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.Name()
	}
	return strings.Join(out, ", ")
}
