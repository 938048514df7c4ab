package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshpilot/meshpilot/internal/testenv"
)

// syncBuffer is a bytes.Buffer a running command writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type watchEvent struct {
	Event   string `json:"event"`
	Finding struct {
		Code, Resource, Cluster, Message string
	} `json:"finding"`
}

func events(t *testing.T, out string) []watchEvent {
	t.Helper()
	var evs []watchEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e watchEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

// TestWatchCommand runs meshpilot watch against a real API server holding
// the demo mesh: the first analysis opens its findings, a fix applied with
// kubectl closes one, a new mistake opens another, and the probes answer.
func TestWatchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: starts a real kube-apiserver")
	}
	env := testenv.Start(t)
	if out, errOut, err := env.Kubectl("apply", "--server-side", "--field-manager=meshpilot-test", "-f", filepath.Join(env.Root, "demo", "mesh")); err != nil {
		t.Fatalf("apply demo: %v\n%s%s", err, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"watch", "--kubeconfig", env.Kubeconfig, "--cluster-name", "east", "-o", "json", "--health-addr", "127.0.0.1:0"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			select {
			case code := <-done:
				t.Fatalf("watch exited %d while waiting for %s\nstderr:\n%s", code, what, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 60s\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("sync", func() bool { return strings.Contains(stderr.String(), "synced") })
	addr := regexp.MustCompile(`health on (http://\S+) `).FindStringSubmatch(stderr.String())
	if addr == nil {
		t.Fatalf("no health address in stderr:\n%s", stderr.String())
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(addr[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200 after sync", path, resp.StatusCode)
		}
	}
	has := func(event, code, resource string) func() bool {
		return func() bool {
			for _, e := range events(t, stdout.String()) {
				if e.Event == event && e.Finding.Code == code && e.Finding.Resource == resource {
					return true
				}
			}
			return false
		}
	}
	if !has("opened", "MP1003", "VirtualService shop/checkout")() {
		t.Fatalf("the first analysis did not open MP1003 on VirtualService shop/checkout:\n%s", stdout.String())
	}
	initial := len(events(t, stdout.String()))

	// Fix the retry budget: 2 retries of 1.5s fit in a 10s timeout.
	if out, errOut, err := env.Kubectl("patch", "virtualservice", "checkout", "-n", "shop", "--type=json",
		"-p", `[{"op":"replace","path":"/spec/http/0/timeout","value":"10s"}]`); err != nil {
		t.Fatalf("patch: %v\n%s%s", err, out, errOut)
	}
	waitFor("MP1003 closed", has("closed", "MP1003", "VirtualService shop/checkout"))

	// A new mistake: a route to a subset no DestinationRule defines.
	if out, errOut, err := env.Kubectl("patch", "virtualservice", "checkout", "-n", "shop", "--type=json",
		"-p", `[{"op":"replace","path":"/spec/http/0/route/1/destination/subset","value":"nightly"}]`); err != nil {
		t.Fatalf("patch: %v\n%s%s", err, out, errOut)
	}
	waitFor("IST0101 opened", has("opened", "IST0101", "VirtualService shop/checkout"))
	for _, e := range events(t, stdout.String())[initial:] {
		if e.Finding.Cluster != "east" {
			t.Errorf("event %s %s on %s carries cluster %q, want east", e.Event, e.Finding.Code, e.Finding.Resource, e.Finding.Cluster)
		}
		if e.Finding.Resource != "VirtualService shop/checkout" && e.Finding.Resource != "DestinationRule shop/checkout" {
			t.Errorf("a change to VirtualService shop/checkout reported %s %s on %s", e.Event, e.Finding.Code, e.Finding.Resource)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("watch exited %d on cancel, want 0\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not stop within 30s of cancel")
	}
}
