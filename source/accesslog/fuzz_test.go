package accesslog

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseLine feeds arbitrary lines to the parser and the aggregation:
// they must never panic, only lines that look like access log entries may
// fail, and an entry read must hold sane figures.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{textOutbound, textInbound, textTCP, jsonHTTP, jsonTCP, "", "[", "[1", "{", `{"start_time"`, "[pod/x/y] [1]", "1 [", `[2026-11-21T10:00:01Z] "`} {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.log"))
	for _, name := range files {
		file, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			f.Add(sc.Text())
		}
		file.Close()
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, pod, kind, err := parseLine(line)
		if kind == otherLine {
			if err != nil {
				t.Fatalf("error %v for a line that is no access log entry", err)
			}
			return
		}
		if err != nil {
			return
		}
		if e.Start.IsZero() || e.Code < 0 || e.Code > 999 || math.IsNaN(e.Duration) || e.Duration < -1 {
			t.Fatalf("insane entry %+v", e)
		}
		r := newReader(Options{IPWorkload: ipWorkload, PodWorkload: podWorkload})
		fs := &fileStats{path: "fuzz", external: map[string]int{}, ignored: map[string]int{}}
		r.add(&e, pod, Input{}, fs)
		r.add(&e, pod, Input{Path: "fuzz", Workload: testIPs["10.8.0.11"]}, fs)
		g := r.graph("fuzz")
		for _, p := range g.Profiles {
			if len(p.Totals) > maxSteps+1 {
				t.Fatalf("profile of %d steps", len(p.Totals))
			}
		}
	})
}
