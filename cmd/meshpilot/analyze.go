package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/analyzers/guardrail"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/report"
	"github.com/meshpilot/meshpilot/source/files"
)

type analyzeFlags struct {
	output       string
	meshConfig   string
	meshNetworks string
	only, skip   []string
	namespace    string
	allNS        bool
	failOn       string
	maxFileMiB   int64
	color        string
	demo         bool
	policy       string
	diff         bool
	// then, when set, receives the analysis instead of the report being
	// written (the fix command).
	then    func(context.Context, *analyzed) error
	live    liveFlags
	traffic trafficFlags
}

func newAnalyzeCmd(s streams) *cobra.Command {
	f := &analyzeFlags{}
	cmd := &cobra.Command{
		Use:   "analyze [PATH...]",
		Short: "Analyze Istio configuration in files and folders (- for stdin), or live clusters",
		Long: `Analyze reads YAML and JSON manifests (files, folders recursively, - for stdin;
multi-document YAML, kind: List, helm template and kustomize build output) and
reports every finding: istioctl analyze's IST codes and meshpilot's own.

With --context, --kubeconfig or --use-kube it reads a live cluster instead,
through its API server (read-only; Secrets as metadata only). With
--rancher-url it reads every cluster Rancher manages (or --cluster, --project)
through Rancher's Kubernetes proxy, in parallel, and groups findings by
cluster, project and namespace; the token comes from $MESHPILOT_RANCHER_TOKEN
or --rancher-token-file.

Exit codes: 0 nothing at or above --fail-on; 3 findings at or above it;
2 bad input or usage, or a cluster that could not be read (the valid rest is
still analyzed and reported; 2 wins over 3); 1 internal error.`,
		Example: `  meshpilot analyze ./gitops/
  helm template istio/base | meshpilot analyze -o json -
  meshpilot analyze --context prod-eu -A
  MESHPILOT_RANCHER_TOKEN=token-abcde:... meshpilot analyze --rancher-url https://rancher.example.com --project Default
  meshpilot analyze --demo`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd.Context(), s, f, args)
		},
	}
	addAnalyzeFlags(cmd.Flags(), f)
	addLiveFlags(cmd.Flags(), &f.live)
	addTrafficFlags(cmd.Flags(), &f.traffic)
	return cmd
}

func newDemoCmd(s streams) *cobra.Command {
	f := &analyzeFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Analyze the embedded demo mesh (same as analyze --demo)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.demo = true
			return runAnalyze(cmd.Context(), s, f, nil)
		},
	}
	addAnalyzeFlags(cmd.Flags(), f)
	cmd.Flags().Lookup("demo").Hidden = true
	// A showcase exits 0 whatever it finds, unless asked otherwise.
	cmd.Flags().Lookup("fail-on").DefValue = "none"
	_ = cmd.Flags().Set("fail-on", "none")
	return cmd
}

func addAnalyzeFlags(fs *pflag.FlagSet, f *analyzeFlags) {
	fs.StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(report.Formats, "|"))
	fs.StringVar(&f.meshConfig, "mesh-config", "", "MeshConfig file (as istioctl's --meshConfigFile)")
	fs.StringVar(&f.meshConfig, "meshConfigFile", "", "alias of --mesh-config")
	fs.StringVar(&f.meshNetworks, "mesh-networks", "", "MeshNetworks file")
	fs.StringSliceVar(&f.only, "only", nil, "run only these analyzers or codes (comma-separated)")
	fs.StringSliceVar(&f.skip, "skip", nil, "skip these analyzers or codes (comma-separated)")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "report only findings in this namespace")
	fs.BoolVarP(&f.allNS, "all-namespaces", "A", false, "report findings in every namespace (the default for files)")
	fs.StringVar(&f.failOn, "fail-on", "error", "exit 3 when a finding is at or above this level: info|warning|error|none")
	fs.Int64Var(&f.maxFileMiB, "max-file-size", files.DefaultMaxFileSize>>20, "largest input file read, in MiB")
	fs.StringVar(&f.color, "color", "auto", "colour text output: auto|always|never")
	fs.BoolVar(&f.demo, "demo", false, "analyze the embedded demo mesh instead of PATHs")
	fs.BoolVar(&f.diff, "diff", false, "after the report, show each finding's first fix as a unified diff of its file (nothing is written)")
	fs.StringVar(&f.policy, "policy", "", "GuardrailPolicy file: report what breaks its limits and rules, and withhold fixes that would")
}

