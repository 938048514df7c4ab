package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/accesslog"
	"github.com/meshpilot/meshpilot/source/kube"
	"github.com/meshpilot/meshpilot/source/prometheus"
	"github.com/meshpilot/meshpilot/source/rancher"
	"github.com/meshpilot/meshpilot/telemetry"
	"github.com/meshpilot/meshpilot/telemetry/fixture"
	"github.com/meshpilot/meshpilot/telemetry/render"
)

// Environment variables that carry Prometheus secrets: never flag values,
// which end up in shell history and process lists.
const (
	envPromToken    = "MESHPILOT_PROMETHEUS_TOKEN"
	envPromPassword = "MESHPILOT_PROMETHEUS_PASSWORD"
)

// trafficFlags say where traffic evidence comes from.
type trafficFlags struct {
	promURL, promTokenFile, promUser, promPasswordFile, promCAFile string
	promInsecure                                                   bool
	promMatch                                                      string
	window, resolution                                             string
	accessLogs                                                     []string
	// demo reads the demo mesh's embedded traffic.
	demo bool
}

func addTrafficFlags(fs *pflag.FlagSet, f *trafficFlags) {
	fs.StringVar(&f.promURL, "prometheus-url", "", "Prometheus with Istio's metrics: check configuration against observed traffic (MP6xxx)")
	fs.StringVar(&f.promTokenFile, "prometheus-token-file", "", "file holding a bearer token for Prometheus (or $"+envPromToken+")")
	fs.StringVar(&f.promUser, "prometheus-user", "", "basic-auth user for Prometheus; the password from $"+envPromPassword+" or --prometheus-password-file")
	fs.StringVar(&f.promPasswordFile, "prometheus-password-file", "", "file holding the basic-auth password")
	fs.StringVar(&f.promCAFile, "prometheus-ca-file", "", "CA bundle that signed Prometheus' certificate")
	fs.BoolVar(&f.promInsecure, "prometheus-insecure-skip-tls-verify", false, "do not verify Prometheus' certificate")
	fs.StringVar(&f.promMatch, "prometheus-match", "", `extra label matchers for every query, e.g. 'cluster="east"'`)
	fs.StringVar(&f.window, "window", "1d", "how far back to look at traffic (30m, 12h, 7d)")
	fs.StringVar(&f.resolution, "resolution", "", "step of the traffic profiles (default: window/96, at least 1m)")
	fs.StringSliceVar(&f.accessLogs, "access-log", nil, "Envoy access log file of a proxy, [NAMESPACE/WORKLOAD=]FILE (repeatable): traffic evidence without Prometheus")
}

func (f *trafficFlags) enabled() bool { return f.promURL != "" || len(f.accessLogs) > 0 || f.demo }

func (f *trafficFlags) check() error {
	n := 0
	for _, on := range []bool{f.promURL != "", len(f.accessLogs) > 0, f.demo} {
		if on {
			n++
		}
	}
	if n > 1 {
		return errors.New("give one source of traffic: --prometheus-url, --access-log or --demo")
	}
	if f.promURL == "" && (f.promTokenFile != "" || f.promUser != "" || f.promPasswordFile != "" || f.promCAFile != "" || f.promMatch != "" || f.promInsecure) {
		return errors.New("--prometheus-token-file, --prometheus-user, --prometheus-password-file, --prometheus-ca-file, --prometheus-match and --prometheus-insecure-skip-tls-verify need --prometheus-url")
	}
	if _, err := f.windowDuration(); err != nil {
		return err
	}
	if f.resolution != "" {
		if _, err := telemetry.ParseDuration(f.resolution); err != nil {
			return fmt.Errorf("--resolution: %w", err)
		}
	}
	for _, a := range f.accessLogs {
		if _, err := accesslog.ParseInput(a); err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
	}
	return nil
}

// windowDuration is --window, 1d when the command has no such flag.
func (f *trafficFlags) windowDuration() (time.Duration, error) {
	if f.window == "" {
		return 24 * time.Hour, nil
	}
	d, err := telemetry.ParseDuration(f.window)
	if err != nil {
		return 0, fmt.Errorf("--window: %w", err)
	}
	return d, nil
}

// windowStep gives --window and --resolution (0: the source's default),
// already checked by check.
func (f *trafficFlags) windowStep() (window, step time.Duration) {
	window, _ = f.windowDuration()
	if f.resolution != "" {
		step, _ = telemetry.ParseDuration(f.resolution)
	}
	return window, step
}

