package mesh

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTracked(t *testing.T) {
	svc := &Object{GroupKind: Service, Version: "v1", Meta: &metav1.ObjectMeta{Name: "a", Namespace: "x"},
		Obj: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "x"}}}
	s := New([]*Object{svc}, Options{})
	cases := []struct {
		name string
		read func(*Snapshot)
		want []GroupKind
	}{
		{"nothing", func(*Snapshot) {}, nil},
		{"objects records nothing", func(v *Snapshot) { v.Objects() }, nil},
		{"list", func(v *Snapshot) { v.List(VirtualService) }, []GroupKind{VirtualService}},
		{"get", func(v *Snapshot) { v.Get(Service, "x", "a") }, []GroupKind{Service}},
		{"hosts", func(v *Snapshot) { v.LookupHost("a.x.svc.cluster.local", "x") }, []GroupKind{Service, ServiceEntry}},
		{"workloads", func(v *Snapshot) { v.SelectWorkloads("x", nil) }, workloadKinds},
		{"listof", func(v *Snapshot) { ListOf[*corev1.Service](v, Service) }, []GroupKind{Service}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, reads := s.Tracked()
			c.read(v)
			for _, gk := range c.want {
				if !reads.Has(gk) {
					t.Errorf("%s not recorded (recorded %v)", gk, reads.Kinds())
				}
			}
			if got := len(reads.Kinds()); got != len(c.want) {
				t.Errorf("recorded %v, want %v", reads.Kinds(), c.want)
			}
			// The view shares the snapshot: the same objects answer.
			if v.Get(Service, "x", "a") != svc {
				t.Error("tracked view does not see the snapshot's objects")
			}
		})
	}
	// The original records nothing and is unaffected.
	if s.reads != nil {
		t.Error("Tracked changed the original snapshot")
	}
}

func TestMergedClustersAreNotDuplicates(t *testing.T) {
	mk := func(cluster string) *Object {
		return &Object{GroupKind: Service, Version: "v1", Meta: &metav1.ObjectMeta{Name: "a", Namespace: "x"},
			Obj: &corev1.Service{}, Source: Source{Cluster: cluster}}
	}
	a, b, a2 := mk("east"), mk("west"), mk("east")
	s := New([]*Object{a, b, a2}, Options{})
	if got := s.Get(Service, "x", "a"); got != a {
		t.Errorf("Get answered %v, want the first cluster's object", got)
	}
	if d := s.Duplicates(); len(d) != 1 || d[0][0] != a || d[0][1] != a2 {
		t.Errorf("duplicates %v, want only the second east object", d)
	}
	if n := len(s.List(Service)); n != 3 {
		t.Errorf("List has %d services, want all 3", n)
	}
}
