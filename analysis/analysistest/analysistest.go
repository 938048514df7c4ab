// Package analysistest runs an analyzer over YAML testdata whose
// `# want "CODE"` comments mark each expected finding: on the line where an
// object starts, one quoted code (a regular expression matched against the
// code) per finding expected on that object.
package analysistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
	"github.com/meshpilot/meshpilot/telemetry/fixture"
)

// loadSchemas builds the CRD validators once per test binary: each kind's
// validator compiles its CEL rules on first use.
var loadSchemas = sync.OnceValues(crd.Load)

var wantRe = regexp.MustCompile(`#\s*want((?:\s+"[^"]+")+)`)
var quoted = regexp.MustCompile(`"([^"]+)"`)

// TrafficSuffix names the traffic fixture of a testdata file (X.yaml's is
// X.traffic.yaml; see telemetry/fixture), which the analyzers marked Telemetry
// check against.
const TrafficSuffix = ".traffic.yaml"

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ClusterAnnotation on a testdata object makes it an object of that live
// cluster (its file and line are kept, for want comments).
const ClusterAnnotation = "analysistest.meshpilot.io/cluster"

// Run loads each .yaml file directly in dir as its own snapshot, runs a
// (and what it requires) over it, and checks its findings against the
// file's want comments: every want met by exactly one finding of a's codes
// on that line, and no finding left over.
func Run(t *testing.T, dir string, a *analysis.Analyzer) {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var matches []string
	for _, m := range all {
		if !strings.HasSuffix(m, TrafficSuffix) {
			matches = append(matches, m)
		}
	}
	if err != nil || len(matches) == 0 {
		t.Fatalf("no testdata in %s", dir)
	}
	for _, file := range matches {
		t.Run(filepath.Base(file), func(t *testing.T) {
			RunFile(t, file, a)
		})
	}
}

// RunFile checks one testdata file; see Run.
func RunFile(t *testing.T, file string, a *analysis.Analyzer) {
	t.Helper()
	findings := analyze(t, file, a)
	wants := readWants(t, file)
	got := map[int][]analysis.Finding{}
	for _, f := range findings {
		got[f.Line] = append(got[f.Line], f)
	}
	lines := make([]int, 0, len(wants))
	for l := range wants {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	for _, line := range lines {
		for _, w := range wants[line] {
			i := indexMatching(got[line], w)
			if i < 0 {
				t.Errorf("%s:%d: no finding matching %q (got %s)", file, line, w, describe(got[line]))
				continue
			}
			got[line] = append(got[line][:i], got[line][i+1:]...)
		}
	}
	for line, fs := range got {
		for _, f := range fs {
			t.Errorf("%s:%d: unexpected finding %s %s: %s", file, line, f.Code, f.Resource, f.Message)
		}
	}
}

// Findings loads a testdata file and returns a's findings, for tests that
// check messages or fixes.
func Findings(t *testing.T, file string, a *analysis.Analyzer) []analysis.Finding {
	t.Helper()
	return analyze(t, file, a)
}

func analyze(t *testing.T, file string, a *analysis.Analyzer) []analysis.Finding {
	t.Helper()
	schemas, err := loadSchemas()
	if err != nil {
		t.Fatalf("load CRD schemas: %v", err)
	}
	res, err := files.Load(context.Background(), []string{file}, files.Options{Schemas: schemas})
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	for _, p := range res.Problems {
		t.Errorf("input error in testdata: %v", p)
	}
	// Objects annotated with ClusterAnnotation play live objects of that
	// cluster, for checks across clusters.
	for _, o := range res.Objects {
		if c := o.Annotations()[ClusterAnnotation]; c != "" {
			o.Source.Cluster = c
		}
	}
	snap := res.Snapshot(mesh.Options{})
	sel, err := analysis.Select([]*analysis.Analyzer{a}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var opts analysis.Options
	if tf := strings.TrimSuffix(file, ".yaml") + TrafficSuffix; fileExists(tf) {
		if opts.Telemetry, err = fixture.Load(tf); err != nil {
			t.Fatalf("traffic fixture: %v", err)
		}
	} else if a.Telemetry {
		t.Fatalf("%s: analyzer %s checks traffic, and there is no %s beside it", file, a.Name, filepath.Base(tf))
	}
	fs, err := analysis.Run(context.Background(), snap, sel, opts)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, c := range a.Codes {
		codes[c.ID] = true
	}
	var out []analysis.Finding
	for _, f := range fs {
		if f.Code == analysis.InternalError.ID {
			t.Errorf("analyzer broke: %s", f.Message)
			continue
		}
		if codes[f.Code] {
			out = append(out, f)
		}
	}
	return out
}

func readWants(t *testing.T, file string) map[int][]*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wants := map[int][]*regexp.Regexp{}
	for i, line := range strings.Split(string(data), "\n") {
		m := wantRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
			re, err := regexp.Compile("^(?:" + q[1] + ")$")
			if err != nil {
				t.Fatalf("%s:%d: bad want %q: %v", file, i+1, q[1], err)
			}
			wants[i+1] = append(wants[i+1], re)
		}
	}
	return wants
}

func indexMatching(fs []analysis.Finding, re *regexp.Regexp) int {
	for i, f := range fs {
		if re.MatchString(f.Code) {
			return i
		}
	}
	return -1
}

func describe(fs []analysis.Finding) string {
	if len(fs) == 0 {
		return "none"
	}
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s %s", f.Code, f.Resource))
	}
	return strings.Join(parts, ", ")
}