// promConfig builds the Prometheus client configuration, secrets from
// files or the environment.
func (f *trafficFlags) promConfig() (prometheus.Config, error) {
	c := prometheus.Config{URL: f.promURL, Username: f.promUser, CAFile: f.promCAFile, InsecureSkipVerify: f.promInsecure}
	var err error
	if c.BearerToken, err = readSecret("prometheus-token-file", f.promTokenFile, envPromToken); err != nil {
		return c, err
	}
	if f.promUser != "" {
		if c.Password, err = readSecret("prometheus-password-file", f.promPasswordFile, envPromPassword); err != nil {
			return c, err
		}
	}
	return c, nil
}

// read gathers the traffic evidence, or nil when none was asked for. A
// Prometheus that cannot be reached is a warning, not an error: analysis
// goes on without the traffic checks, saying so.
func (f *trafficFlags) read(ctx context.Context, s streams, snap *mesh.Snapshot, cluster string) (*telemetry.Graph, error) {
	if !f.enabled() {
		return nil, nil
	}
	win, step := f.windowStep()
	var g *telemetry.Graph
	var err error
	switch {
	case f.demo:
		g, err = fixture.Parse("demo/traffic.yaml", demo.Traffic)
	case f.promURL != "":
		conf, cerr := f.promConfig()
		if cerr != nil {
			return nil, &exitError{code: exitInput, err: cerr}
		}
		client, cerr := conf.Client()
		if cerr != nil {
			return nil, &exitError{code: exitInput, err: cerr}
		}
		g, err = prometheus.Read(ctx, client, prometheus.Options{Window: win, Step: step, Match: f.promMatch, Cluster: cluster, Source: conf.String()})
		if errors.Is(err, prometheus.ErrUnavailable) {
			fmt.Fprintf(s.err, "warning: no traffic evidence: %v\nwarning: analysis goes on without the checks against traffic (MP6xxx)\n", err)
			return nil, nil
		}
	default:
		var inputs []accesslog.Input
		for _, a := range f.accessLogs {
			in, _ := accesslog.ParseInput(a)
			inputs = append(inputs, in)
		}
		g, err = accesslog.Read(ctx, inputs, accesslog.Options{Cluster: cluster, Step: step, PodWorkload: podWorkload(snap), IPWorkload: ipWorkload(snap)})
		if err != nil {
			return nil, &exitError{code: exitInput, err: err}
		}
	}
	if err != nil {
		return nil, &exitError{code: exitInput, err: fmt.Errorf("read traffic: %w", err)}
	}
	for _, n := range g.Notices {
		fmt.Fprintf(s.err, "note: traffic: %s\n", n)
	}
	return g, nil
}

// workloadOfPod names a pod's workload as Istio does: its controller, with
// a ReplicaSet's hash taken off to give the Deployment.
func workloadOfPod(o *mesh.Object) string {
	for _, ref := range o.Meta.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			if ref.Kind == "ReplicaSet" {
				if i := strings.LastIndexByte(ref.Name, '-'); i > 0 {
					return ref.Name[:i]
				}
			}
			return ref.Name
		}
	}
	return o.Name()
}

func podWorkload(snap *mesh.Snapshot) func(ns, pod string) (telemetry.Workload, bool) {
	if snap == nil {
		return nil
	}
	return func(ns, pod string) (telemetry.Workload, bool) {
		for _, o := range snap.List(mesh.Pod) {
			if o.Name() == pod && (ns == "" || o.Namespace() == ns) && o.Meta != nil {
				return telemetry.Workload{Namespace: o.Namespace(), Name: workloadOfPod(o)}, true
			}
		}
		return telemetry.Workload{}, false
	}
}

func ipWorkload(snap *mesh.Snapshot) func(ip string) (telemetry.Workload, bool) {
	if snap == nil {
		return nil
	}
	byIP := map[string]telemetry.Workload{}
	for _, o := range snap.List(mesh.Pod) {
		if p, ok := o.Obj.(*corev1.Pod); ok && p != nil && p.Status.PodIP != "" && o.Meta != nil {
			byIP[p.Status.PodIP] = telemetry.Workload{Namespace: o.Namespace(), Name: workloadOfPod(o)}
		}
	}
	return func(ip string) (telemetry.Workload, bool) {
		w, ok := byIP[ip]
		return w, ok
	}
}

// projectOf names the Rancher project of a namespace from its
// field.cattle.io/projectId annotation.
func projectOf(snap *mesh.Snapshot) func(cluster, ns string) string {
	if snap == nil {
		return nil
	}
	return func(_, ns string) string {
		if n := snap.Namespace(ns); n != nil {
			return n.Annotations["field.cattle.io/projectId"]
		}
		return ""
	}
}

