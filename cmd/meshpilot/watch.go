package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/incremental"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/kube"
)

type watchFlags struct {
	output     string
	namespace  string
	allNS      bool
	only, skip []string
	minLevel   string
	policy     string
	healthAddr string
	live       liveFlags
}

func newWatchCmd(s streams) *cobra.Command {
	f := &watchFlags{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Keep analyzing a live cluster: report findings as they open and close",
		Long: `Watch reads a live cluster (the kubeconfig's current context, --context, or the
in-cluster config of a pod) with informers and keeps its analysis current: when an
object changes, only the analyzers and objects it can affect run again. Findings
are printed as they open and close, as text or JSON lines (-o json):

  {"time":"...","event":"opened","finding":{...}}

--health-addr serves /healthz (the process is up) and /readyz (the informers
synced and the first analysis ran) for Kubernetes probes.`,
		Example: `  meshpilot watch --context prod-eu -A
  meshpilot watch -n shop -o json --min-level warning`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWatch(cmd.Context(), s, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.output, "output", "o", "text", "output: text|json (JSON lines)")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "report only findings in this namespace")
	fs.BoolVarP(&f.allNS, "all-namespaces", "A", false, "report findings in every namespace (the default)")
	fs.StringSliceVar(&f.only, "only", nil, "run only these analyzers or codes (comma-separated)")
	fs.StringSliceVar(&f.skip, "skip", nil, "skip these analyzers or codes (comma-separated)")
	fs.StringVar(&f.minLevel, "min-level", "info", "report findings at or above this level: info|warning|error")
	fs.StringVar(&f.policy, "policy", "", "GuardrailPolicy file: report what breaks its limits and rules")
	fs.StringVar(&f.healthAddr, "health-addr", "", "serve /healthz and /readyz on this address (for example :8081)")
	fs.StringVar(&f.live.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&f.live.kubeContext, "context", "", "kubeconfig context of the cluster to watch")
	fs.StringVar(&f.live.clusterName, "cluster-name", "", "name the cluster goes by in findings (default the context's name)")
	return cmd
}

func runWatch(ctx context.Context, s streams, f *watchFlags) error {
	if f.output != "text" && f.output != "json" {
		return &exitError{code: exitInput, err: fmt.Errorf("unknown output %q (want text or json)", f.output)}
	}
	if f.namespace != "" && f.allNS {
		return &exitError{code: exitInput, err: errors.New("--namespace and --all-namespaces are mutually exclusive")}
	}
	minLevel, err := analysis.ParseLevel(f.minLevel)
	if err != nil {
		return &exitError{code: exitInput, err: fmt.Errorf("--min-level: %w", err)}
	}
	sel, _, err := selectAnalyzers(s, f.policy, f.only, f.skip)
	if err != nil {
		return err
	}
	cfg, name, err := kube.Target{Kubeconfig: f.live.kubeconfig, Context: f.live.kubeContext, ClusterName: f.live.clusterName}.Config()
	if err != nil {
		return &exitError{code: exitInput, err: err}
	}
	w := &watchHandler{s: s, f: f, sel: sel, minLevel: minLevel}
	if f.namespace != "" {
		w.namespaces = []string{f.namespace}
	}
	if f.healthAddr != "" {
		stop, err := serveHealth(ctx, s.err, f.healthAddr, &w.ready)
		if err != nil {
			return &exitError{code: exitInput, err: err}
		}
		defer stop()
	}
	kopts := kube.Options{Cluster: name, Namespaces: w.namespaces}
	if err := kube.Watch(ctx, cfg, kopts, w); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	return nil
}

// watchHandler analyzes a watched cluster incrementally and prints the
// findings that open and close.
type watchHandler struct {
	s          streams
	f          *watchFlags
	sel        *analysis.Selection
	minLevel   analysis.Level
	namespaces []string
	engine     *incremental.Engine
	ready      atomic.Bool
}

func (w *watchHandler) Synced(ctx context.Context, res *kube.Result) error {
	began := time.Now()
	for _, p := range res.Problems {
		fmt.Fprintf(w.s.err, "error: %s\n", p.Error())
	}
	prec := newPrecision(res)
	opts := mesh.Options{MeshConfig: res.MeshConfig, MeshNetworks: res.MeshNetworks}
	e, err := incremental.New(ctx, res.Objects, opts, w.sel, analysis.Options{Namespaces: w.namespaces, Reads: prec.reads()})
	if err != nil {
		return fmt.Errorf("first analysis: %w", err)
	}
	prec.warn(w.s.err, res.Cluster, w.sel)
	clusterNotes(w.s.err, res)
	w.engine = e
	findings := e.Findings()
	shown := 0
	for _, f := range findings {
		if w.emit("opened", f) {
			shown++
		}
	}
	fmt.Fprintf(w.s.err, "watch: cluster %s synced: %d objects, %d findings (%d at or above %s) analyzed in %s; watching for changes\n",
		res.Cluster, len(res.Objects), len(findings), shown, w.minLevel, time.Since(began).Round(time.Millisecond))
	w.ready.Store(true)
	return nil
}

func (w *watchHandler) Changed(ctx context.Context, changes []kube.Change) error {
	in := make([]incremental.Change, len(changes))
	for i, c := range changes {
		in[i] = incremental.Change{Object: c.Object, Deleted: c.Deleted(), Key: c.Key}
	}
	d, err := w.engine.Apply(ctx, in...)
	if err != nil {
		return fmt.Errorf("re-analysis: %w", err)
	}
	for _, f := range d.Closed {
		w.emit("closed", f)
	}
	for _, f := range d.Opened {
		w.emit("opened", f)
	}
	return nil
}

// emit prints one event and reports whether it was shown.
func (w *watchHandler) emit(event string, f analysis.Finding) bool {
	if f.Level < w.minLevel {
		return false
	}
	now := time.Now().UTC().Format(time.RFC3339)
	if w.f.output == "json" {
		b, err := json.Marshal(struct {
			Time    string           `json:"time"`
			Event   string           `json:"event"`
			Finding analysis.Finding `json:"finding"`
		}{now, event, f})
		if err == nil {
			fmt.Fprintf(w.s.out, "%s\n", b)
		}
		return true
	}
	where := f.Resource
	if f.Cluster != "" {
		where += " cluster " + f.Cluster
	}
	fmt.Fprintf(w.s.out, "%s %-6s %s [%s] (%s) %s\n", now, event, f.Level, f.Code, where, strings.ReplaceAll(f.Message, "\n", " "))
	return true
}

// serveHealth answers Kubernetes probes until stopped.
func serveHealth(ctx context.Context, w io.Writer, addr string, ready *atomic.Bool) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--health-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(rw, "informers not synced yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(w, "watch: health on http://%s (/healthz, /readyz)\n", ln.Addr())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(ln)
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		wg.Wait()
	}, nil
}
