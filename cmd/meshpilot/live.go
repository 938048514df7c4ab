package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/report"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/source/kube"
	"github.com/meshpilot/meshpilot/source/rancher"
	"github.com/meshpilot/meshpilot/telemetry"
)

// rancherTokenEnv holds the Rancher API token: never a flag value, which
// process listings would show.
const rancherTokenEnv = "MESHPILOT_RANCHER_TOKEN"

// liveFlags choose a live source: one cluster through a kubeconfig, or many
// through Rancher.
type liveFlags struct {
	useKube     bool
	kubeconfig  string
	kubeContext string
	clusterName string

	rancherURL       string
	rancherTokenFile string
	rancherCAFile    string
	insecure         bool
	// rancherMonitoring reads each cluster's traffic from
	// rancher-monitoring's Prometheus through Rancher.
	rancherMonitoring bool
	clusters          []string
	project           string
	maxClusters       int
	clusterTimeout    time.Duration
}

func addLiveFlags(fs *pflag.FlagSet, f *liveFlags) {
	fs.BoolVar(&f.useKube, "use-kube", false, "analyze the live cluster of the current kubeconfig context (implied by --context and --kubeconfig)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&f.kubeContext, "context", "", "kubeconfig context of the cluster to analyze")
	fs.StringVar(&f.clusterName, "cluster-name", "", "name the cluster goes by in findings (default the context's name)")
	fs.StringVar(&f.rancherURL, "rancher-url", "", "Rancher server URL: analyze its clusters through its Kubernetes proxy (token in $"+rancherTokenEnv+" or --rancher-token-file)")
	fs.StringVar(&f.rancherTokenFile, "rancher-token-file", "", "file holding the Rancher API token (token-xxxxx:secret)")
	fs.StringVar(&f.rancherCAFile, "rancher-ca-file", "", "PEM file of the CA that signed Rancher's certificate (default the system roots)")
	fs.BoolVar(&f.insecure, "insecure-skip-tls-verify", false, "do not verify Rancher's certificate (testing only)")
	fs.BoolVar(&f.rancherMonitoring, "rancher-monitoring", false, "with --rancher-url: read each cluster's traffic from rancher-monitoring's Prometheus through Rancher (needs get services/proxy in cattle-monitoring-system)")
	fs.StringSliceVar(&f.clusters, "cluster", nil, "with --rancher-url: analyze only these clusters (id or name; repeatable)")
	fs.StringVar(&f.project, "project", "", "with --rancher-url: report only the namespaces of this Rancher project (id c-xxxxx:p-xxxxx or name)")
	fs.IntVar(&f.maxClusters, "max-clusters", 4, "with --rancher-url: clusters read at once")
	fs.DurationVar(&f.clusterTimeout, "cluster-timeout", 2*time.Minute, "with --rancher-url: time allowed to read each cluster")
}

func (f *liveFlags) kubeEnabled() bool {
	return f.useKube || f.kubeconfig != "" || f.kubeContext != ""
}

func (f *liveFlags) enabled() bool { return f.kubeEnabled() || f.rancherURL != "" }

// check rejects flag combinations that make no sense.
func (f *liveFlags) check(paths []string, demo bool) error {
	switch {
	case f.rancherURL != "" && f.kubeEnabled():
		return errors.New("--rancher-url reads clusters through Rancher: it takes no --context, --kubeconfig or --use-kube")
	case f.rancherURL == "" && (len(f.clusters) > 0 || f.project != "" || f.rancherTokenFile != "" || f.rancherCAFile != "" || f.rancherMonitoring):
		return errors.New("--cluster, --project, --rancher-token-file, --rancher-ca-file and --rancher-monitoring need --rancher-url")
	case f.enabled() && (len(paths) > 0 || demo):
		return errors.New("a live cluster and PATHs (or --demo) cannot be analyzed together yet: analyze them in two runs")
	case f.rancherURL != "" && f.maxClusters < 1:
		return errors.New("--max-clusters must be at least 1")
	}
	return nil
}

// liveOutcome is what analyzing live clusters produced, for the report.
type liveOutcome struct {
	findings      []analysis.Finding
	problems      []files.Problem
	clusterErrors []report.ClusterError
	objects       int
	clusters      int
}

// clusterAnalysis analyzes one cluster's objects and warns, once, about the
// kinds it could not list and the checks that lost precision for it.
//
// traffic, when set, reads the cluster's observed traffic for the checks
// against it; it is given the cluster's snapshot (to map pods to workloads).
func clusterAnalysis(ctx context.Context, w io.Writer, res *kube.Result, sel *analysis.Selection, namespaces []string, meshOpts mesh.Options, traffic trafficReader) ([]analysis.Finding, *mesh.Snapshot, error) {
	snap := res.Snapshot(meshOpts)
	prec := newPrecision(res)
	opts := analysis.Options{Namespaces: namespaces, Reads: prec.reads()}
	if traffic != nil {
		g, err := traffic(snap)
		if err != nil {
			return nil, nil, err
		}
		opts.Telemetry = g
	}
	findings, err := analysis.Run(ctx, snap, sel, opts)
	if err != nil {
		return nil, nil, err
	}
	prec.warn(w, res.Cluster, sel)
	clusterNotes(w, res)
	return findings, snap, nil
}

// precision follows, during one analysis, which analyzers read kinds a
// cluster read lost.
type precision struct {
	lost     []kube.Skipped
	kinds    map[mesh.GroupKind]bool
	affected map[string]bool
}

func newPrecision(res *kube.Result) *precision {
	p := &precision{lost: res.Lost(), kinds: map[mesh.GroupKind]bool{}, affected: map[string]bool{}}
	for _, s := range p.lost {
		p.kinds[s.Kind] = true
	}
	return p
}

// reads is the analysis.Options.Reads callback, nil when nothing was lost.
func (p *precision) reads() func(*analysis.Analyzer, []mesh.GroupKind) {
	if len(p.lost) == 0 {
		return nil
	}
	return func(a *analysis.Analyzer, kinds []mesh.GroupKind) {
		for _, k := range kinds {
			if p.kinds[k] {
				p.affected[a.Name] = true
			}
		}
	}
}

func (p *precision) warn(w io.Writer, cluster string, sel *analysis.Selection) {
	if len(p.lost) > 0 {
		warnLost(w, cluster, p.lost, p.affected, sel)
	}
}

// clusterNotes says what is worth knowing of a read: fields meshpilot's API
// types do not know, and an Istio not found.
func clusterNotes(w io.Writer, res *kube.Result) {
	for _, n := range res.Notices {
		fmt.Fprintf(w, "note: %s\n", n.Error())
	}
	if !res.IstioCRDs {
		fmt.Fprintf(w, "note: cluster %s: Istio's CRDs are not installed (networking.istio.io is not served)\n", res.Cluster)
	} else if res.Istiod == "" {
		fmt.Fprintf(w, "note: cluster %s: Istio's CRDs are installed but no istiod Deployment was found\n", res.Cluster)
	}
}

// warnLost is the one warning a partial read deserves: what was skipped,
// why, and which checks lost precision.
func warnLost(w io.Writer, cluster string, lost []kube.Skipped, affected map[string]bool, sel *analysis.Selection) {
	var what []string
	for _, s := range lost {
		e := s.Resource
		if s.Namespace != "" {
			e += " in " + s.Namespace
		}
		e += " (" + string(s.Reason) + ")"
		what = append(what, e)
	}
	var checks []string
	for _, a := range sel.Analyzers {
		if !affected[a.Name] {
			continue
		}
		ids := make([]string, len(a.Codes))
		for i, c := range a.Codes {
			ids[i] = c.ID
		}
		checks = append(checks, fmt.Sprintf("%s (%s)", a.Name, strings.Join(ids, ", ")))
	}
	if len(checks) == 0 {
		checks = []string{"none of the selected checks read these kinds"}
	}
	fmt.Fprintf(w, "warning: cluster %s: not read, so not analyzed: %s. Checks that lost precision: %s. Grant get/list/watch on these resources (see deploy/helm/meshpilot for a read-only ClusterRole).\n",
		cluster, strings.Join(what, ", "), strings.Join(checks, "; "))
	for _, l := range lost {
		if l.Reason == kube.Failed && l.Detail != "" {
			fmt.Fprintf(w, "  first failure: %s\n", l.Detail)
			break
		}
	}
}

// analyzeKube reads and analyzes the cluster of a kubeconfig context.
func analyzeKube(ctx context.Context, s streams, lf *liveFlags, tf *trafficFlags, sel *analysis.Selection, namespace string, meshOpts mesh.Options) (*liveOutcome, error) {
	cfg, name, err := kube.Target{Kubeconfig: lf.kubeconfig, Context: lf.kubeContext, ClusterName: lf.clusterName}.Config()
	if err != nil {
		return nil, &exitError{code: exitInput, err: err}
	}
	kopts := kube.Options{Cluster: name}
	var namespaces []string
	if namespace != "" {
		kopts.Namespaces = []string{namespace}
		namespaces = []string{namespace}
	}
	res, err := kube.Load(ctx, cfg, kopts)
	if err != nil {
		return nil, &exitError{code: exitInternal, err: err}
	}
	var traffic trafficReader
	if tf.enabled() {
		traffic = func(snap *mesh.Snapshot) (*telemetry.Graph, error) { return tf.read(ctx, s, snap, res.Cluster) }
	}
	findings, _, err := clusterAnalysis(ctx, s.err, res, sel, namespaces, meshOpts, traffic)
	if err != nil {
		return nil, asExitError(err)
	}
	return &liveOutcome{findings: findings, problems: res.Problems, objects: len(res.Objects), clusters: 1}, nil
}

// readRancherToken reads the Rancher token from its file or the environment.
func readRancherToken(lf *liveFlags) (string, error) {
	token, err := readSecret("rancher-token-file", lf.rancherTokenFile, rancherTokenEnv)
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", fmt.Errorf("no Rancher token: set $%s or --rancher-token-file (a flag value would show in process listings)", rancherTokenEnv)
	}
	return token, nil
}