type trafficCmdFlags struct {
	traffic trafficFlags
	live    liveFlags
	output  string
	maxMiB  int64
}

func newTrafficCmd(s streams) *cobra.Command {
	f := &trafficCmdFlags{}
	cmd := &cobra.Command{
		Use:   "traffic [PATH...]",
		Short: "Show the observed traffic graph: success rate, volume, 4xx/5xx, latency per project, namespace and service",
		Long: "Reads Istio's metrics from Prometheus (or Envoy access logs) and prints what Rancher's Istio page shows, " +
			"per Rancher project, namespace and service, as a table, JSON, or a graph in DOT or SVG. " +
			"The mesh's objects — PATHs, a live cluster (--context), or Rancher's clusters (--rancher-url, with --cluster or --project to choose; " +
			"each cluster's traffic from its own rancher-monitoring, side by side) — " +
			"name the Rancher projects and map pods to workloads. " +
			"Success rates and durations are of the requests answered with neither a 5xx nor no response (code 0), as Kiali counts success.",
		Example: `  meshpilot traffic --prometheus-url http://127.0.0.1:9090 --window 7d
  meshpilot traffic --context prod-eu --prometheus-url https://prometheus.prod-eu.example.com
  MESHPILOT_RANCHER_TOKEN=token-abcde:... meshpilot traffic --rancher-url https://rancher.example.com --cluster prod-eu --rancher-monitoring
  meshpilot traffic --demo -o svg > mesh.svg
  meshpilot traffic --access-log shop/frontend=frontend.log -o dot | dot -Tpng > mesh.png`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTraffic(cmd.Context(), s, f, args)
		},
	}
	addTrafficFlags(cmd.Flags(), &f.traffic)
	addLiveFlags(cmd.Flags(), &f.live)
	cmd.Flags().BoolVar(&f.traffic.demo, "demo", false, "show the embedded demo mesh's traffic")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table|json|dot|svg")
	cmd.Flags().Int64Var(&f.maxMiB, "max-file-size", 128, "largest manifest file read, in MiB")
	return cmd
}

func runTraffic(ctx context.Context, s streams, f *trafficCmdFlags, paths []string) error {
	out := map[string]func(g *telemetry.Graph, o render.Options) error{
		"table": func(g *telemetry.Graph, o render.Options) error { return render.Table(s.out, g, o) },
		"json":  func(g *telemetry.Graph, o render.Options) error { return render.JSON(s.out, g, o) },
		"dot":   func(g *telemetry.Graph, o render.Options) error { return render.DOT(s.out, g, o) },
		"svg":   func(g *telemetry.Graph, o render.Options) error { return render.SVG(s.out, g, o) },
	}[f.output]
	if out == nil {
		return &exitError{code: exitInput, err: fmt.Errorf("unknown output format %q (want table, json, dot or svg)", f.output)}
	}
	if err := f.traffic.check(); err != nil {
		return &exitError{code: exitInput, err: err}
	}
	if err := f.live.check(paths, f.traffic.demo); err != nil {
		return &exitError{code: exitInput, err: err}
	}
	if !f.traffic.enabled() && !f.live.rancherMonitoring {
		return &exitError{code: exitInput, err: errors.New("no traffic source: give --prometheus-url, --access-log, --rancher-monitoring or --demo")}
	}
	view, err := trafficMesh(ctx, s, f, paths)
	if err != nil {
		return err
	}
	var g *telemetry.Graph
	if view.traffic != nil {
		g, err = view.traffic(view.snap)
		if err != nil {
			return err
		}
	}
	if g == nil {
		return &exitError{code: exitInput, err: errors.New("no traffic evidence could be read (see above)")}
	}
	title := "meshpilot traffic: " + g.Source
	if err := out(g, render.Options{ProjectOf: view.projectOf, Title: title}); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if view.failed > 0 {
		return &exitError{code: exitInput, err: fmt.Errorf("%d of %d clusters could not be read (see above); the rest was shown", view.failed, view.clusters)}
	}
	return nil
}

