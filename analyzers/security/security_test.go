package security_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analysis/analysistest"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/analyzers/kiali"
	"github.com/meshpilot/meshpilot/analyzers/security"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

func TestAnalyzers(t *testing.T) {
	for dir, a := range map[string]*analysis.Analyzer{
		"authz":        security.AuthorizationPolicies,
		"peerauthn":    security.PeerAuthentications,
		"requestauthn": security.RequestAuthentications,
		"gateways":     security.Gateways,
		"capture":      security.Capture,
		"version":      security.Version,
	} {
		t.Run(dir, func(t *testing.T) { analysistest.Run(t, filepath.Join("testdata", dir), a) })
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		file     string
		a        *analysis.Analyzer
		code     string
		resource string
		want     string
	}{
		{"authz/policies.yaml", security.AuthorizationPolicies, "MP2001", "Namespace open", "1 of 1 mesh workloads in namespace open"},
		{"authz/policies.yaml", security.AuthorizationPolicies, "MP2019", "AuthorizationPolicy shop/web-service-port", `ports[0] "80" is a Service port that forwards to container port 8080`},
		{"authz/policies.yaml", security.AuthorizationPolicies, "MP2020", "AuthorizationPolicy shop/web-methods", `methods[1] "FETCH" is not an HTTP method`},
		{"peerauthn/mesh.yaml", security.PeerAuthentications, "MP2027", "Namespace a", "no mesh-wide PeerAuthentication in istio-system"},
		{"peerauthn/workload-strict.yaml", security.PeerAuthentications, "MP2027", "Namespace mixed", "1 of 2 workloads of namespace mixed (those no STRICT workload policy selects)"},
		{"version/istio-1.9.4.yaml", security.Version, "MP2039", "Deployment istio-system/istiod", "CVE-2021-31920"},
		{"version/istio-none.yaml", security.Version, "MP2139", "AuthorizationPolicy shop/deny-admin", "no istiod Deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.resource, func(t *testing.T) {
			for _, f := range analysistest.Findings(t, filepath.Join("testdata", tt.file), tt.a) {
				if f.Code == tt.code && f.Resource == tt.resource && strings.Contains(f.Message, tt.want) {
					return
				}
			}
			t.Errorf("no %s on %s containing %q", tt.code, tt.resource, tt.want)
		})
	}
}

// TestFixes applies every suggested fix to the testdata (as JSON-shaped
// maps), reloads it, and checks the fixed finding is gone and no new one
// appeared.
func TestFixes(t *testing.T) {
	cases := []struct {
		file string
		a    *analysis.Analyzer
		want int // fixes expected in the file
	}{
		{"authz/policies.yaml", security.AuthorizationPolicies, 3},
		{"peerauthn/mesh.yaml", security.PeerAuthentications, 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			before := analysistest.Findings(t, path, c.a)
			n := 0
			for _, f := range before {
				for _, fix := range f.Fixes {
					n++
					if fix.Message == "" || fix.Explanation == "" || len(fix.Edits) == 0 {
						t.Errorf("%s %s: incomplete fix %+v", f.Code, f.Resource, fix)
					}
					data := applyEdits(t, path, fix.Edits)
					after := run(t, data, c.a)
					want := keys(before)
					delete(want, key(f))
					if got := keys(after); fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
						t.Errorf("fix %q of %s %s:\n got %v\nwant %v", fix.Message, f.Code, f.Resource, sorted(got), sorted(want))
					}
				}
			}
			if n != c.want {
				t.Errorf("%d fixes, want %d", n, c.want)
			}
		})
	}
}

func key(f analysis.Finding) string { return f.Code + " " + f.Resource + ": " + f.Message }

func keys(fs []analysis.Finding) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[key(f)] = true
	}
	return m
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func run(t *testing.T, data []byte, a *analysis.Analyzer) []analysis.Finding {
	t.Helper()
	res, err := files.LoadBytes(context.Background(), []files.Named{{Name: "fixed.yaml", Data: data}}, files.Options{})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("load fixed: %v %v", err, res.Problems)
	}
	sel, _ := analysis.Select([]*analysis.Analyzer{a}, nil, nil)
	fs, err := analysis.Run(context.Background(), res.Snapshot(mesh.Options{}), sel, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []analysis.Finding
	for _, f := range fs {
		if strings.HasPrefix(f.Code, "MP2") {
			out = append(out, f)
		}
	}
	return out
}

