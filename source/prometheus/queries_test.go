package prometheus

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden query files")

// TestQueries asserts the exact text of every query sent to Prometheus,
// for the default window and for a short one with extra matchers.
func TestQueries(t *testing.T) {
	tests := []struct {
		golden       string
		window, step time.Duration
		match        string
	}{
		{"queries-1d-15m.golden", 24 * time.Hour, 15 * time.Minute, ""},
		{"queries-90m-1m-match.golden", 90 * time.Minute, time.Minute, `cluster="east"`},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var b strings.Builder
			qs, err := plan(newParams(tt.window, tt.step, tt.match))
			if err != nil {
				t.Fatal(err)
			}
			// The tail, for two services (one with a name to escape).
			tq, err := tailQuery(newParams(tt.window, tt.step, tt.match), []string{"ratings", "reviews.v2"}, []string{"shop"})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range append(qs, tq) {
				b.WriteString("# " + q.name + "\n" + q.text + "\n\n")
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("rendered queries differ from %s:\n%s", path, b.String())
			}
		})
	}
}

func TestQueryCountIsConstant(t *testing.T) {
	if qs, _ := plan(newParams(time.Hour, time.Minute, "")); len(qs) != 5 {
		t.Errorf("%d queries; the graph promises at most 12 and the docs say 5", len(qs))
	}
}

func TestPromDuration(t *testing.T) {
	tests := map[time.Duration]string{
		24 * time.Hour: "1d", 7 * 24 * time.Hour: "1w", 90 * time.Minute: "1h30m", 15 * time.Second: "15s",
		36 * time.Hour: "1d12h", 1500 * time.Millisecond: "1s500ms", 0: "0s",
	}
	for d, want := range tests {
		if got := promDuration(d); got != want {
			t.Errorf("promDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRenderUnknown(t *testing.T) {
	if _, err := render("nope", params{}); err == nil {
		t.Error("rendering an unknown template gave no error")
	}
}

// TestTailQueryTooManyServices: past maxServicesMatcher the tail is read
// for every service, rather than sent in a query too long for a URL.
func TestTailQueryTooManyServices(t *testing.T) {
	p := newParams(time.Hour, time.Minute, "")
	few, err := tailQuery(p, []string{"a"}, []string{"ns"})
	if err != nil || !strings.Contains(few.text, `destination_service_name=~"a"`) {
		t.Fatalf("tail query for one service: %v\n%s", err, few.text)
	}
	var names []string
	for i := range 1000 {
		names = append(names, fmt.Sprintf("service-%04d", i))
	}
	many, err := tailQuery(p, names, []string{"ns"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(many.text, "destination_service_name=~") || !strings.Contains(many.text, `le=~"60000|`) {
		t.Errorf("tail query for 1,000 services names them, or misses the tail:\n%s", many.text)
	}
}