func newRecommendCmd(s streams) *cobra.Command {
	f := &analyzeFlags{}
	cmd := &cobra.Command{
		Use:   "recommend [PATH...]",
		Short: "Derive timeouts, retries, outlier detection and connection pools from observed traffic, as fixes with diffs",
		Long: "Runs the traffic checks and recommendations (MP6xxx) over the mesh's manifests and its observed traffic, " +
			"and shows each recommended setting with its evidence, expected effect and a YAML diff. " +
			"Nothing is written: apply a recommendation with 'meshpilot fix --only MP6101 PATH...'. " +
			"The formulas are on each code: 'meshpilot explain MP6101'.",
		Example: `  meshpilot recommend --prometheus-url http://prometheus.monitoring:9090 --window 7d ./gitops/
  meshpilot recommend --demo`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.traffic.check(); err != nil {
				return &exitError{code: exitInput, err: err}
			}
			f.traffic.demo = f.demo
			if !f.traffic.enabled() {
				return &exitError{code: exitInput, err: errors.New("no traffic source: give --prometheus-url, --access-log or --demo")}
			}
			if len(f.only) == 0 {
				f.only = []string{"traffic.Recommend"}
			}
			if f.output != "text" && !cmd.Flags().Changed("diff") {
				f.diff = false // diffs are for people; JSON and SARIF carry the edits
			}
			return runAnalyze(cmd.Context(), s, f, args)
		},
	}
	addAnalyzeFlags(cmd.Flags(), f)
	addTrafficFlags(cmd.Flags(), &f.traffic)
	f.diff = true
	cmd.Flags().Lookup("diff").DefValue = "true"
	f.failOn = "none"
	cmd.Flags().Lookup("fail-on").DefValue = "none"
	return cmd
}

// trafficReader reads one cluster's observed traffic, given its snapshot.
type trafficReader func(*mesh.Snapshot) (*telemetry.Graph, error)

// asExitError keeps an exitError as it is and makes anything else an
// internal error.
func asExitError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitInternal, err: err}
}

// rancherTraffic reads a Rancher cluster's traffic: from --prometheus-url
// or --access-log when given (one source for every cluster), else, with
// --rancher-monitoring, from rancher-monitoring's Prometheus of that
// cluster through Rancher's service proxy, with the Rancher token. A
// cluster whose Prometheus cannot be read is analyzed without traffic,
// with a message saying why — naming the missing permission when Rancher
// refuses the proxy.
func rancherTraffic(ctx context.Context, s streams, lf *liveFlags, tf *trafficFlags, c rancher.Cluster) (trafficReader, error) {
	if tf.enabled() {
		return func(snap *mesh.Snapshot) (*telemetry.Graph, error) { return tf.read(ctx, s, snap, c.Name) }, nil
	}
	if !lf.rancherMonitoring {
		return nil, nil
	}
	token, err := readRancherToken(lf)
	if err != nil {
		return nil, &exitError{code: exitInput, err: err}
	}
	conf := prometheus.Config{URL: prometheus.RancherURL(lf.rancherURL, c.ID), BearerToken: token, CAFile: lf.rancherCAFile, InsecureSkipVerify: lf.insecure, GetOnly: true}
	return func(*mesh.Snapshot) (*telemetry.Graph, error) {
		client, err := conf.Client()
		if err != nil {
			return nil, &exitError{code: exitInput, err: err}
		}
		win, step := tf.windowStep()
		g, err := prometheus.Read(ctx, client, prometheus.Options{Window: win, Step: step, Cluster: c.Name, Source: "rancher-monitoring of " + c.Name})
		if err != nil {
			why := err.Error()
			if strings.Contains(why, "403") {
				why = "Rancher refused the service proxy: the identity needs 'get' on 'services/proxy' in cattle-monitoring-system of that cluster (" + why + ")"
			} else if strings.Contains(why, "404") || strings.Contains(why, "503") {
				why = "rancher-monitoring's Prometheus is not there: is the Monitoring app installed? (" + why + ")"
			}
			fmt.Fprintf(s.err, "warning: cluster %s: no traffic evidence: %s\nwarning: cluster %s is analyzed without the checks against traffic (MP6xxx)\n", c.Name, why, c.Name)
			return nil, nil
		}
		for _, n := range g.Notices {
			fmt.Fprintf(s.err, "note: cluster %s: traffic: %s\n", c.Name, n)
		}
		return g, nil
	}, nil
}

// trafficView is what `meshpilot traffic` knows of the mesh besides its
// traffic: objects (for pods and workloads), projects, and the reader.
type trafficView struct {
	snap      *mesh.Snapshot
	projectOf func(cluster, namespace string) string
	traffic   trafficReader
	// failed counts the clusters that could not be read, of clusters.
	failed, clusters int
}

