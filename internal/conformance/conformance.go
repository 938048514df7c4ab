// Package conformance scores meshpilot on Istio's own analyzer test table
// (shared/conformance/istio-analyzers): a case passes when the multiset of
// (code, resource) reported, restricted to the case's codes in scope, equals
// the expected one.
package conformance

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

// loadSchemas builds the CRD validators once for all cases.
var loadSchemas = sync.OnceValues(crd.Load)

// Case is one row of cases.tsv.
type Case struct {
	Index        string
	Name         string
	Analyzer     string
	Codes        []string
	Inputs       []string
	MeshConfig   string
	MeshNetworks string
	Expected     []string // "CODE Kind ns/name"
}

// Result is one case's outcome.
type Result struct {
	Case
	Got     []string
	Missing []string
	Extra   []string
	Err     error
}

// Passed reports whether the case passed.
func (r Result) Passed() bool { return r.Err == nil && len(r.Missing) == 0 && len(r.Extra) == 0 }

// ReadCases reads dir/cases.tsv.
func ReadCases(dir string) ([]Case, error) {
	f, err := os.Open(filepath.Join(dir, "cases.tsv"))
	if err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	defer f.Close()
	var out []Case
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		for len(cols) < 8 {
			cols = append(cols, "")
		}
		c := Case{Index: cols[0], Name: cols[1], Analyzer: cols[2], Codes: split(cols[3], ","),
			Inputs: split(cols[4], ","), MeshConfig: cols[5], MeshNetworks: cols[6], Expected: split(cols[7], ";")}
		out = append(out, c)
	}
	return out, sc.Err()
}