func runAnalyze(ctx context.Context, s streams, f *analyzeFlags, paths []string) error {
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return &exitError{code: exitInput, err: err}
	}
	if !contains(report.Formats, f.output) && f.output != "md" {
		return &exitError{code: exitInput, err: fmt.Errorf("unknown output format %q (want %s)", f.output, strings.Join(report.Formats, ", "))}
	}
	if f.diff && f.output != "text" {
		return &exitError{code: exitInput, err: errors.New("--diff needs text output (-o text)")}
	}
	if f.namespace != "" && f.allNS {
		return &exitError{code: exitInput, err: errors.New("--namespace and --all-namespaces are mutually exclusive")}
	}
	sel, policy, err := selectAnalyzers(s, f.policy, f.only, f.skip)
	if err != nil {
		return err
	}
	if err := f.live.check(paths, f.demo); err != nil {
		return &exitError{code: exitInput, err: err}
	}
	if err := f.traffic.check(); err != nil {
		return &exitError{code: exitInput, err: err}
	}
	if f.live.enabled() {
		if f.then != nil || f.diff {
			return &exitError{code: exitInput, err: errors.New("fixes of a live cluster are not applied in place: analyze the GitOps files that produce it")}
		}
		return runLive(ctx, s, f, sel, failOn)
	}
	tm := newTimings(s.err)
	res, err := loadInputs(ctx, s, paths, f.demo, f.maxFileMiB)
	if err != nil {
		return err
	}
	tm.mark("load")
	problems := append([]files.Problem{}, res.Problems...)
	meshOpts := mesh.Options{}
	if f.meshConfig != "" {
		mc, probs, err := files.ReadMeshConfig(f.meshConfig)
		if err != nil {
			problems = append(problems, files.Problem{File: f.meshConfig, Msg: err.Error()})
		} else {
			meshOpts.MeshConfig = mc
			problems = append(problems, probs...)
		}
	}
	if f.meshNetworks != "" {
		mn, probs, err := files.ReadMeshNetworks(f.meshNetworks)
		if err != nil {
			problems = append(problems, files.Problem{File: f.meshNetworks, Msg: err.Error()})
		} else {
			meshOpts.MeshNetworks = mn
			problems = append(problems, probs...)
		}
	}
	snap := res.Snapshot(meshOpts)
	runOpts := analysis.Options{}
	if f.namespace != "" {
		runOpts.Namespaces = []string{f.namespace}
	}
	if runOpts.Telemetry, err = f.traffic.read(ctx, s, snap, ""); err != nil {
		return err
	}
	findings, err := analysis.Run(ctx, snap, sel, runOpts)
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	guardrail.FilterFixes(policy, snap, findings)
	tm.mark("analyze")
	rep := &report.Report{Findings: findings, Version: version, Rules: map[string]*analysis.Code{}}
	for _, c := range codes.All() {
		rep.Rules[c.ID] = c
	}
	for _, p := range problems {
		rep.InputErrors = append(rep.InputErrors, report.InputError{File: p.File, Line: p.Line, Field: p.Field, Message: p.Msg})
	}
	rep.Summary = report.Summary{Files: res.Files, Documents: res.Documents, Objects: len(res.Objects),
		InputErrors: len(problems), Unmodeled: res.Unmodeled, Analyzers: len(sel.Analyzers)}
	report.Summarize(&rep.Summary, findings)

	for _, p := range problems {
		fmt.Fprintf(s.err, "error: %s\n", p.Error())
	}
	for _, n := range res.Notices {
		fmt.Fprintf(s.err, "note: %s\n", n.Error())
	}
	if len(res.Unmodeled) > 0 {
		fmt.Fprintf(s.err, "note: skipped %s\n", describeUnmodeled(res.Unmodeled))
	}
	if f.then != nil {
		return f.then(ctx, &analyzed{snap: snap, findings: findings, problems: len(problems), read: sourceReader(f.demo)})
	}
	if err := report.Write(s.out, f.output, rep, report.Options{Color: useColor(f.color, s.out)}); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if f.diff {
		writeFixDiffs(s.out, &analyzed{snap: snap, findings: findings, read: sourceReader(f.demo)})
	}
	tm.mark("report")
	if len(problems) > 0 {
		return &exitError{code: exitInput, err: fmt.Errorf("%d input errors (see above); the rest was analyzed", len(problems))}
	}
	if failOn > 0 {
		for _, fd := range findings {
			if fd.Level >= failOn {
				return &exitError{code: exitFindings}
			}
		}
	}
	return nil
}

