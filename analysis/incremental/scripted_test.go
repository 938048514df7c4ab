package incremental_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/analysis/incremental"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

// yamlObject builds an object from one YAML document, as a watch would
// receive it.
func yamlObject(t *testing.T, doc string) *mesh.Object {
	t.Helper()
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "change.yaml", Data: []byte(doc)}}, files.Options{})
	if err != nil || len(res.Objects) != 1 || len(res.Problems) > 0 {
		t.Fatalf("build object: %v %v", err, res.Problems)
	}
	return res.Objects[0]
}

func find(t *testing.T, h *harness, gk mesh.GroupKind, ns, name string) *mesh.Object {
	t.Helper()
	for _, o := range h.m.objs {
		if o.GroupKind == gk && o.Namespace() == ns && o.Name() == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s", gk, ns, name)
	return nil
}

func upsert(o *mesh.Object) []incremental.Change { return []incremental.Change{incremental.Upsert(o)} }

func del(o *mesh.Object) []incremental.Change {
	return []incremental.Change{incremental.Delete(o.Key())}
}

// scripted applies the edits a live mesh sees to a synth mesh (namespaces
// team-000...): each must match a full run, and the VirtualService edits
// must stay within their namespace.
func scripted(t *testing.T, h *harness) {
	vs := func(ns, name string) (*mesh.Object, *networking.VirtualService) {
		o := clone(find(t, h, mesh.VirtualService, ns, name))
		return o, o.Obj.(*networking.VirtualService)
	}
	local := func(d incremental.Delta, what, ns string) {
		t.Helper()
		if d.Full || !slices.Equal(d.Scope, []string{ns}) {
			t.Errorf("%s: full=%v (%s) scope %v, want namespace %s alone", what, d.Full, d.Reason, d.Scope, ns)
		}
	}
	for i, timeout := range []time.Duration{time.Second, 7 * time.Second, time.Second, 2 * time.Second} {
		o, spec := vs("team-000", "svc-00007")
		spec.Http[0].Timeout = durationpb.New(timeout)
		local(h.step(upsert(o), "timeout "+timeout.String()), "timeout change", "team-000")
		_ = i
	}
	o, spec := vs("team-000", "svc-00003")
	spec.Http[0].Retries = &networking.HTTPRetry{Attempts: 5, PerTryTimeout: durationpb.New(3 * time.Second)}
	local(h.step(upsert(o), "retries"), "retries change", "team-000")

	o, spec = vs("team-000", "svc-00004")
	spec.Hosts = []string{"svc-00005"}
	h.step(upsert(o), "VirtualService host taken from a sibling")

	o, spec = vs("team-001", "svc-00060")
	spec.Gateways = []string{"istio-system/public"}
	h.step(upsert(o), "gateway that does not exist")

	o, spec = vs("team-001", "svc-00061")
	spec.Http[0].Route[1].Destination.Subset = "v3"
	local(h.step(upsert(o), "subset v3"), "subset change", "team-001")

	dr := find(t, h, mesh.DestinationRule, "team-001", "svc-00062")
	h.step(del(dr), "delete DestinationRule")
	h.step(upsert(dr), "re-add DestinationRule")

	o, spec = vs("team-000", "svc-00001")
	o.Meta.Namespace = "team-002"
	o.Meta.Name = "hijack"
	spec.Hosts = []string{"svc-00001.team-000.svc.cluster.local"}
	h.step(upsert(o), "conflicting host in another namespace")
	h.step(del(o), "drop the conflicting VirtualService")

	svc := clone(find(t, h, mesh.Service, "team-002", "svc-00101"))
	svc.Obj.(*corev1.Service).Spec.Ports[0].Name = "web"
	h.step(upsert(svc), "Service port name")
	svc = clone(svc)
	svc.Obj.(*corev1.Service).Spec.Selector = map[string]string{"app": "nothing"}
	h.step(upsert(svc), "Service selector")

	dep := find(t, h, mesh.Deployment, "team-002", "svc-00102")
	h.step(del(dep), "delete Deployment")
	h.step(upsert(dep), "re-add Deployment")

	pod := yamlObject(t, `apiVersion: v1
kind: Pod
metadata:
  name: svc-00103-abc
  namespace: team-002
  labels: {app: svc-00103}
spec:
  containers:
  - name: app
    image: example/svc-00103:1.4.2
`)
	h.step(upsert(pod), "a Pod shadows its Deployment's template")
	h.step(del(pod), "delete Pod")

	sc := yamlObject(t, `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: narrow, namespace: team-003}
spec:
  workloadSelector: {labels: {app: svc-00150}}
  egress:
  - hosts: ["./*", "team-004/svc-00200.team-004.svc.cluster.local", "team-004/gone.example.com"]
`)
	h.step(upsert(sc), "add Sidecar")
	sc2 := clone(sc)
	sc2.Obj.(*networking.Sidecar).WorkloadSelector.Labels = map[string]string{"app": "svc-00151"}
	h.step(upsert(sc2), "Sidecar selector")

	pa := yamlObject(t, `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy, namespace: team-003}
spec:
  selector: {matchLabels: {app: svc-00152}}
  mtls: {mode: DISABLE}
`)
	h.step(upsert(pa), "add PeerAuthentication")
	ap := yamlObject(t, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-team, namespace: team-003}
spec:
  selector: {matchLabels: {app: svc-00999}}
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["team-003", "istio-system", "team-00*"]
`)
	h.step(upsert(ap), "AuthorizationPolicy selector")

	gw := yamlObject(t, `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
`)
	if d := h.step(upsert(gw), "Gateway in istio-system"); !d.Full {
		t.Errorf("a Gateway in istio-system re-analyzed only %v", d.Scope)
	}
	o, spec = vs("team-001", "svc-00060")
	spec.Gateways = []string{"istio-system/public", "mesh"}
	h.step(upsert(o), "bind to the gateway")
	h.step(del(gw), "delete the Gateway")

	ns := find(t, h, mesh.Namespace, "", "team-003")
	h.step(del(ns), "delete Namespace object")
	h.step(upsert(ns), "re-add Namespace object")

	for _, to := range [][]string{{"."}, {"team-001"}, {"nowhere"}, nil} {
		o, spec = vs("team-004", "svc-00201")
		spec.ExportTo = to
		h.step(upsert(o), "exportTo")
	}
	if t.Failed() {
		t.FailNow()
	}
}
