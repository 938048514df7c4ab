// Package meshnetworks checks the mesh networks configuration of a
// multi-cluster mesh.
package meshnetworks

import (
	"fmt"
	"sort"
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{ServiceRegistries}

// ServiceRegistries checks the registries that mesh networks take their
// endpoints from.
var ServiceRegistries = &analysis.Analyzer{
	Name: "meshnetworks.ServiceRegistries",
	Doc: "report mesh networks whose endpoints come from an unknown service registry\n\n" +
		"An endpoint's fromRegistry must name a registry istiod knows: Kubernetes, External, Mock, or a " +
		"remote cluster declared by a key of a multi-cluster secret (label istio/multiCluster=true). " +
		"Endpoints from any other registry are never found, so the network stays empty.",
	Codes: []*analysis.Code{codes.UnknownMeshNetworksServiceRegistry},
	Run:   run,
}

// builtinRegistries are the registries istiod always has; names are
// case-sensitive.
var builtinRegistries = []string{"Kubernetes", "External", "Mock"}

const multiClusterLabel = "istio/multiCluster"

func run(p *analysis.Pass) (any, error) {
	mn := p.Snapshot.MeshNetworks
	if mn == nil || len(mn.GetNetworks()) == 0 {
		return nil, nil
	}
	known := map[string]bool{}
	for _, r := range builtinRegistries {
		known[r] = true
	}
	for _, o := range p.Snapshot.List(mesh.Secret) {
		if o.Labels()[multiClusterLabel] != "true" {
			continue
		}
		if info, ok := o.Obj.(*mesh.SecretInfo); ok {
			if info.MetadataOnly {
				// Read from a live cluster without its data: the clusters it
				// names are unknown, so no registry can be called missing.
				return nil, nil
			}
			for _, k := range info.Keys {
				known[k] = true
			}
		}
	}
	networks := make([]string, 0, len(mn.GetNetworks()))
	for name := range mn.GetNetworks() {
		networks = append(networks, name)
	}
	sort.Strings(networks)
	resource := fmt.Sprintf("MeshNetworks %s/meshnetworks", p.Snapshot.RootNamespace())
	cm, text := configMap(p.Snapshot)
	for _, name := range networks {
		for i, ep := range mn.GetNetworks()[name].GetEndpoints() {
			reg, ok := ep.GetNe().(*meshconfig.Network_NetworkEndpoints_FromRegistry)
			if !ok || known[reg.FromRegistry] {
				continue
			}
			f := analysis.NewFinding(codes.UnknownMeshNetworksServiceRegistry, nil, fmt.Sprintf(
				"network %s endpoints[%d] takes endpoints from registry %q, which is neither a built-in registry "+
					"(%s, registry names are case-sensitive) nor a cluster of a multi-cluster secret",
				name, i, reg.FromRegistry, joinQuoted(builtinRegistries)))
			f.Resource = resource
			if cm != nil && strings.Contains(text, reg.FromRegistry) {
				// Point at the ConfigMap the networks were most likely read from.
				f.File, f.Line = cm.Source.File, cm.Source.Line
			}
			f.Namespace = p.Snapshot.RootNamespace()
			p.Report(f)
		}
	}
	return nil, nil
}

// configMap returns the root namespace's istio ConfigMap holding mesh
// networks, and their text, when the snapshot has one.
func configMap(snap *mesh.Snapshot) (*mesh.Object, string) {
	o := snap.Get(mesh.ConfigMap, snap.RootNamespace(), "istio")
	if o == nil {
		return nil, ""
	}
	cm, ok := o.Obj.(*corev1.ConfigMap)
	if !ok {
		return nil, ""
	}
	text, ok := cm.Data["meshNetworks"]
	if !ok {
		return nil, ""
	}
	return o, text
}

func joinQuoted(list []string) string {
	s := ""
	for i, e := range list {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", e)
	}
	return s
}