// readSecret reads a secret from the file a --flag names or from an
// environment variable — never from a flag's value, which process listings
// and shell history show. Both set is an error, as is an empty file; neither
// gives "".
func readSecret(flag, file, env string) (string, error) {
	fromEnv := os.Getenv(env)
	if file == "" {
		return fromEnv, nil
	}
	if fromEnv != "" {
		return "", fmt.Errorf("both $%s and --%s are set: use one", env, flag)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("--%s %s is empty", flag, file)
	}
	return secret, nil
}

// rancherClient builds a client from the flags and the token's source.
func rancherClient(lf *liveFlags) (*rancher.Client, error) {
	token, err := readRancherToken(lf)
	if err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: lf.insecure} //nolint:gosec // opt-in flag for test servers
	if lf.rancherCAFile != "" {
		pem, err := os.ReadFile(lf.rancherCAFile)
		if err != nil {
			return nil, fmt.Errorf("--rancher-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--rancher-ca-file %s: no PEM certificate in it", lf.rancherCAFile)
		}
		tlsCfg.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsCfg
	return rancher.New(rancher.Config{URL: lf.rancherURL, Token: rancher.Secret(token), HTTPClient: &http.Client{Transport: transport}})
}

// readRancher reads the clusters --cluster names through Rancher (every
// cluster the token sees without it; with --project, the project's, which
// it returns). check, when set, vets the clusters asked for before any is
// read. Errors are exitErrors: a refused token or an unknown cluster is
// the input's fault.
func readRancher(ctx context.Context, lf *liveFlags, check func(clusters []string) error) (*rancher.Read, *rancher.Project, error) {
	c, err := rancherClient(lf)
	if err != nil {
		return nil, nil, &exitError{code: exitInput, err: err}
	}
	clusters := lf.clusters
	var project *rancher.Project
	if lf.project != "" {
		p, err := c.ResolveProject(ctx, lf.project)
		if err != nil {
			return nil, nil, &exitError{code: exitInput, err: err}
		}
		project = &p
		if len(clusters) == 0 {
			clusters = []string{p.ClusterID}
		}
		in := false
		for _, idOrName := range clusters {
			cl, err := c.ResolveCluster(ctx, idOrName)
			if err != nil {
				return nil, nil, &exitError{code: exitInput, err: err}
			}
			in = in || cl.ID == p.ClusterID
		}
		if !in {
			return nil, nil, &exitError{code: exitInput, err: fmt.Errorf("--project %s is in cluster %s, which --cluster leaves out: nothing would be in scope", p.Name, p.ClusterID)}
		}
	}
	if check != nil {
		if err := check(clusters); err != nil {
			return nil, nil, &exitError{code: exitInput, err: err}
		}
	}
	read, err := c.Read(ctx, rancher.ReadOptions{Clusters: clusters, Parallelism: lf.maxClusters, Timeout: lf.clusterTimeout})
	if err != nil {
		code := exitInternal
		if errors.Is(err, rancher.ErrUnauthorized) || errors.Is(err, rancher.ErrForbidden) ||
			errors.Is(err, rancher.ErrNotFound) || errors.Is(err, rancher.ErrAmbiguous) {
			code = exitInput
		}
		return nil, nil, &exitError{code: code, err: err}
	}
	return read, project, nil
}

