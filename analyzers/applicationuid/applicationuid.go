// Package applicationuid checks that application containers do not run as
// the proxy's user ID.
package applicationuid

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{ApplicationUID}

// proxyUID is the user the sidecar runs as; the iptables rules let its
// traffic bypass redirection.
const proxyUID = int64(1337)

// ApplicationUID reports Pods and Deployments whose application runs as
// UID 1337.
var ApplicationUID = &analysis.Analyzer{
	Name: "applicationuid.ApplicationUID",
	Doc: "check that applications do not run as the proxy's UID 1337\n\n" +
		"The sidecar's iptables rules exempt traffic of UID 1337, the proxy's own user. An application " +
		"container running as 1337, through the pod's or the container's securityContext.runAsUser, " +
		"bypasses the proxy entirely: no mTLS, policy or telemetry for its outbound traffic (IST0144). " +
		"The istio-proxy and istio-operator containers, and control plane resources, are exempt.",
	Codes: []*analysis.Code{codes.InvalidApplicationUID},
	Run:   run,
}

func run(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	for _, gk := range []mesh.GroupKind{mesh.Pod, mesh.Deployment} {
		for _, o := range snap.List(gk) {
			spec := podSpec(o)
			if spec == nil || controlPlane(o.Labels()) {
				continue
			}
			if where := runsAsProxy(spec); len(where) > 0 {
				p.Reportf(codes.InvalidApplicationUID, o,
					"%s %s/%s runs as UID %d, the sidecar's own user (%s), so its traffic bypasses the proxy; "+
						"choose another runAsUser", strings.ToLower(o.Kind), o.Namespace(), o.Name(), proxyUID,
					strings.Join(where, ", "))
			}
		}
	}
	return nil, nil
}

func podSpec(o *mesh.Object) *corev1.PodSpec {
	switch v := o.Obj.(type) {
	case *corev1.Pod:
		if v != nil {
			return &v.Spec
		}
	case *appsv1.Deployment:
		if v != nil {
			return &v.Spec.Template.Spec
		}
	}
	return nil
}

// controlPlane recognises Istio's own resources by their labels.
func controlPlane(labels map[string]string) bool {
	_, ok := labels["istio"]
	return ok || labels["release"] == "istio"
}

// runsAsProxy lists where the spec sets runAsUser 1337: the pod's
// securityContext and each application container's.
func runsAsProxy(spec *corev1.PodSpec) []string {
	var where []string
	if sc := spec.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == proxyUID {
		where = append(where, "pod securityContext")
	}
	for _, c := range spec.Containers {
		if c.Name == "istio-proxy" || c.Name == "istio-operator" {
			continue
		}
		if sc := c.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == proxyUID {
			where = append(where, "container "+c.Name)
		}
	}
	return where
}
