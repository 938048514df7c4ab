package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/overhead"
	"github.com/meshpilot/meshpilot/source/files"
)

type overheadFlags struct {
	output     string
	demo       bool
	maxFileMiB int64
}

func newOverheadCmd(s streams) *cobra.Command {
	f := &overheadFlags{}
	cmd := &cobra.Command{
		Use:   "overhead [PATH...]",
		Short: "Show the sidecar proxies' cost per namespace and which namespaces could move to ambient",
		Long: `Overhead counts, per namespace, the pods (a controller counts its replicas) that run
with an istio-proxy sidecar, without one and in ambient mode, and sums the CPU and memory
the proxies request. Each figure comes from the istio-proxy container's resources.requests,
else the pod's sidecar.istio.io/proxyCPU and proxyMemory annotations, else the
istio-sidecar-injector ConfigMap's global.proxy.resources.requests, else Istio's defaults
(100m CPU, 128Mi memory); the table says which.

It lists pods of namespaces labelled for injection that lack a proxy, and calls a namespace
an ambient candidate when nothing in it needs an L7 proxy: no mesh VirtualService with HTTP
routes for its services, no AuthorizationPolicy with L7 attributes, no RequestAuthentication,
EnvoyFilter, WasmPlugin, or Telemetry with L7 settings.

Exit codes: 0 done; 2 bad input or usage (the valid rest is still reported); 1 internal error.`,
		Example: `  meshpilot overhead ./gitops/
  meshpilot overhead -o json --demo`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOverhead(cmd.Context(), s, f, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text|json")
	fs.BoolVar(&f.demo, "demo", false, "report on the embedded demo mesh instead of PATHs")
	fs.Int64Var(&f.maxFileMiB, "max-file-size", files.DefaultMaxFileSize>>20, "largest input file read, in MiB")
	return cmd
}

func runOverhead(ctx context.Context, s streams, f *overheadFlags, paths []string) error {
	if f.output != "text" && f.output != "json" {
		return &exitError{code: exitInput, err: fmt.Errorf("unknown output format %q (want text, json)", f.output)}
	}
	res, err := loadInputs(ctx, s, paths, f.demo, f.maxFileMiB)
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(s.err, "error: %s\n", p.Error())
	}
	rep := overhead.Compute(res.Snapshot(mesh.Options{}))
	if f.output == "json" {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return &exitError{code: exitInternal, err: err}
		}
	} else if err := writeOverheadText(s.out, rep); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if len(res.Problems) > 0 {
		return &exitError{code: exitInput, err: fmt.Errorf("%d input errors (see above); the rest was read", len(res.Problems))}
	}
	return nil
}

// amountText writes an amount with its sources: "1800m [default]".
func amountText(a overhead.Amount) string {
	src := a.SourceList()
	if len(src) == 0 {
		return a.Quantity
	}
	names := make([]string, len(src))
	for i, s := range src {
		names[i] = string(s)
	}
	return a.Quantity + " [" + strings.Join(names, "+") + "]"
}

func candidateText(n overhead.Namespace) string {
	if n.AmbientCandidate == overhead.CandidateNA && len(n.AmbientBlockers) > 0 {
		return "n/a (" + n.AmbientBlockers[0] + ")"
	}
	return n.AmbientCandidate
}

func writeOverheadText(w io.Writer, rep *overhead.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tWORKLOADS\tPODS\tWITH PROXY\tWITHOUT\tAMBIENT\tPROXY CPU\tPROXY MEMORY\tAMBIENT CANDIDATE")
	used := map[overhead.Source]bool{}
	for _, n := range rep.Namespaces {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", n.Name, n.Workloads, n.Pods, n.WithProxy, n.WithoutProxy,
			n.Ambient, amountText(n.ProxyCPU), amountText(n.ProxyMemory), candidateText(n))
	}
	t := rep.Total
	for _, s := range append(t.ProxyCPU.SourceList(), t.ProxyMemory.SourceList()...) {
		used[s] = true
	}
	cands := "none"
	if len(t.AmbientCandidates) > 0 {
		cands = strings.Join(t.AmbientCandidates, ", ")
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", t.Workloads, t.Pods, t.WithProxy, t.WithoutProxy, t.Ambient,
		amountText(t.ProxyCPU), amountText(t.ProxyMemory), cands)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nPods count replicas; proxy CPU and memory are requests summed over pods, from:")
	legend := map[overhead.Source]string{
		overhead.SourceContainer:  "resources.requests of the istio-proxy container",
		overhead.SourceAnnotation: "the pod's sidecar.istio.io/proxyCPU / proxyMemory annotations",
		overhead.SourceInjector:   "global.proxy.resources.requests of ConfigMap " + rep.Injector,
		overhead.SourceDefault:    "Istio's defaults (" + overhead.DefaultCPU + " CPU, " + overhead.DefaultMemory + " memory per proxy)",
	}
	for _, s := range overhead.Sources {
		if used[s] {
			fmt.Fprintf(w, "  %-12s%s\n", string(s)+":", legend[s])
		}
	}
	var missing, blocked []overhead.Namespace
	for _, n := range rep.Namespaces {
		if len(n.MissingProxy) > 0 {
			missing = append(missing, n)
		}
		if n.AmbientCandidate == overhead.CandidateNo {
			blocked = append(blocked, n)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintln(w, "\nNamespaces labelled for injection with pods lacking a proxy:")
		for _, n := range missing {
			fmt.Fprintf(w, "  %s (%s):\n", n.Name, n.InjectionLabel)
			for _, m := range n.MissingProxy {
				fmt.Fprintf(w, "    %s %s (%s): %s\n", m.Kind, m.Name, plural(m.Pods, "pod"), m.Reason)
			}
		}
	}
	if len(blocked) > 0 {
		fmt.Fprintln(w, "\nNot ambient candidates (these need an L7 proxy, a waypoint in ambient mode):")
		for _, n := range blocked {
			fmt.Fprintf(w, "  %s:\n", n.Name)
			for _, b := range n.AmbientBlockers {
				fmt.Fprintf(w, "    - %s\n", b)
			}
		}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
