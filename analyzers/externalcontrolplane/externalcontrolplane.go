// Package externalcontrolplane checks the webhooks of a cluster whose
// control plane runs elsewhere: they must reach istiod by a URL naming a
// host.
package externalcontrolplane

import (
	"net"
	"net/url"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// Analyzers of this package.
var Analyzers = []*analysis.Analyzer{ExternalControlPlane}

// Webhook configuration names Istio's charts generate.
const (
	defaultValidator = "istiod-default-validator"
	validatorPrefix  = "istio-validator"
	injectorPrefix   = "istio-sidecar-injector"
)

// ExternalControlPlane reports Istio webhooks whose address cannot reach an
// external istiod.
var ExternalControlPlane = &analysis.Analyzer{
	Name: "externalcontrolplane.ExternalControlPlane",
	Doc: "check webhook addresses of an external control plane\n\n" +
		"Istio's validating (istiod-default-validator, istio-validator*) and injecting (istio-sidecar-injector*) " +
		"webhooks reach istiod through a Service, or through a URL when istiod runs outside the cluster. A " +
		"webhook with neither, or whose URL cannot be parsed or names no host, reaches no control plane " +
		"(IST0163); a URL naming an IP address rather than a host name ties the cluster to that address " +
		"(IST0164). Whether the host resolves is not checked: analysis is offline.",
	Codes: []*analysis.Code{codes.InvalidExternalControlPlaneConfig, codes.ExternalControlPlaneAddressIsNotAHostname},
	Run:   run,
}

func run(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	for _, o := range snap.List(mesh.ValidatingWebhookConfiguration) {
		cfg, ok := o.Obj.(*admissionv1.ValidatingWebhookConfiguration)
		if !ok || cfg == nil {
			continue
		}
		if o.Name() != defaultValidator && !strings.HasPrefix(o.Name(), validatorPrefix) {
			continue
		}
		for _, wh := range cfg.Webhooks {
			check(p, o, wh.Name, wh.ClientConfig)
		}
	}
	for _, o := range snap.List(mesh.MutatingWebhookConfiguration) {
		cfg, ok := o.Obj.(*admissionv1.MutatingWebhookConfiguration)
		if !ok || cfg == nil || !strings.HasPrefix(o.Name(), injectorPrefix) {
			continue
		}
		for _, wh := range cfg.Webhooks {
			check(p, o, wh.Name, wh.ClientConfig)
		}
	}
	return nil, nil
}

func check(p *analysis.Pass, o *mesh.Object, hook string, cc admissionv1.WebhookClientConfig) {
	if cc.URL == nil {
		if cc.Service == nil {
			p.Reportf(codes.InvalidExternalControlPlaneConfig, o,
				"webhook %s of %s %s has neither a URL nor a service, so it reaches no control plane; set "+
					"clientConfig.url to the external istiod's address", hook, o.Kind, o.Name())
		}
		return
	}
	u, err := url.Parse(*cc.URL)
	if err != nil {
		p.Reportf(codes.InvalidExternalControlPlaneConfig, o,
			"webhook %s of %s %s has URL %q, which cannot be parsed: %v", hook, o.Kind, o.Name(), *cc.URL, unwrap(err))
		return
	}
	host := u.Hostname()
	if host == "" {
		p.Reportf(codes.InvalidExternalControlPlaneConfig, o,
			"webhook %s of %s %s has URL %q, which names no host, so it reaches no control plane",
			hook, o.Kind, o.Name(), *cc.URL)
		return
	}
	if net.ParseIP(host) != nil {
		p.Reportf(codes.ExternalControlPlaneAddressIsNotAHostname, o,
			"webhook %s of %s %s reaches the control plane at IP address %s (URL %q); use a host name so the "+
				"external istiod can move without reconfiguring the cluster", hook, o.Kind, o.Name(), host, *cc.URL)
	}
}

// unwrap drops url.Error's repetition of the URL.
func unwrap(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
