package kiali

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// VirtualService checks VirtualService routes and the gateways they bind.
var VirtualService = &analysis.Analyzer{
	Name: "kiali.VirtualService",
	Doc: "report single-destination weights, repeated subsets, shared gateway hosts and dotted gateway names\n\n" +
		"A route with one destination ignores a weight below 100. A route listing one host and subset twice " +
		"does not split traffic. Two VirtualServices binding one host to the same gateway (other than " +
		"\"mesh\", which IST0109 covers) are merged in an undefined order. Gateways are referred to as " +
		"<namespace>/<name>, not with dotted names.",
	Codes: []*analysis.Code{codes.SingleRouteWeight, codes.RepeatedRouteSubset,
		codes.ConflictingGatewayVirtualServiceHosts, codes.GatewayReferenceOldNomenclature},
	Run: runVirtualService,
}

// routeDest is one destination of a route with its weight.
type routeDest struct {
	dest   *networking.Destination
	weight int32
}

type route struct {
	where string
	dests []routeDest
}

func routes(vs *networking.VirtualService) []route {
	var out []route
	for i, r := range vs.GetHttp() {
		rt := route{where: "http[" + itoa(i) + "]"}
		for _, d := range r.GetRoute() {
			rt.dests = append(rt.dests, routeDest{d.GetDestination(), d.GetWeight()})
		}
		out = append(out, rt)
	}
	for i, r := range vs.GetTcp() {
		rt := route{where: "tcp[" + itoa(i) + "]"}
		for _, d := range r.GetRoute() {
			rt.dests = append(rt.dests, routeDest{d.GetDestination(), d.GetWeight()})
		}
		out = append(out, rt)
	}
	for i, r := range vs.GetTls() {
		rt := route{where: "tls[" + itoa(i) + "]"}
		for _, d := range r.GetRoute() {
			rt.dests = append(rt.dests, routeDest{d.GetDestination(), d.GetWeight()})
		}
		out = append(out, rt)
	}
	return out
}

// gatewayHost is one host bound to one gateway.
type gatewayHost struct {
	cluster, gateway, host string
}

func runVirtualService(p *analysis.Pass) (any, error) {
	snap := p.Snapshot
	bound := map[gatewayHost][]*mesh.Object{}
	var keys []gatewayHost
	for _, o := range snap.List(mesh.VirtualService) {
		vs, ok := o.Obj.(*networking.VirtualService)
		if !ok || vs == nil {
			continue
		}
		checkRoutes(p, o, vs)
		for gi, gw := range vs.GetGateways() {
			if gw == "mesh" || gw == "" {
				continue
			}
			if !strings.Contains(gw, "/") && strings.Contains(gw, ".") {
				ref := gatewayRef(gw, o.Namespace())
				f := analysis.NewFinding(codes.GatewayReferenceOldNomenclature, o,
					fmt.Sprintf("gateway %q is written in the old dotted form; write it as <namespace>/<name>", gw))
				f.Fixes = []analysis.Fix{{
					Message: "write the gateway as " + ref,
					Explanation: fmt.Sprintf("Rewrites gateways[%d] of %s from %q to %q: the same Gateway, named the way Istio documents, "+
						"so it no longer depends on the deprecated dotted form.", gi, o.Ref(), gw, ref),
					Edits: []analysis.Edit{{Resource: o.Ref().String(), Path: fmt.Sprintf("/spec/gateways/%d", gi), Value: ref}},
				}}
				p.Report(f)
			}
			ref := gatewayRef(gw, o.Namespace())
			for _, h := range vs.GetHosts() {
				k := gatewayHost{o.Source.Cluster, ref, snap.FQDN(h, o.Namespace())}
				l := bound[k]
				if len(l) > 0 && l[len(l)-1] == o {
					continue
				}
				if len(l) == 0 {
					keys = append(keys, k)
				}
				bound[k] = append(l, o)
			}
		}
	}
	reported := map[*mesh.Object]bool{}
	for _, k := range keys {
		l := bound[k]
		if len(l) < 2 {
			continue
		}
		for _, o := range l {
			if reported[o] {
				continue
			}
			reported[o] = true
			p.Reportf(codes.ConflictingGatewayVirtualServiceHosts, o,
				"host %s on gateway %s is also bound by VirtualService %s; their routes merge in an undefined order",
				k.host, k.gateway, others(l, o))
		}
	}
	return nil, nil
}

// gatewayRef reads a gateway reference as namespace/name: "ns/name", a
// bare name in the VirtualService's namespace, or the old dotted form
// "name.ns[.svc.<domain>]".
func gatewayRef(gw, vsNS string) string {
	if ns, name, ok := strings.Cut(gw, "/"); ok {
		return ns + "/" + name
	}
	if name, rest, ok := strings.Cut(gw, "."); ok {
		ns, _, _ := strings.Cut(rest, ".")
		return ns + "/" + name
	}
	return vsNS + "/" + gw
}

func checkRoutes(p *analysis.Pass, o *mesh.Object, vs *networking.VirtualService) {
	for _, rt := range routes(vs) {
		if len(rt.dests) == 1 && rt.dests[0].weight > 0 && rt.dests[0].weight < 100 {
			f := analysis.NewFinding(codes.SingleRouteWeight, o,
				fmt.Sprintf("%s.route[0] is the only destination, so its weight %d is taken as 100", rt.where, rt.dests[0].weight))
			f.Fixes = []analysis.Fix{{
				Message: "remove the weight of the only destination",
				Explanation: fmt.Sprintf("Removes weight %d from %s.route[0] of %s: with one destination Istio sends it all traffic "+
					"anyway, so the route now says what it does.", rt.dests[0].weight, rt.where, o.Ref()),
				Edits: []analysis.Edit{{Resource: o.Ref().String(), Path: "/spec/" + pointerOf(rt.where) + "/route/0/weight", Delete: true}},
			}}
			p.Report(f)
		}
		seen := map[string]int{}
		for _, d := range rt.dests {
			if d.dest == nil {
				continue
			}
			key := p.Snapshot.FQDN(d.dest.GetHost(), o.Namespace()) + "|" + d.dest.GetSubset()
			seen[key]++
			if seen[key] == 2 {
				what := "host " + d.dest.GetHost()
				if d.dest.GetSubset() != "" {
					what += " subset " + d.dest.GetSubset()
				}
				p.Reportf(codes.RepeatedRouteSubset, o,
					"%s lists %s as more than one destination", rt.where, what)
			}
		}
	}
}

// pointerOf turns "http[2]" into the JSON-pointer segments "http/2".
func pointerOf(where string) string {
	return strings.NewReplacer("[", "/", "]", "").Replace(where)
}
