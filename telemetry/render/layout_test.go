package render

import (
	"testing"

	"github.com/meshpilot/meshpilot/telemetry"
)

// TestRank checks the layers: callers outside the mesh and gateways first,
// a job nobody calls next to what it calls, and one arc of a cycle
// reversed.
func TestRank(t *testing.T) {
	tests := []struct {
		name  string
		graph *telemetry.Graph
		want  map[string]int // node title: layer
		back  int
	}{
		{"shop", shop(), map[string]int{
			"unknown (callers outside the mesh)":         0,
			"workload istio-system/istio-ingressgateway": 0,
			"service shop/frontend":                      1,
			"workload shop/frontend-v1":                  2,
			"service shop/payments":                      5,
			"service shop/api.stripe.com":                7,
		}, 0},
		{"loop", loop(), map[string]int{
			`workload east: jobs/tick "every" <minute> & more`: 0,
			"service east: loop/a":                             1,
			"workload east: loop/a":                            2,
			"service west: loop/b":                             3,
			"workload east: loop/b":                            4,
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPicture(tt.graph, Options{})
			layer, back := rank(p)
			for _, n := range p.nodes {
				if want, ok := tt.want[n.title()]; ok && layer[n.index] != want {
					t.Errorf("%s on layer %d, want %d", n.title(), layer[n.index], want)
				}
			}
			if len(back) != tt.back {
				t.Errorf("%d arcs reversed, want %d", len(back), tt.back)
			}
			for _, a := range p.arcs {
				from, to := layer[a.from.index], layer[a.to.index]
				if back[a] {
					from, to = to, from
				}
				if from >= to {
					t.Errorf("arc %s -> %s goes from layer %d to %d", a.from.title(), a.to.title(), from, to)
				}
			}
		})
	}
}

// TestSceneClear checks that on the small graphs nothing overlaps: nodes,
// labels, and namespace boxes.
func TestSceneClear(t *testing.T) {
	for _, c := range cases {
		g := c.graph()
		if len(g.Edges) == 0 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			sc := newScene(g, newPicture(g, c.opts))
			var boxes []rect
			var names []string
			for _, it := range sc.layout.items {
				boxes = append(boxes, rect{it.x - it.w/2, it.y - it.h/2, it.w, it.h})
				names = append(names, it.node.title())
			}
			for a, r := range sc.spots {
				boxes = append(boxes, r)
				names = append(names, "label of "+a.from.title()+" -> "+a.to.title())
			}
			for i := range boxes {
				for j := i + 1; j < len(boxes); j++ {
					if boxes[i].overlap(boxes[j]) > 0 {
						t.Errorf("%s overlaps %s", names[i], names[j])
					}
				}
			}
			bands := sc.layout.bands
			for i, a := range bands {
				for _, b := range bands[i+1:] {
					if a.group.ns != "" && b.group.ns != "" &&
						(rect{a.left, a.top, a.right - a.left, a.bottom - a.top}).overlap(rect{b.left, b.top, b.right - b.left, b.bottom - b.top}) > 0 {
						t.Errorf("%s overlaps %s", a.group.title(), b.group.title())
					}
				}
			}
		})
	}
}
