package destinationrule

import (
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/mesh"
)

// registry resolves DestinationRule hosts the way istioctl's analyzers do:
// each ServiceEntry host and Service name is visible in one scope, "*" or a
// namespace, and wildcard ServiceEntry hosts are matched by suffix.
type registry struct {
	snap      *mesh.Snapshot
	exact     map[scopedHost]*entry
	wildcards []wildcard
}

type scopedHost struct{ scope, host string }

// entry is a registry host's workload selector (nil for Services).
type entry struct{ selector map[string]string }

type wildcard struct {
	scope, suffix string
	entry         *entry
}

const allNamespaces = "*"

func newRegistry(snap *mesh.Snapshot) *registry {
	r := &registry{snap: snap, exact: map[scopedHost]*entry{}}
	for _, o := range snap.List(mesh.ServiceEntry) {
		se, ok := o.Obj.(*networking.ServiceEntry)
		if !ok {
			continue
		}
		scope := o.Namespace()
		if exportedToAll(se.GetExportTo()) {
			scope = allNamespaces
		}
		e := &entry{selector: se.GetWorkloadSelector().GetLabels()}
		for _, h := range se.GetHosts() {
			host := snap.FQDN(h, o.Namespace())
			r.exact[scopedHost{scope, host}] = e
			if strings.HasPrefix(host, "*") {
				r.wildcards = append(r.wildcards, wildcard{scope: scope, suffix: host[1:], entry: e})
			}
		}
	}
	for _, o := range snap.List(mesh.Service) {
		if _, ok := o.Obj.(*corev1.Service); !ok {
			continue
		}
		host := snap.FQDN(o.Name(), o.Namespace())
		for _, scope := range serviceScopes(o) {
			r.exact[scopedHost{scope, host}] = &entry{}
		}
	}
	return r
}

func exportedToAll(exportTo []string) bool {
	if len(exportTo) == 0 {
		return true
	}
	for _, e := range exportTo {
		if e == allNamespaces {
			return true
		}
	}
	return false
}

// serviceScopes reads a Service's networking.istio.io/exportTo annotation
// as istioctl does: each comma-separated value is a scope, "." its own
// namespace; no annotation means every namespace.
func serviceScopes(o *mesh.Object) []string {
	v := o.Annotations()["networking.istio.io/exportTo"]
	if v == "" {
		return []string{allNamespaces}
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s == "." {
			s = o.Namespace()
		}
		out = append(out, s)
	}
	return out
}

// lookup finds the registry entry for a DestinationRule host in namespace
// ns with exportTo, or nil.
func (r *registry) lookup(ns string, exportTo []string, host string) *entry {
	fqdn := r.snap.FQDN(host, ns)
	if e := r.exact[scopedHost{allNamespaces, fqdn}]; e != nil {
		return e
	}
	scopes := exportTo
	if len(scopes) == 0 {
		scopes = []string{ns}
	}
	for _, s := range scopes {
		if s == "." {
			s = ns
		}
		if e := r.exact[scopedHost{s, fqdn}]; e != nil {
			return e
		}
	}
	bare := strings.TrimPrefix(host, "*")
	for _, w := range r.wildcards {
		if (w.scope == allNamespaces || w.scope == ns) && strings.HasSuffix(bare, w.suffix) {
			return w.entry
		}
	}
	return nil
}