// runLive analyzes live clusters and reports as runAnalyze does for files.
func runLive(ctx context.Context, s streams, f *analyzeFlags, sel *analysis.Selection, failOn analysis.Level) error {
	meshOpts := mesh.Options{}
	if f.meshConfig != "" || f.meshNetworks != "" {
		return &exitError{code: exitInput, err: errors.New("--mesh-config and --mesh-networks are for files: a live cluster's come from its istio ConfigMap")}
	}
	var out *liveOutcome
	var err error
	if f.live.rancherURL != "" {
		out, err = analyzeRancher(ctx, s, &f.live, &f.traffic, sel, f.namespace, meshOpts)
	} else {
		out, err = analyzeKube(ctx, s, &f.live, &f.traffic, sel, f.namespace, meshOpts)
	}
	if err != nil {
		return err
	}
	rep := &report.Report{Findings: out.findings, Version: version, Rules: map[string]*analysis.Code{}, ClusterErrors: out.clusterErrors}
	for _, c := range codes.All() {
		rep.Rules[c.ID] = c
	}
	for _, p := range out.problems {
		rep.InputErrors = append(rep.InputErrors, report.InputError{File: p.File, Line: p.Line, Field: p.Field, Message: p.Msg})
		fmt.Fprintf(s.err, "error: %s\n", p.Error())
	}
	rep.Summary = report.Summary{Objects: out.objects, Clusters: out.clusters, InputErrors: len(out.problems), Analyzers: len(sel.Analyzers)}
	report.Summarize(&rep.Summary, out.findings)
	if err := report.Write(s.out, f.output, rep, report.Options{Color: useColor(f.color, s.out)}); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	switch {
	case len(out.clusterErrors) > 0:
		return &exitError{code: exitInput, err: fmt.Errorf("%d of %d clusters could not be analyzed (see above); the rest was", len(out.clusterErrors), len(out.clusterErrors)+out.clusters)}
	case len(out.problems) > 0:
		return &exitError{code: exitInput, err: fmt.Errorf("%d objects could not be decoded (see above); the rest was analyzed", len(out.problems))}
	}
	if failOn > 0 {
		for _, fd := range out.findings {
			if fd.Level >= failOn {
				return &exitError{code: exitFindings}
			}
		}
	}
	return nil
}

func parseFailOn(s string) (analysis.Level, error) {
	if strings.EqualFold(s, "none") || strings.EqualFold(s, "never") {
		return 0, nil
	}
	l, err := analysis.ParseLevel(s)
	if err != nil {
		return 0, fmt.Errorf("--fail-on: %w", err)
	}
	return l, nil
}

func describeUnmodeled(m map[string]int) string {
	keys := make([]string, 0, len(m))
	total := 0
	for k, n := range m {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, m[k])
	}
	return fmt.Sprintf("%d objects of kinds meshpilot does not model: %s", total, strings.Join(parts, ", "))
}

func useColor(mode string, w any) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
