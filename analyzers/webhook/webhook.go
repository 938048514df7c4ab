// Package webhook checks Istio's sidecar injection webhooks: overlapping
// selectors and references to missing control plane Services.
package webhook

import (
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{Webhook}

// Webhook reports injection webhooks that overlap or point nowhere.
var Webhook = &analysis.Analyzer{
	Name: "webhook.Webhook",
	Doc: "check Istio injection webhooks for overlaps and missing services\n\n" +
		"Each Istio MutatingWebhookConfiguration (one with a webhook named *istio.io or tied to an istio.io/rev " +
		"revision) is tried against the namespace and pod labels that drive injection: istio-injection " +
		"unset/enabled/disabled, sidecar.istio.io/inject unset/true/false, each with and without every " +
		"revision seen. Two webhooks matching the same combination would inject a pod twice (IST0139). A " +
		"webhook whose clientConfig names a Service absent from the input points at no control plane (IST0139).",
	Codes: []*analysis.Code{codes.InvalidWebhook},
	Run:   run,
}

const labelRevision = "istio.io/rev"

// hook is one webhook of an Istio configuration.
type hook struct {
	cfg *mesh.Object
	wh  admissionv1.MutatingWebhook
	id  string // "<configuration>/<webhook>"
}

func run(p *analysis.Pass) (any, error) {
	hooks, revisions := istioHooks(p.Snapshot)
	reportOverlaps(p, hooks, revisions)
	for _, h := range hooks {
		svc := h.wh.ClientConfig.Service
		if svc == nil {
			continue
		}
		if p.Snapshot.Get(mesh.Service, svc.Namespace, svc.Name) == nil {
			p.Reportf(codes.InvalidWebhook, h.cfg,
				"webhook %s sends injection requests to service %s/%s, which does not exist: no control plane "+
					"answers it, so matching pods fail to be created or go without a sidecar",
				h.id, svc.Namespace, svc.Name)
		}
	}
	return nil, nil
}

// istioHooks collects the webhooks of Istio configurations and the
// revisions they mention.
func istioHooks(snap *mesh.Snapshot) ([]hook, []string) {
	var hooks []hook
	revs := map[string]bool{}
	for _, o := range snap.List(mesh.MutatingWebhookConfiguration) {
		cfg, ok := o.Obj.(*admissionv1.MutatingWebhookConfiguration)
		if !ok || cfg == nil {
			continue
		}
		own := revisionsOf(cfg)
		if len(own) == 0 && !hasIstioHook(cfg) {
			continue
		}
		for _, r := range own {
			revs[r] = true
		}
		for _, wh := range cfg.Webhooks {
			hooks = append(hooks, hook{cfg: o, wh: wh, id: o.Name() + "/" + wh.Name})
		}
	}
	list := make([]string, 0, len(revs))
	for r := range revs {
		list = append(list, r)
	}
	sort.Strings(list)
	return hooks, list
}

func hasIstioHook(cfg *admissionv1.MutatingWebhookConfiguration) bool {
	for _, wh := range cfg.Webhooks {
		if strings.HasSuffix(wh.Name, "istio.io") {
			return true
		}
	}
	return false
}

// revisionsOf gathers istio.io/rev values from the configuration's label
// and its webhooks' selectors.
func revisionsOf(cfg *admissionv1.MutatingWebhookConfiguration) []string {
	var out []string
	if r, ok := cfg.Labels[labelRevision]; ok {
		out = append(out, r)
	}
	for _, wh := range cfg.Webhooks {
		for _, sel := range []*metav1.LabelSelector{wh.NamespaceSelector, wh.ObjectSelector} {
			if sel == nil {
				continue
			}
			if r, ok := sel.MatchLabels[labelRevision]; ok {
				out = append(out, r)
			}
			for _, e := range sel.MatchExpressions {
				if e.Key == labelRevision {
					out = append(out, e.Values...)
				}
			}
		}
	}
	return out
}

// labelSets returns the label combinations to try: the three states of
// key, each alone and with every revision.
func labelSets(key, on, off string, revisions []string) []labels.Set {
	base := []labels.Set{{}, {key: on}, {key: off}}
	out := append([]labels.Set(nil), base...)
	for _, r := range revisions {
		for _, b := range base {
			s := labels.Set{labelRevision: r}
			for k, v := range b {
				s[k] = v
			}
			out = append(out, s)
		}
	}
	return out
}

// reportOverlaps reports, once per webhook and set of rivals, webhooks that
// match the same namespace and pod labels as another.
func reportOverlaps(p *analysis.Pass, hooks []hook, revisions []string) {
	if len(hooks) < 2 {
		return
	}
	nsSets := labelSets("istio-injection", "enabled", "disabled", revisions)
	podSets := labelSets("sidecar.istio.io/inject", "true", "false", revisions)
	nsMatch := make([][]bool, len(hooks))
	podMatch := make([][]bool, len(hooks))
	for i, h := range hooks {
		nsMatch[i] = matchAll(h.wh.NamespaceSelector, nsSets)
		podMatch[i] = matchAll(h.wh.ObjectSelector, podSets)
	}
	reported := map[string]bool{}
	for n := range nsSets {
		for o := range podSets {
			var ids []string
			var idx []int
			for i, h := range hooks {
				if nsMatch[i][n] && podMatch[i][o] && !contains(ids, h.id) {
					ids = append(ids, h.id)
					idx = append(idx, i)
				}
			}
			if len(ids) < 2 {
				continue
			}
			for k, i := range idx {
				rivals := append(append([]string(nil), ids[:k]...), ids[k+1:]...)
				sort.Strings(rivals)
				key := ids[k] + "|" + strings.Join(rivals, ",")
				if reported[key] {
					continue
				}
				reported[key] = true
				p.Reportf(codes.InvalidWebhook, hooks[i].cfg,
					"webhook %s selects the same namespaces and pods as %s (for example namespace labels {%s} "+
						"and pod labels {%s}): such pods would be injected twice",
					ids[k], strings.Join(rivals, ", "), nsSets[n], podSets[o])
			}
		}
	}
}

func matchAll(sel *metav1.LabelSelector, sets []labels.Set) []bool {
	out := make([]bool, len(sets))
	if sel == nil {
		for i := range out {
			out[i] = true
		}
		return out
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return out
	}
	for i, set := range sets {
		out[i] = s.Matches(set)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