// analyzeRancher reads every cluster (or those asked for) through Rancher,
// analyzes each, then runs the cross-cluster checks over the clusters of
// each mesh merged.
func analyzeRancher(ctx context.Context, s streams, lf *liveFlags, tf *trafficFlags, sel *analysis.Selection, namespace string, meshOpts mesh.Options) (*liveOutcome, error) {
	read, onlyProject, err := readRancher(ctx, lf, nil)
	if err != nil {
		return nil, err
	}
	out := &liveOutcome{}
	// The clusters of one mesh: istiod runs in them, with one trust domain.
	meshes := map[string][]*mesh.Object{}
	meshClusters := map[string][]string{}
	projectOf := map[[2]string]rancher.Project{} // cluster name, namespace → project
	for _, cr := range read.Clusters {
		if cr.Err != nil {
			out.clusterErrors = append(out.clusterErrors, report.ClusterError{Cluster: cr.Cluster.Name, Message: cr.Err.Error()})
			fmt.Fprintf(s.err, "error: %v (the other clusters are still analyzed)\n", cr.Err)
			continue
		}
		out.clusters++
		res := cr.Result
		out.objects += len(res.Objects)
		out.problems = append(out.problems, res.Problems...)
		// Namespaces in scope: -n, and with --project the project's own.
		var namespaces []string
		for _, o := range res.Objects {
			if o.GroupKind != mesh.Namespace {
				continue
			}
			p, ok := read.ProjectOf(cr.Cluster.ID, o)
			if ok {
				projectOf[[2]string{cr.Cluster.Name, o.Name()}] = p
			}
			if onlyProject != nil && ok && p.ID == onlyProject.ID && (namespace == "" || namespace == o.Name()) {
				namespaces = append(namespaces, o.Name())
			}
		}
		if onlyProject == nil && namespace != "" {
			namespaces = []string{namespace}
		}
		if onlyProject != nil && len(namespaces) == 0 {
			fmt.Fprintf(s.err, "note: cluster %s: no namespace of project %s in scope\n", cr.Cluster.Name, onlyProject.Name)
			continue
		}
		traffic, err := rancherTraffic(ctx, s, lf, tf, cr.Cluster)
		if err != nil {
			return nil, err
		}
		findings, snap, err := clusterAnalysis(ctx, s.err, res, sel, namespaces, meshOpts, traffic)
		if err != nil {
			return nil, asExitError(err)
		}
		out.findings = append(out.findings, findings...)
		if res.Istiod != "" {
			k := snap.MeshConfig.GetTrustDomain()
			meshes[k] = append(meshes[k], res.Objects...)
			meshClusters[k] = append(meshClusters[k], cr.Cluster.Name)
		}
	}
	// Cross-cluster checks, over the clusters of each mesh merged.
	cross, err := analysis.Select(analyzers.CrossCluster(), nil, nil)
	if err != nil {
		return nil, &exitError{code: exitInternal, err: err}
	}
	keys := make([]string, 0, len(meshes))
	for k := range meshes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(meshClusters[k]) < 2 {
			continue
		}
		var namespaces []string
		if namespace != "" {
			namespaces = []string{namespace}
		}
		fs, err := analysis.Run(ctx, mesh.New(meshes[k], meshOpts), cross, analysis.Options{Namespaces: namespaces})
		if err != nil {
			return nil, &exitError{code: exitInternal, err: err}
		}
		for _, f := range fs {
			if sel.Keeps(f.Code) {
				out.findings = append(out.findings, f)
			}
		}
	}
	for i := range out.findings {
		f := &out.findings[i]
		f.Project = projectOf[[2]string{f.Cluster, f.Namespace}].Name
	}
	if onlyProject != nil {
		kept := out.findings[:0]
		for _, f := range out.findings {
			if projectOf[[2]string{f.Cluster, f.Namespace}].ID == onlyProject.ID {
				kept = append(kept, f)
			}
		}
		out.findings = kept
	}
	analysis.Sort(out.findings)
	return out, nil
}
