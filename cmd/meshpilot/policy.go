package main

import (
	"fmt"
	"io"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
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

// selectAnalyzers resolves --only and --skip over every analyzer, plus the
// guardrail analyzer of --policy when one is given.
func selectAnalyzers(s streams, policyPath string, only, skip []string) (*analysis.Selection, *guardrail.Policy, error) {
	all := analyzers.All()
	policy, err := loadPolicy(s.err, policyPath)
	if err != nil {
		return nil, nil, err
	}
	if policy != nil {
		all = append(all, guardrail.Analyzer(policy))
	}
	sel, err := analysis.Select(all, only, skip)
	if err != nil {
		return nil, nil, &exitError{code: exitInput, err: err}
	}
	return sel, policy, nil
}
