package incremental_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/incremental"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/synth"
)

func load10k(b *testing.B) ([]*mesh.Object, mesh.Options, *analysis.Selection) {
	b.Helper()
	m := synth.Generate(synth.Options{Services: 10000, Seed: 1})
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "mesh.yaml", Data: m.YAML}}, files.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return res.Objects, mesh.Options{MeshConfig: res.MeshConfig, MeshNetworks: res.MeshNetworks}, sel
}

// reportMedian reports the median and 90th percentile of per-op times.
func reportMedian(b *testing.B, name string, ds []time.Duration) {
	b.Helper()
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(s[len(s)/2]), name+"-median/op")
	b.ReportMetric(ms(s[len(s)*9/10]), name+"-p90/op")
}

// BenchmarkApplyVirtualService10k changes one VirtualService of the
// 10,000-service synthetic mesh per iteration, alternating two timeouts so
// that findings open and close, and applies it.
func BenchmarkApplyVirtualService10k(b *testing.B) {
	objs, opts, sel := load10k(b)
	ctx := context.Background()
	eng, err := incremental.New(ctx, objs, opts, sel, analysis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var orig *mesh.Object
	for _, o := range objs {
		if o.GroupKind == mesh.VirtualService && o.Namespace() == "team-100" && o.Name() == "svc-05010" {
			orig = o
		}
	}
	if orig == nil {
		b.Fatal("no VirtualService team-100/svc-05010")
	}
	// A 1s timeout leaves no room for 2s tries.
	short := clone(orig)
	route := short.Obj.(*networking.VirtualService).Http[0]
	route.Timeout = durationpb.New(time.Second)
	route.Retries = &networking.HTTPRetry{Attempts: 2, PerTryTimeout: durationpb.New(2 * time.Second)}
	versions := []*mesh.Object{short, orig}
	d, err := eng.Apply(ctx, incremental.Upsert(short))
	if err != nil || d.Full || len(d.Opened) == 0 {
		b.Fatalf("the short timeout opens nothing incrementally: %+v %v", d, err)
	}
	var apply, ready []time.Duration
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		start := time.Now()
		d, err := eng.Apply(ctx, incremental.Upsert(versions[i%2]))
		took := time.Since(start)
		_ = eng.Findings()
		all := time.Since(start)
		if err != nil || d.Full || len(d.Opened)+len(d.Closed) == 0 {
			b.Fatalf("apply %d: %+v %v", i, d, err)
		}
		apply, ready = append(apply, took), append(ready, all)
		i++
	}
	reportMedian(b, "ms", apply)
	reportMedian(b, "ms-with-findings", ready)
}

// BenchmarkFullReanalysis10k builds the snapshot and runs every analyzer
// over all objects: what each change costs without the engine.
func BenchmarkFullReanalysis10k(b *testing.B) {
	objs, opts, sel := load10k(b)
	ctx := context.Background()
	var ds []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := analysis.Run(ctx, mesh.New(objs, opts), sel, analysis.Options{}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	reportMedian(b, "ms", ds)
}

// BenchmarkNew10k builds an engine over the 10,000-service mesh: one full
// analysis and the index.
func BenchmarkNew10k(b *testing.B) {
	objs, opts, sel := load10k(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := incremental.New(context.Background(), objs, opts, sel, analysis.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyGlobal10k changes the mesh-wide PeerAuthentication of the
// 10,000-service mesh, which falls back to a full run.
func BenchmarkApplyGlobal10k(b *testing.B) {
	objs, opts, sel := load10k(b)
	ctx := context.Background()
	eng, err := incremental.New(ctx, objs, opts, sel, analysis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var pa *mesh.Object
	for _, o := range objs {
		if o.GroupKind == mesh.PeerAuthentication && o.Namespace() == "istio-system" {
			pa = o
		}
	}
	permissive := clone(pa)
	permissive.Obj.(*security.PeerAuthentication).Mtls.Mode = security.PeerAuthentication_MutualTLS_PERMISSIVE
	versions := []*mesh.Object{permissive, pa}
	var ds []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		d, err := eng.Apply(ctx, incremental.Upsert(versions[i%2]))
		if err != nil || !d.Full {
			b.Fatalf("apply %d: %+v %v", i, d, err)
		}
		ds = append(ds, time.Since(start))
		i++
	}
	reportMedian(b, "ms", ds)
}