func split(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Run scores one case, running the analyzer that corresponds to the case's
// Istio analyzer (see forCase).
func Run(ctx context.Context, dir string, c Case, analyzers []*analysis.Analyzer) Result {
	return run(ctx, dir, c, forCase(analyzers, c.Analyzer))
}

// RunAll scores one case with every analyzer on, as a plain 'meshpilot
// analyze' would: stricter than Istio's own table, whose expectations are
// per analyzer.
func RunAll(ctx context.Context, dir string, c Case, analyzers []*analysis.Analyzer) Result {
	return run(ctx, dir, c, analyzers)
}

func run(ctx context.Context, dir string, c Case, analyzers []*analysis.Analyzer) Result {
	r := Result{Case: c}
	var paths []string
	for _, in := range c.Inputs {
		paths = append(paths, filepath.Join(dir, in))
	}
	schemas, err := loadSchemas()
	if err != nil {
		r.Err = err
		return r
	}
	res, err := files.Load(ctx, paths, files.Options{Schemas: schemas})
	if err != nil {
		r.Err = err
		return r
	}
	opts := mesh.Options{}
	if c.MeshConfig != "" {
		mc, _, err := files.ReadMeshConfig(filepath.Join(dir, c.MeshConfig))
		if err != nil {
			r.Err = err
			return r
		}
		opts.MeshConfig = mc
	}
	if c.MeshNetworks != "" {
		mn, _, err := files.ReadMeshNetworks(filepath.Join(dir, c.MeshNetworks))
		if err != nil {
			r.Err = err
			return r
		}
		opts.MeshNetworks = mn
	}
	sel, err := analysis.Select(analyzers, nil, nil)
	if err != nil {
		r.Err = err
		return r
	}
	fs, err := analysis.Run(ctx, res.Snapshot(opts), sel, analysis.Options{})
	if err != nil {
		r.Err = err
		return r
	}
	inScope := map[string]bool{}
	for _, code := range c.Codes {
		inScope[code] = true
	}
	for _, f := range fs {
		if inScope[f.Code] {
			r.Got = append(r.Got, f.Code+" "+f.Resource)
		}
	}
	r.Missing, r.Extra = diff(c.Expected, r.Got)
	return r
}

// IstioAnalyzers maps each analyzer of istioctl that the conformance table
// exercises to the meshpilot analyzers that implement it.
var IstioAnalyzers = map[string][]string{
	"annotations.AlphaAnalyzer":                            {"annotations.Alpha"},
	"annotations.K8sAnalyzer":                              {"annotations.K8s"},
	"applicationUID.Analyzer":                              {"applicationuid.ApplicationUID"},
	"auth.AuthorizationPoliciesAnalyzer":                   {"auth.AuthorizationPolicies"},
	"authn.BlockedCIDRsAnalyzer":                           {"authn.BlockedCIDRs"},
	"conditions.ConditionAnalyzer":                         {"conditions.Negative"},
	"deployment.MultiServiceAnalyzer":                      {"deployment.MultiService"},
	"deprecation.DeprecationAnalyzer":                      {"deprecation.Fields"},
	"destinationrule.CaCertificateAnalyzer":                {"destinationrule.CaCertificate"},
	"destinationrule.SubsetSelectPodAnalyzer":              {"destinationrule.SubsetSelectPod"},
	"envoyfilter.EnvoyPatchAnalyzer":                       {"envoyfilter.Patches"},
	"externalcontrolplane.ExternalControlPlaneAnalyzer":    {"externalcontrolplane.ExternalControlPlane"},
	"gateway.CertificateAnalyzer":                          {"gateway.Certificate"},
	"gateway.ConflictingGatewayAnalyzer":                   {"gateway.ConflictingGateway"},
	"gateway.IngressGatewayPortAnalyzer":                   {"gateway.IngressGatewayPort"},
	"gateway.SecretAnalyzer":                               {"gateway.Secret"},
	"injection.Analyzer":                                   {"injection.Injection"},
	"injection.ImageAnalyzer":                              {"injection.Image"},
	"injection.ImageAutoAnalyzer":                          {"injection.ImageAuto"},
	"k8sgateway.CRDVersionAnalyzer":                        {"k8sgateway.CRDVersion"},
	"k8sgateway.SelectorAnalyzer":                          {"k8sgateway.Selector"},
	"meshnetworks.MeshNetworksAnalyzer":                    {"meshnetworks.ServiceRegistries"},
	"schema.ValidationAnalyzer.VirtualService":             {"schema.Validation", "routerules.Shadowed"},
	"service.PortNameAnalyzer":                             {"service.PortName"},
	"serviceentry.Analyzer":                                {"serviceentry.Addresses"},
	"serviceentry.ConflictingServiceEntryProtocolAnalyzer": {"serviceentry.ConflictingProtocols"},
	"sidecar.SelectorAnalyzer":                             {"sidecar.Selector"},
	"telemetry.DefaultSelectorAnalyzer":                    {"telemetry.DefaultSelectors"},
	"telemetry.LightstepAnalyzer":                          {"telemetry.Lightstep"},
	"telemetry.ProviderAnalyzer":                           {"telemetry.Providers"},
	"telemetry.SelectorAnalyzer":                           {"telemetry.Selectors"},
	"virtualservice.ConflictingMeshGatewayHostsAnalyzer":   {"virtualservice.ConflictingMeshGatewayHosts"},
	"virtualservice.DestinationHostAnalyzer":               {"virtualservice.DestinationHost"},
	"virtualservice.DestinationRuleAnalyzer":               {"virtualservice.DestinationRule"},
	"virtualservice.GatewayAnalyzer":                       {"virtualservice.Gateway"},
	"virtualservice.JWTClaimRouteAnalyzer":                 {"virtualservice.JWTClaimRoute"},
	"webhook.Analyzer":                                     {"webhook.Webhook"},
}

// forCase narrows analyzers to those implementing the case's Istio
// analyzer (IstioAnalyzers), as Istio's own table runs one analyzer per
// case: codes such as IST0101 come from several analyzers, whose findings
// would otherwise count against each other's cases. An unmapped analyzer
// runs them all.
func forCase(analyzers []*analysis.Analyzer, istioName string) []*analysis.Analyzer {
	names := IstioAnalyzers[istioName]
	var out []*analysis.Analyzer
	for _, a := range analyzers {
		for _, n := range names {
			if a.Name == n {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return analyzers
	}
	return out
}

// Diff returns the multiset differences want−got and got−want.
func Diff(want, got []string) (missing, extra []string) { return diff(want, got) }

// diff returns the multiset differences want−got and got−want.
func diff(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	for k, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
		for ; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// FindDir locates the conformance folder: $MESHPILOT_CONFORMANCE_DIR, or
// shared/conformance/istio-analyzers beside the checkout (searched upwards
// from start). It returns "" when there is none.
func FindDir(start string) string {
	if d := os.Getenv("MESHPILOT_CONFORMANCE_DIR"); d != "" {
		return d
	}
	dir, err := filepath.Abs(start)
	if err != nil {
		return ""
	}
	for {
		cand := filepath.Join(dir, "..", "shared", "conformance", "istio-analyzers")
		if _, err := os.Stat(filepath.Join(cand, "cases.tsv")); err == nil {
			return filepath.Clean(cand)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
