// Package injection checks sidecar injection: namespaces that are not (or
// ambiguously) labeled for it, pods that should carry a proxy and do not,
// proxies whose image differs from the injector's, and `image: auto`
// containers that no injector will rewrite.
package injection

import (
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/mesh"
)

// Labels, annotations and names that drive injection.
const (
	annotationProxyImg = "sidecar.istio.io/proxyImage"
	annotationProxyCfg = "proxy.istio.io/config"

	injectionEnabled = "enabled"
	ambientMode      = "ambient"
	injectorConfig   = "istio-sidecar-injector"
	istioSystem      = "istio-system"
)

// systemNamespaces are never injected and not worth a finding.
var systemNamespaces = map[string]bool{
	"kube-system": true, "kube-public": true, "kube-node-lease": true, "local-path-storage": true,
}

// injectorConfigName is the injector ConfigMap serving a revision.
func injectorConfigName(revision string) string {
	if revision == "" || revision == "default" {
		return injectorConfig
	}
	return injectorConfig + "-" + revision
}

// injectorValues decodes the "values" key of an injector ConfigMap, the
// Helm values the injector was rendered with. It returns nil when absent
// or unreadable.
func injectorValues(o *mesh.Object) map[string]any {
	cm, ok := o.Obj.(*corev1.ConfigMap)
	if !ok || cm == nil {
		return nil
	}
	raw, ok := cm.Data["values"]
	if !ok {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil
	}
	return v
}

// lookup walks nested maps along path; nil when any step is missing.
func lookup(v map[string]any, path ...string) any {
	var cur any = v
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// proxyContainerImage returns the image of the istio-proxy container,
// looking at init containers too (native sidecars), and whether there is one.
func proxyContainerImage(spec *corev1.PodSpec) (string, bool) {
	for _, list := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for _, c := range list {
			if c.Name == mesh.ProxyContainer {
				return c.Image, true
			}
		}
	}
	return "", false
}

// injectionDisabled reports whether a pod opts out of injection; the label
// wins over the annotation.
func injectionDisabled(meta map[string]string, labels map[string]string) bool {
	v := meta[mesh.LabelSidecarInject]
	if l, ok := labels[mesh.LabelSidecarInject]; ok {
		v = l
	}
	return strings.EqualFold(v, "false")
}
