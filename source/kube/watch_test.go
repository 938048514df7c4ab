package kube_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/kube"
)

type recorder struct {
	synced  chan *kube.Result
	changes chan kube.Change
}

func (r *recorder) Synced(_ context.Context, res *kube.Result) error {
	r.synced <- res
	return nil
}

func (r *recorder) Changed(_ context.Context, cs []kube.Change) error {
	for _, c := range cs {
		r.changes <- c
	}
	return nil
}

// TestWatch follows objects changing under a real API server: the initial
// sync holds what a list holds, then an update, a create and a delete
// arrive as changes.
func TestWatch(t *testing.T) {
	env := live(t)
	cfg, _, err := kube.Target{Kubeconfig: env.Kubeconfig}.Config()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rec := &recorder{synced: make(chan *kube.Result, 1), changes: make(chan kube.Change, 1000)}
	done := make(chan error, 1)
	go func() { done <- kube.Watch(ctx, cfg, kube.Options{Cluster: "east"}, rec) }()

	var res *kube.Result
	select {
	case res = <-rec.synced:
	case err := <-done:
		t.Fatalf("watch ended before syncing: %v", err)
	case <-ctx.Done():
		t.Fatal("no sync within 2 minutes")
	}
	listed := read(t, env.Kubeconfig, kube.Options{Cluster: "east"})
	if a, b := refs(res.Objects), refs(listed.Objects); len(a) != len(b) {
		t.Errorf("watch synced %d objects, a list reads %d", len(a), len(b))
	}
	for _, o := range res.Objects {
		if o.GroupKind == mesh.Secret && !o.Obj.(*mesh.SecretInfo).MetadataOnly {
			t.Errorf("watched secret %s holds more than metadata", o.Ref())
		}
	}

	apply := func(doc string) {
		t.Helper()
		f := filepath.Join(t.TempDir(), "obj.yaml")
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, errOut, err := env.Kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=meshpilot-test", "-f", f); err != nil {
			t.Fatalf("kubectl apply: %v\n%s%s", err, out, errOut)
		}
	}
	expect := func(what string, match func(kube.Change) bool) kube.Change {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case c := <-rec.changes:
				if match(c) {
					return c
				}
			case <-deadline:
				t.Fatalf("no %s within 30s", what)
			case err := <-done:
				t.Fatalf("watch ended: %v", err)
			}
		}
	}
	vs := mesh.Key{GroupKind: mesh.VirtualService, Cluster: "east", Namespace: "edge", Name: "api"}
	apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: api
  namespace: edge
spec:
  hosts: [api]
  http:
  - timeout: 3s
    route:
    - destination: {host: api}
`)
	c := expect("create of VirtualService edge/api", func(c kube.Change) bool { return c.Key == vs && !c.Deleted() })
	if c.Object.Source.Cluster != "east" {
		t.Errorf("changed object comes from %q, want cluster east", c.Object.Source)
	}
	apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: api
  namespace: edge
spec:
  hosts: [api]
  http:
  - timeout: 5s
    route:
    - destination: {host: api}
`)
	c = expect("update of VirtualService edge/api", func(c kube.Change) bool { return c.Key == vs && !c.Deleted() })
	if got := c.Object.Obj.(interface {
		GetHttp() []*networking.HTTPRoute
	}).GetHttp()[0].GetTimeout().AsDuration(); got != 5*time.Second {
		t.Errorf("updated VirtualService has timeout %s, want 5s", got)
	}
	if out, errOut, err := env.Kubectl("delete", "virtualservice", "-n", "edge", "api"); err != nil {
		t.Fatalf("kubectl delete: %v\n%s%s", err, out, errOut)
	}
	expect("delete of VirtualService edge/api", func(c kube.Change) bool { return c.Key == vs && c.Deleted() })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch returned %v after cancel, want nil", err)
	}
}