// applyEdits rewrites the documents the edits name, through JSON.
func applyEdits(t *testing.T, path string, edits []analysis.Edit) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	for i, d := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(d), &obj); err != nil || obj == nil {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		ref := fmt.Sprintf("%v %v/%v", obj["kind"], meta["namespace"], meta["name"])
		changed := false
		for _, e := range edits {
			if e.Resource != ref {
				continue
			}
			if err := setPointer(obj, e.Path, e.Value, e.Delete); err != nil {
				t.Fatalf("edit %s %s: %v", e.Resource, e.Path, err)
			}
			changed = true
		}
		if changed {
			js, _ := json.Marshal(obj)
			out, _ := yaml.JSONToYAML(js)
			docs[i] = string(out)
		}
	}
	return []byte(strings.Join(docs, "\n---\n"))
}

func setPointer(doc map[string]any, ptr string, value any, del bool) error {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	var cur any = doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if del {
					delete(c, p)
				} else {
					c[p] = value
				}
				return nil
			}
			cur = c[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(c) {
				return fmt.Errorf("bad index %q", p)
			}
			if last {
				c[n] = value
				return nil
			}
			cur = c[n]
		default:
			return fmt.Errorf("no container at %q", p)
		}
	}
	return nil
}

// items maps each item of the security checklist
// (/work/shared/docs/security-checks.md) to the codes that implement it.
// Items checked elsewhere name the other package's code; the Kiali checks
// (MP3xxx, analyzers/kiali) are reported there only, once.
var items = map[int][]string{
	1: {"MP2001"}, 2: {"MP2002"}, 3: {"MP2003"}, 4: {"MP2004"}, 5: {"MP2005"}, 6: {"MP2006"},
	7: {"MP2007"}, 8: {"MP2008"}, 9: {"MP2009"},
	10: {"MP3004"},           // analyzers/kiali (KIA0105)
	11: {"MP3005", "MP3006"}, // analyzers/kiali (KIA0106, KIA0108)
	12: {"IST0101"},          // analyzers/auth
	13: {"IST0127"},          // analyzers/auth
	14: {"MP2014"}, 15: {"MP2015"}, 16: {"MP2016"}, 17: {"MP2017"}, 18: {"MP2018", "MP2118"},
	19: {"MP2019"}, 20: {"MP2020"}, 21: {"MP2021", "MP2121"}, 22: {"MP2022"},
	23: {"IST0106"}, // CRD validation: "only one of targetRefs or selector can be set"
	24: {"ambient"}, // the ambient engineer's (KIA0109, KIA0110, KIA1317)
	25: {"ambient"}, // the ambient engineer's
	26: {"MP2026", "MP2126", "MP2226"},
	27: {"MP2027"}, 28: {"MP2028"},
	29: {"MP3029"},            // analyzers/kiali (KIA0002)
	30: {"MP3030"},            // analyzers/kiali (KIA0003)
	31: {"MP2031", "IST0106"}, // IST0106: CRD validation "portLevelMtls requires selector"
	// analyzers/kiali: KIA0205, KIA0206, KIA0207, KIA0208, KIA0401, KIA0501, KIA0505, KIA0506
	32: {"MP3009", "MP3010", "MP3011", "MP3012", "MP3014", "MP3015", "MP3016", "MP3017"},
	33: {"MP2033"}, 34: {"MP2034", "MP2134", "MP4021"},
	35: {"MP2035"}, 36: {"MP2036"},
	37: {"IST0128", "IST0129"}, // analyzers/destinationrule
	38: {"MP2038", "MP2138"}, 39: {"MP2039", "MP2139"},
}

func TestEveryItemCovered(t *testing.T) {
	ours := map[string]bool{}
	for _, a := range security.Analyzers {
		for _, c := range a.Codes {
			ours[c.ID] = true
		}
	}
	kialis := map[string]bool{}
	for _, a := range kiali.Analyzers {
		for _, c := range a.Codes {
			kialis[c.ID] = true
		}
	}
	used := map[string]bool{}
	for item := 1; item <= 39; item++ {
		list, ok := items[item]
		if !ok || len(list) == 0 {
			t.Errorf("item %d: no code", item)
		}
		for _, id := range list {
			used[id] = true
			if id == "ambient" {
				continue
			}
			if codes.Lookup(id) == nil {
				t.Errorf("item %d: code %s is not defined", item, id)
			}
			if strings.HasPrefix(id, "MP2") && !ours[id] {
				t.Errorf("item %d: %s is not reported by the security analyzers", item, id)
			}
			if strings.HasPrefix(id, "MP3") && !kialis[id] {
				t.Errorf("item %d: %s is not reported by the kiali analyzers", item, id)
			}
		}
	}
	for id := range ours {
		if !used[id] {
			t.Errorf("code %s maps to no item", id)
		}
	}
	if len(items) != 39 {
		t.Errorf("%d items mapped, want 39", len(items))
	}
}
