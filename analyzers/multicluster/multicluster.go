// Package multicluster checks what only a view of several clusters shows:
// istioctl's multicluster service consistency (IST0170).
package multicluster

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Service reports a Service that several clusters of one mesh define
// differently. Istio merges a namespace's Service of the same name across
// the clusters of a mesh (namespace sameness): its endpoints are pooled, so
// clients in one cluster reach pods of the others through the port and
// mode they see locally.
var Service = &analysis.Analyzer{
	Name: "multicluster.Service",
	Doc: `Service defined differently across the clusters of a mesh

The same namespace/name in several clusters is one service to Istio. A
Service that is headless in one cluster and has a cluster IP in another, has
another type, or other ports (name, number, protocol, appProtocol, target
port) behaves differently depending on where the client runs. Node ports are
not compared: each cluster allocates its own. The Rancher source runs this
check over the clusters it reads that are of one mesh: Istio runs in them
(istiod found) with the same trust domain.`,
	Codes: []*analysis.Code{codes.MultiClusterInconsistentService},
	Run:   run,
}

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Service}

func run(p *analysis.Pass) (any, error) {
	s := p.Snapshot
	type nsName struct{ ns, name string }
	byService := map[nsName][]*mesh.Object{}
	var order []nsName
	for _, o := range s.List(mesh.Service) {
		if o.Source.Cluster == "" {
			continue // files: one cluster
		}
		k := nsName{o.Namespace(), o.Name()}
		if _, ok := byService[k]; !ok {
			order = append(order, k)
		}
		byService[k] = append(byService[k], o)
	}
	for _, k := range order {
		objs := byService[k]
		if len(objs) < 2 {
			continue
		}
		sort.SliceStable(objs, func(i, j int) bool { return objs[i].Source.Cluster < objs[j].Source.Cluster })
		first := objs[0].Obj.(*corev1.Service)
		var clusters, reasons []string
		seen := map[string]bool{}
		note := func(r string) {
			if !seen[r] {
				seen[r] = true
				reasons = append(reasons, r)
			}
		}
		for _, o := range objs[1:] {
			svc := o.Obj.(*corev1.Service)
			var why []string
			if headless(first) != headless(svc) {
				why = append(why, fmt.Sprintf("headless in %s, not in %s", pick(headless(first), objs[0], o), pick(!headless(first), objs[0], o)))
			}
			if typeOf(first) != typeOf(svc) {
				why = append(why, fmt.Sprintf("type %s in %s, %s in %s", typeOf(first), objs[0].Source.Cluster, typeOf(svc), o.Source.Cluster))
			}
			if a, b := ports(first), ports(svc); a != b {
				why = append(why, fmt.Sprintf("ports [%s] in %s, [%s] in %s", a, objs[0].Source.Cluster, b, o.Source.Cluster))
			}
			if len(why) > 0 {
				clusters = append(clusters, o.Source.Cluster)
				for _, w := range why {
					note(w)
				}
			}
		}
		if len(clusters) == 0 {
			continue
		}
		all := append([]string{objs[0].Source.Cluster}, clusters...)
		p.Reportf(codes.MultiClusterInconsistentService, objs[0],
			"service %s/%s differs across clusters %s of one mesh, so callers see a different service depending on their cluster: %s",
			k.ns, k.name, strings.Join(all, ", "), strings.Join(reasons, "; "))
	}
	return nil, nil
}

func headless(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone }

func pick(firstSide bool, first, other *mesh.Object) string {
	if firstSide {
		return first.Source.Cluster
	}
	return other.Source.Cluster
}

func typeOf(s *corev1.Service) corev1.ServiceType {
	if s.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return s.Spec.Type
}

// ports renders a Service's ports by name, without node ports.
func ports(s *corev1.Service) string {
	list := make([]string, 0, len(s.Spec.Ports))
	for _, p := range s.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		e := fmt.Sprintf("%s %d/%s", p.Name, p.Port, proto)
		if p.AppProtocol != nil {
			e += " app=" + *p.AppProtocol
		}
		if t := p.TargetPort.String(); t != "0" && t != "" && t != fmt.Sprint(p.Port) {
			e += " →" + t
		}
		list = append(list, e)
	}
	sort.Strings(list)
	return strings.Join(list, ", ")
}
