package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/meshpilot/meshpilot/synth"
)

func newGenCmd(s streams) *cobra.Command {
	var o synth.Options
	var truthFile string
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate a deterministic synthetic mesh with planted defects (YAML on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.Services <= 0 {
				return &exitError{code: exitInput, err: errors.New("--services must be positive")}
			}
			m := synth.Generate(o)
			if truthFile != "" {
				data, _ := json.MarshalIndent(m.Truth, "", "  ")
				if err := os.WriteFile(truthFile, append(data, '\n'), 0o644); err != nil {
					return &exitError{code: exitInternal, err: fmt.Errorf("write truth: %w", err)}
				}
			}
			_, err := s.out.Write(m.YAML)
			return err
		},
	}
	cmd.Flags().IntVar(&o.Services, "services", 100, "number of services (each: Service, Deployment, VirtualService, DestinationRule)")
	cmd.Flags().IntVar(&o.DefectEvery, "defect-every", 25, "plant a defect on every n-th service")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&truthFile, "truth", "", "write the planted defects' expected findings (JSON) to this file")
	return cmd
}

type benchRun struct {
	services  int
	docs      int
	bytes     int
	wall      time.Duration
	maxRSSKiB int64
	truth     int
	missing   []string
	findings  int
	unplanted int
}

func newBenchCmd(s streams) *cobra.Command {
	var services, scale, runs int
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure full analysis of synthetic meshes: wall time, peak RSS, planted defects found, growth with size",
		Long: `bench generates a synthetic mesh of --services services (and of --scale times as many),
runs 'meshpilot analyze -o json' on it in a child process --runs times, and reports the
median wall time, the peak RSS, whether every planted defect was found, and the
decode floor: decoding the same YAML with gopkg.in/yaml.v3 into maps on one core.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), s, services, scale, runs)
		},
	}
	cmd.Flags().IntVar(&services, "services", 10000, "services in the base mesh")
	cmd.Flags().IntVar(&scale, "scale", 4, "also measure a mesh this many times larger (0 to skip)")
	cmd.Flags().IntVar(&runs, "runs", 3, "runs per size (median reported)")
	return cmd
}

func runBench(ctx context.Context, s streams, services, scale, runs int) error {
	self, err := os.Executable()
	if err != nil {
		return &exitError{code: exitInternal, err: fmt.Errorf("find own binary: %w", err)}
	}
	dir, err := os.MkdirTemp("", "meshpilot-bench-")
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	defer os.RemoveAll(dir)
	sizes := []int{services}
	if scale > 1 {
		sizes = append(sizes, services*scale)
	}
	var results []benchRun
	for _, n := range sizes {
		m := synth.Generate(synth.Options{Services: n, Seed: 1})
		path := filepath.Join(dir, fmt.Sprintf("mesh-%d.yaml", n))
		if err := os.WriteFile(path, m.YAML, 0o644); err != nil {
			return &exitError{code: exitInternal, err: err}
		}
		if n == services {
			floor, err := decodeFloor(m.YAML)
			if err != nil {
				return &exitError{code: exitInternal, err: err}
			}
			fmt.Fprintf(s.out, "decode floor: yaml.v3 into maps, one goroutine, %d docs (%.1f MB): %v\n",
				m.Docs, float64(len(m.YAML))/1e6, floor.Round(time.Millisecond))
		}
		var rs []benchRun
		for i := 0; i < runs; i++ {
			r, err := benchOnce(ctx, self, path, m)
			if err != nil {
				return &exitError{code: exitInternal, err: err}
			}
			r.services = n
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].wall < rs[j].wall })
		med := rs[len(rs)/2]
		for _, r := range rs {
			med.maxRSSKiB = max(med.maxRSSKiB, r.maxRSSKiB)
		}
		results = append(results, med)
		fmt.Fprintf(s.out, "N=%-6d docs=%-6d %6.1f MB  wall median %-8v peak RSS %4d MB  findings %-5d planted defects found %d/%d, unplanted findings %d\n",
			n, med.docs, float64(med.bytes)/1e6, med.wall.Round(time.Millisecond), med.maxRSSKiB>>10, med.findings,
			med.truth-len(med.missing), med.truth, med.unplanted)
		for i, miss := range med.missing {
			if i == 10 {
				fmt.Fprintf(s.out, "  ... %d more missing\n", len(med.missing)-10)
				break
			}
			fmt.Fprintf(s.out, "  missing: %s\n", miss)
		}
	}
	if len(results) == 2 {
		fmt.Fprintf(s.out, "growth: N=%d takes %.2fx the time of N=%d\n", results[1].services,
			float64(results[1].wall)/float64(results[0].wall), results[0].services)
	}
	return nil
}

func benchOnce(ctx context.Context, self, path string, m *synth.Mesh) (benchRun, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, self, "analyze", "-o", "json", "--fail-on", "none", path)
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return benchRun{}, fmt.Errorf("analyze %s: %w: %s", path, err, errb.String())
	}
	r := benchRun{docs: m.Docs, bytes: len(m.YAML), wall: wall, truth: len(m.Truth)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss
	}
	var rep struct {
		Findings []struct {
			Code     string `json:"code"`
			Resource string `json:"resource"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return benchRun{}, fmt.Errorf("read analyze output: %w", err)
	}
	r.findings = len(rep.Findings)
	got := map[string]int{}
	for _, f := range rep.Findings {
		got[f.Code+" "+f.Resource]++
	}
	for _, t := range m.Truth {
		if got[t] > 0 {
			got[t]--
			continue
		}
		r.missing = append(r.missing, t)
	}
	for _, n := range got {
		r.unplanted += n
	}
	return r, nil
}

// decodeFloor times decoding the stream into generic maps with yaml.v3 on
// one goroutine: the cost any yaml.v3-based loader pays before doing
// anything useful.
func decodeFloor(data []byte) (time.Duration, error) {
	start := time.Now()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, fmt.Errorf("decode floor: %w", err)
		}
	}
	return time.Since(start), nil
}
