// Command meshpilot analyzes Istio service meshes: their configuration
// files, live clusters and Rancher-managed clusters, with every finding as CI can gate on it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	exitOK       = 0
	exitInternal = 1
	exitInput    = 2
	exitFindings = 3
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// streams are the command's standard streams, passed in so that tests run
// commands in-process.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := streams{in: stdin, out: stdout, err: stderr}
	root := newRoot(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "meshpilot:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "meshpilot:", err)
	// Cobra's own errors are about usage: unknown flags and commands.
	return exitInput
}

func newRoot(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "meshpilot",
		Short: "An AI copilot for Istio service meshes: finds misconfigurations and proposes fixes",
		Long: `meshpilot reads an Istio mesh (files and folders of YAML, a live cluster, or the
clusters Rancher manages) and reports what is wrong with it: everything istioctl analyze
reports, plus its own checks.

Exit codes: 0 nothing at or above --fail-on; 3 findings at or above it;
2 bad input or usage (the valid rest is still analyzed); 1 internal error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.AddCommand(newAnalyzeCmd(s), newWatchCmd(s), newFixCmd(s), newDemoCmd(s), newAnalyzersCmd(s), newExplainCmd(s), newGenCmd(s), newBenchCmd(s), newOverheadCmd(s), newTrafficCmd(s), newRecommendCmd(s))
	return root
}
