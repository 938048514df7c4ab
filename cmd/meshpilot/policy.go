package main

import (
	"fmt"
	"io"

	"github.com/meshpilot/meshpilot/analyzers/guardrail"
)

// loadPolicy reads the --policy file, if any. A policy with problems is a
// usage error: each problem is printed (file:line:column: field: message)
// and nothing is analyzed, since a run without its guardrails could pass a
// gate it should fail.
func loadPolicy(w io.Writer, path string) (*guardrail.Policy, error) {
	if path == "" {
		return nil, nil
	}
	p, err := guardrail.Load(path)
	if err == nil {
		return p, nil
	}
	errs := guardrail.Errors(err)
	if errs == nil {
		return nil, &exitError{code: exitInput, err: fmt.Errorf("--policy: %w", err)}
	}
	for _, e := range errs {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	return nil, &exitError{code: exitInput, err: fmt.Errorf("--policy %s: %d errors (see above)", path, len(errs))}
}
