package telemetry

import (
	"reflect"
	"testing"
	"time"
)

// TestJoin: the same service in two clusters stays two services, each
// with its own figures and profile; the window spans both reads.
func TestJoin(t *testing.T) {
	end := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	build := func(cluster string, end time.Time, requests float64, notices ...string) *Graph {
		b := NewBuilder(end.Add(-time.Hour), end, 5*time.Minute)
		svc := Service{Cluster: cluster, Namespace: "shop", Name: "reviews"}
		k := Key{Source: Workload{Cluster: cluster, Namespace: "shop", Name: "productpage-v1"}, Service: svc, Destination: Workload{Cluster: cluster, Namespace: "shop", Name: "reviews-v1"}}
		b.AddRequests(k, "source", "http", 200, "-", "mutual_tls", requests)
		b.Profile(svc).Totals[0] = requests / 3600
		b.CountQuery()
		for _, n := range notices {
			b.Noticef("%s", n)
		}
		return b.Graph("prometheus of " + cluster)
	}
	g := Join("rancher-monitoring of east, west",
		Part{"east", build("east", end, 100, "partial data")},
		Part{"west", build("west", end.Add(2*time.Second), 300)},
	)
	if !g.Start.Equal(end.Add(-time.Hour)) || !g.End.Equal(end.Add(2*time.Second)) || g.Step != Duration(5*time.Minute) {
		t.Errorf("window %s to %s step %v", g.Start, g.End, g.Step)
	}
	var got []string
	for _, st := range g.Services() {
		got = append(got, st.Service.ID())
		want := map[string]float64{"east": 100, "west": 300}[st.Service.Cluster]
		if st.Requests != want || st.Profile == nil || st.Profile.Totals[0] != want/3600 {
			t.Errorf("%s: %v requests, profile %+v; want %v and its own profile", st.Service.ID(), st.Requests, st.Profile, want)
		}
	}
	if want := []string{"east/shop/reviews", "west/shop/reviews"}; !reflect.DeepEqual(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	if g.Queries != 2 || !reflect.DeepEqual(g.Notices, []string{"cluster east: partial data"}) {
		t.Errorf("queries %d, notices %q", g.Queries, g.Notices)
	}
}
