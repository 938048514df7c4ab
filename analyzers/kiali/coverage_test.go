package kiali_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

// istEquivalents are the Kiali codes an istioctl check already reports: the
// IST finding names the Kiali code among its equivalents. Each is proven by
// the testdata of the package named.
var istEquivalents = map[string]struct{ ist, pkg string }{
	"KIA0002": {"IST0111", "sidecar"},
	"KIA0003": {"IST0110", "sidecar"},
	"KIA0004": {"IST0127", "auth"}, // also IST0101 of sidecar.Selector, and MP3028
	"KIA0101": {"IST0101", "auth"},
	"KIA0202": {"IST0174", "destinationrule"},
	"KIA0203": {"IST0173", "destinationrule"},
	"KIA0301": {"IST0145", "gateway"},
	"KIA0302": {"IST0101", "gateway"},
	"KIA0601": {"IST0118", "service"},
	"KIA0602": {"IST0118", "service"},
	"KIA1101": {"IST0101", "virtualservice"},
	"KIA1102": {"IST0101", "virtualservice"},
	"KIA1106": {"IST0109", "virtualservice"}, // mesh gateway; MP3024 for the others
	"KIA1107": {"IST0101", "virtualservice"},
	"KIA1212": {"IST0177", "serviceentry"},
}

// notCovered are the Kiali codes meshpilot cannot check from configuration
// alone, with the reason.
var notCovered = map[string]string{
	"KIA0107": "the principal's service account exists in a remote cluster: needs the live registries of the other clusters of the mesh",
}

// delegated reports the Kiali codes of the ambient and Gateway API checks,
// which another family of analyzers covers.
func delegated(code string) bool {
	switch code {
	case "KIA0109", "KIA0110", "KIA0210", "KIA0211", "KIA0212":
		return true
	}
	return code >= "KIA1109" && code <= "KIA1117" || code >= "KIA1311" && code <= "KIA1317" ||
		strings.HasPrefix(code, "KIA14") || strings.HasPrefix(code, "KIA15") || strings.HasPrefix(code, "KIA16")
}

// TestKialiCoverage lists which of Kiali's codes meshpilot covers, by an
// IST finding's equivalents or an MP code's, and fails on a code that is
// neither covered nor explained in notCovered. MP coverage is discovered
// from the Equivalents of every code of analyzers/codes, whatever its
// family (a Kiali check may be reported by the security package, say
// KIA1301 by MP2001), as long as some analyzer declares the code.
func TestKialiCoverage(t *testing.T) {
	kia := readKialiCodes(t)
	declared := map[*analysis.Code]bool{}
	for _, a := range analyzers.All() {
		for _, c := range a.Codes {
			declared[c] = true
		}
	}
	byMP := map[string][]string{}
	for _, c := range codes.All() {
		if !declared[c] {
			continue
		}
		for _, e := range c.Equivalents {
			byMP[e] = append(byMP[e], c.ID)
		}
	}
	var lines []string
	for _, code := range kia {
		ist, isIST := istEquivalents[code]
		mp := byMP[code]
		reason, excused := notCovered[code]
		switch {
		case isIST && len(mp) > 0:
			lines = append(lines, code+"  "+ist.ist+" (analyzers/"+ist.pkg+") and "+strings.Join(mp, ", "))
		case isIST:
			lines = append(lines, code+"  "+ist.ist+" (analyzers/"+ist.pkg+")")
		case len(mp) > 0:
			lines = append(lines, code+"  "+strings.Join(mp, ", "))
		case excused:
			lines = append(lines, code+"  not covered: "+reason)
		case delegated(code):
			lines = append(lines, code+"  not yet covered (ambient / Gateway API family)")
		default:
			t.Errorf("%s is neither covered (IST equivalent or MP code) nor listed in notCovered", code)
		}
		if excused && (isIST || len(mp) > 0) {
			t.Errorf("%s is covered but also listed in notCovered", code)
		}
	}
	t.Logf("Kiali coverage:\n%s", strings.Join(lines, "\n"))
	for code := range notCovered {
		if !contains(kia, code) {
			t.Errorf("notCovered lists %s, which codes.tsv does not", code)
		}
	}
}

// TestISTEquivalents proves each entry of istEquivalents: some finding of
// that IST code in the package's testdata carries the Kiali code.
func TestISTEquivalents(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, pkg := range packages() {
		for _, f := range analyzeTestdata(t, filepath.Join("..", pkg, "testdata")) {
			for _, e := range f.Equivalents {
				seen[[2]string{e, f.Code}] = true
			}
		}
	}
	for kia, ist := range istEquivalents {
		if !seen[[2]string{kia, ist.ist}] {
			t.Errorf("no %s finding in analyzers/%s/testdata names %s among its equivalents", ist.ist, ist.pkg, kia)
		}
	}
}

func packages() []string {
	set := map[string]bool{}
	for _, e := range istEquivalents {
		set[e.pkg] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func analyzeTestdata(t *testing.T, dir string) []analysis.Finding {
	t.Helper()
	schemas, err := crd.Load()
	if err != nil {
		t.Fatalf("load CRD schemas: %v", err)
	}
	sel, err := analysis.Select(analyzers.All(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []analysis.Finding
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		res, err := files.Load(context.Background(), []string{path}, files.Options{Schemas: schemas})
		if err != nil {
			return err
		}
		fs, err := analysis.Run(context.Background(), res.Snapshot(mesh.Options{}), sel, analysis.Options{})
		if err != nil {
			return err
		}
		out = append(out, fs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readKialiCodes reads the code column of Kiali's codes.tsv, found in
// shared/conformance/kiali beside the checkout or at $MESHPILOT_KIALI_CODES.
func readKialiCodes(t *testing.T) []string {
	t.Helper()
	path := os.Getenv("MESHPILOT_KIALI_CODES")
	if path == "" {
		dir, _ := filepath.Abs(".")
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			p := filepath.Join(dir, "shared", "conformance", "kiali", "codes.tsv")
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Kiali codes.tsv not found (shared/conformance/kiali or $MESHPILOT_KIALI_CODES)")
		}
		t.Skip("SKIPPED: Kiali codes.tsv not found")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		code, _, _ := strings.Cut(sc.Text(), "\t")
		if strings.HasPrefix(code, "KIA") {
			out = append(out, code)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