// trafficMesh reads the mesh's objects from PATHs, the demo, a kubeconfig
// context or Rancher's clusters, and sets up the traffic reader for them.
func trafficMesh(ctx context.Context, s streams, f *trafficCmdFlags, paths []string) (*trafficView, error) {
	tf := &f.traffic
	plain := func(snap *mesh.Snapshot, cluster string) trafficReader {
		return func(*mesh.Snapshot) (*telemetry.Graph, error) { return tf.read(ctx, s, snap, cluster) }
	}
	switch {
	case f.live.rancherURL != "":
		return rancherTrafficView(ctx, s, f)
	case f.live.kubeEnabled():
		cfg, name, err := kube.Target{Kubeconfig: f.live.kubeconfig, Context: f.live.kubeContext, ClusterName: f.live.clusterName}.Config()
		if err != nil {
			return nil, &exitError{code: exitInput, err: err}
		}
		res, err := kube.Load(ctx, cfg, kube.Options{Cluster: name})
		if err != nil {
			return nil, &exitError{code: exitInput, err: err}
		}
		snap := res.Snapshot(mesh.Options{})
		return &trafficView{snap: snap, projectOf: projectOf(snap), traffic: plain(snap, name)}, nil
	case len(paths) > 0 || tf.demo:
		res, err := loadInputs(ctx, s, paths, tf.demo, f.maxMiB)
		if err != nil {
			return nil, err
		}
		snap := res.Snapshot(mesh.Options{})
		return &trafficView{snap: snap, projectOf: projectOf(snap), traffic: plain(snap, "")}, nil
	}
	return &trafficView{traffic: plain(nil, "")}, nil
}

// rancherTrafficView reads the clusters --cluster names (every cluster the
// token sees without it; with --project, that project's) and sets up a
// reader of their traffic, each cluster's own, side by side in one graph
// (telemetry.Join). A cluster that cannot be read is an error message and
// counted in failed; the others are shown. With --project, only the
// services of the project's namespaces are.
func rancherTrafficView(ctx context.Context, s streams, f *trafficCmdFlags) (*trafficView, error) {
	lf, tf := &f.live, &f.traffic
	read, project, err := readRancher(ctx, lf, func(clusters []string) error {
		if tf.enabled() && len(clusters) != 1 {
			return errors.New("--prometheus-url and --access-log hold one cluster's traffic: give exactly one --cluster, or read each cluster's own with --rancher-monitoring")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	type cluster struct {
		rancher.Cluster
		snap    *mesh.Snapshot
		traffic trafficReader
	}
	var cs []cluster
	view := &trafficView{clusters: len(read.Clusters)}
	for _, cr := range read.Clusters {
		if cr.Err != nil {
			view.failed++
			fmt.Fprintf(s.err, "error: %v (the other clusters are still shown)\n", cr.Err)
			continue
		}
		snap := cr.Result.Snapshot(mesh.Options{})
		traffic, err := rancherTraffic(ctx, s, lf, tf, cr.Cluster)
		if err != nil {
			return nil, err
		}
		cs = append(cs, cluster{cr.Cluster, snap, traffic})
	}
	if len(cs) == 0 {
		return nil, &exitError{code: exitInput, err: fmt.Errorf("none of the %d clusters could be read (see above)", len(read.Clusters))}
	}
	// projectIn is the Rancher project of a cluster's namespace.
	projectIn := func(cluster, ns string) (rancher.Project, bool) {
		for _, c := range cs {
			if c.Name == cluster {
				return read.ProjectOf(c.ID, c.snap.Get(mesh.Namespace, "", ns))
			}
		}
		return rancher.Project{}, false
	}
	view.projectOf = func(cluster, ns string) string {
		p, _ := projectIn(cluster, ns)
		return p.Name
	}
	inScope := func(svc telemetry.Service) bool {
		p, ok := projectIn(svc.Cluster, svc.Namespace)
		return ok && p.ID == project.ID
	}
	// Each cluster's Prometheus in turn, as analyze reads them: a graph
	// takes its server's cores, and the messages stay in order.
	view.traffic = func(*mesh.Snapshot) (*telemetry.Graph, error) {
		var parts []telemetry.Part
		var names []string
		for _, c := range cs {
			if c.traffic == nil {
				continue
			}
			g, err := c.traffic(c.snap)
			if err != nil {
				return nil, err
			}
			if g == nil {
				continue // said why
			}
			if project != nil {
				g.Edges = slices.DeleteFunc(g.Edges, func(e *telemetry.Edge) bool { return !inScope(e.Service) })
			}
			parts = append(parts, telemetry.Part{Cluster: c.Name, Graph: g})
			names = append(names, c.Name)
		}
		switch len(parts) {
		case 0:
			return nil, nil
		case 1:
			return parts[0].Graph, nil
		}
		return telemetry.Join("rancher-monitoring of "+strings.Join(names, ", "), parts...), nil
	}
	return view, nil
}
