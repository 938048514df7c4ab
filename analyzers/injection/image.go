package injection

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	networkingbeta "istio.io/api/networking/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Image reports namespaces whose running proxies differ from the image the
// injector would put in today.
var Image = &analysis.Analyzer{
	Name: "injection.Image",
	Doc: "check running proxies against the injector's image\n\n" +
		"The sidecar injector ConfigMap (istio-sidecar-injector, or istio-sidecar-injector-<revision>) holds " +
		"the hub, tag and image it injects. Pods of an injected namespace whose istio-proxy runs another image " +
		"(allowing the image type variant, such as -distroless, chosen by MeshConfig, ProxyConfig or the " +
		"proxy.istio.io/config annotation) still run an old proxy and need a restart (IST0158).",
	Codes: []*analysis.Code{codes.PodsIstioProxyImageMismatchInNamespace},
	Run:   runImage,
}

func runImage(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	images := map[string]string{} // injector ConfigMap name → image
	for _, o := range snap.List(mesh.ConfigMap) {
		if !strings.HasPrefix(o.Name(), injectorConfig) {
			continue
		}
		if img := injectedImage(injectorValues(o)); img != "" {
			images[o.Name()] = img
		}
	}
	if len(images) == 0 {
		return nil, nil
	}
	// Namespace → injector ConfigMap serving it.
	injector := map[string]string{}
	nsObj := map[string]*mesh.Object{}
	for _, o := range snap.List(mesh.Namespace) {
		labels := o.Labels()
		rev, hasRev := labels[mesh.LabelRevision]
		switch {
		case hasRev:
			injector[o.Name()] = injectorConfigName(rev)
		case labels[mesh.LabelInjection] == injectionEnabled:
			injector[o.Name()] = injectorConfigName("")
		default:
			continue
		}
		nsObj[o.Name()] = o
	}
	types := newImageTypes(snap)
	stale := map[string][]string{}
	for _, o := range snap.List(mesh.Pod) {
		ns := o.Namespace()
		cm, ok := injector[ns]
		if !ok || o.Annotations()[annotationProxyImg] != "" {
			continue
		}
		want, ok := images[cm]
		if !ok {
			continue
		}
		pod, ok := o.Obj.(*corev1.Pod)
		if !ok || pod == nil {
			continue
		}
		got, ok := proxyContainerImage(&pod.Spec)
		if !ok || got == want || got == want+"-"+types.of(o) {
			continue
		}
		stale[ns] = append(stale[ns], o.Name()+" ("+got+")")
	}
	nss := make([]string, 0, len(stale))
	for ns := range stale {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		p.Reportf(codes.PodsIstioProxyImageMismatchInNamespace, nsObj[ns],
			"in namespace %s, %d pod(s) run a proxy image other than %s, which the injector (ConfigMap %s) now injects: %s; "+
				"restart them to pick up the current proxy",
			ns, len(stale[ns]), images[injector[ns]], injector[ns], strings.Join(stale[ns], ", "))
	}
	return nil, nil
}

// injectedImage builds the proxy image from injector values the way the
// injection template does: global.proxy.image when it holds a registry
// path, else <hub>/<image>:<tag>.
func injectedImage(values map[string]any) string {
	if values == nil {
		return ""
	}
	image, _ := lookup(values, "global", "proxy", "image").(string)
	if strings.Contains(image, "/") {
		return image
	}
	hub, _ := lookup(values, "global", "hub").(string)
	tag, _ := lookup(values, "global", "tag").(string)
	if image == "" {
		return ""
	}
	return hub + "/" + image + ":" + tag
}

// imageTypes resolves the proxy image variant ("distroless") in force for
// a pod, from the most general setting to the most specific.
type imageTypes struct {
	mesh      string
	root      string
	namespace map[string]string
	workload  map[string][]*networkingbeta.ProxyConfig
}

func newImageTypes(snap *mesh.Snapshot) *imageTypes {
	t := &imageTypes{
		mesh:      snap.MeshConfig.GetDefaultConfig().GetImage().GetImageType(),
		namespace: map[string]string{},
		workload:  map[string][]*networkingbeta.ProxyConfig{},
	}
	root := snap.RootNamespace()
	for _, o := range snap.List(mesh.ProxyConfig) {
		pc, ok := o.Obj.(*networkingbeta.ProxyConfig)
		if !ok || pc == nil {
			continue
		}
		ns := o.Namespace()
		switch {
		case ns == root:
			if v := pc.GetImage().GetImageType(); v != "" {
				t.root = v
			}
		case pc.GetSelector() == nil:
			if v := pc.GetImage().GetImageType(); v != "" {
				t.namespace[ns] = v
			}
		default:
			t.workload[ns] = append(t.workload[ns], pc)
		}
	}
	return t
}

// of returns the pod's image type, "" for the default image.
func (t *imageTypes) of(pod *mesh.Object) string {
	v := t.mesh
	if t.root != "" {
		v = t.root
	}
	if ns := t.namespace[pod.Namespace()]; ns != "" {
		v = ns
	}
	for _, pc := range t.workload[pod.Namespace()] {
		sel := pc.GetSelector().GetMatchLabels()
		if len(sel) > 0 && mesh.MatchLabels(sel, pod.Labels()) && pc.GetImage().GetImageType() != "" {
			v = pc.GetImage().GetImageType()
		}
	}
	if a := annotationImageType(pod.Annotations()[annotationProxyCfg]); a != "" {
		v = a
	}
	if v == "default" {
		return ""
	}
	return v
}

// annotationImageType reads image.imageType from a proxy.istio.io/config
// annotation (YAML of a ProxyConfig).
func annotationImageType(raw string) string {
	if raw == "" {
		return ""
	}
	var v map[string]any
	if err := yaml.Unmarshal([]byte(raw), &v); err != nil {
		return ""
	}
	s, _ := lookup(v, "image", "imageType").(string)
	return s
}
