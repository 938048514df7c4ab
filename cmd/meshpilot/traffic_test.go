package main

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
)

func TestTrafficCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "", "traffic", "--demo", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Services []struct {
			Namespace, Name string
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(doc.Services) != 13 {
		t.Errorf("%d services in the demo traffic, want 13", len(doc.Services))
	}
	for _, format := range []string{"table", "dot", "svg"} {
		if code, out, errOut := runCLI(t, "", "traffic", "--demo", "-o", format); code != 0 || !strings.Contains(out, "payments") {
			t.Errorf("-o %s: exit %d, stderr %s", format, code, errOut)
		}
	}
}

func TestTrafficFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"traffic"}, "no traffic source"},
		{[]string{"traffic", "--demo", "-o", "png"}, "unknown output format"},
		{[]string{"traffic", "--demo", "--window", "7x"}, "--window"},
		{[]string{"analyze", "--demo", "--prometheus-token-file", "t"}, "need --prometheus-url"},
		{[]string{"analyze", "--demo", "--prometheus-url", "http://127.0.0.1:9", "--access-log", "x.log"}, "one source of traffic"},
		{[]string{"analyze", "--demo", "--prometheus-url", "localhost:9090"}, "prometheus url"},
		{[]string{"analyze", "--demo", "--access-log", "missing.log"}, "missing.log"},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, "", tt.args...)
		if code != exitInput || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, errOut, exitInput, tt.want)
		}
	}
}

// A Prometheus that is down is a warning: the analysis goes on, without
// the traffic checks, and says so.
func TestAnalyzePrometheusDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, out, errOut := runCLI(t, "", "analyze", "--demo", "--fail-on", "none", "--prometheus-url", "http://"+addr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "no traffic evidence") || !strings.Contains(errOut, "without the checks against traffic") {
		t.Errorf("stderr does not say telemetry is missing:\n%s", errOut)
	}
	if !strings.Contains(out, "IST0101") || strings.Contains(out, "MP60") {
		t.Errorf("want the config findings and no traffic ones:\n%s", out)
	}
}

func TestRecommendDemo(t *testing.T) {
	code, out, errOut := runCLI(t, "", "recommend", "--demo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"MP6101", "MP6103", "set a 5.5s timeout", "+    timeout: 5.5s", "outlierDetection:"} {
		if !strings.Contains(out, want) {
			t.Errorf("recommend output lacks %q", want)
		}
	}
	// Only recommendations: the configuration findings are not repeated.
	if strings.Contains(out, "IST0101") {
		t.Errorf("recommend printed configuration findings")
	}
}

// Recommendations are checked against the guardrails: shop routes may not
// retry gateway errors, so the retries recommended for reviews (whose 5xx
// come in spikes) are withheld, saying why, while the other
// recommendations keep their fixes.
func TestRecommendGuardrails(t *testing.T) {
	code, out, errOut := runCLI(t, "", "recommend", "--demo", "--policy", "testdata/guardrails-retries.yaml", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Code, Resource, Message string
			Fixes                   []struct{ Message string } `json:"fixes"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	fixes := map[string]int{}
	for _, f := range rep.Findings {
		fixes[f.Code+" "+f.Resource] = len(f.Fixes)
		if f.Code == "MP6102" && f.Resource == "VirtualService shop/reviews" && !strings.Contains(f.Message, "withheld") {
			t.Errorf("reviews: the message does not say the fix was withheld: %s", f.Message)
		}
	}
	for k, want := range map[string]int{
		"MP6102 VirtualService shop/reviews":      0, // retryOn gateway-error
		"MP6102 VirtualService shop/checkout":     1, // connection failures only
		"MP6101 VirtualService shop/reviews":      1, // a timeout is no retry
		"MP6101 VirtualService payments/payments": 1, // out of the policy's scope
	} {
		if got, ok := fixes[k]; !ok || got != want {
			t.Errorf("%s: %d fixes (reported: %v), want %d", k, got, ok, want)
		}
	}
}

// Prometheus secrets come from a file or the environment, never both, and
// an empty file is an error rather than no authentication.
func TestPrometheusSecrets(t *testing.T) {
	empty := t.TempDir() + "/token"
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "analyze", "--demo", "--prometheus-url", "http://127.0.0.1:9", "--prometheus-token-file", empty)
	if code != exitInput || !strings.Contains(errOut, "--prometheus-token-file "+empty+" is empty") {
		t.Errorf("empty token file: exit %d, %q", code, errOut)
	}
	t.Setenv(envPromToken, "s3cret")
	code, _, errOut = runCLI(t, "", "analyze", "--demo", "--prometheus-url", "http://127.0.0.1:9", "--prometheus-token-file", empty)
	if code != exitInput || !strings.Contains(errOut, "both $"+envPromToken+" and --prometheus-token-file are set") {
		t.Errorf("token in both places: exit %d, %q", code, errOut)
	}
}
