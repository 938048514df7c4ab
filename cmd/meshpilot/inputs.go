package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/source/files"
)

// loadInputs reads the command's inputs — PATHs, stdin for "-", or the
// embedded demo — validating Istio and Gateway API objects against their
// CRDs. Usage mistakes are exit 2, a failure to read at all exit 1; input
// problems come back in the result.
func loadInputs(ctx context.Context, s streams, paths []string, useDemo bool, maxFileMiB int64) (*files.Result, error) {
	schemas, err := crd.Load()
	if err != nil {
		return nil, &exitError{code: exitInternal, err: fmt.Errorf("load CRD schemas: %w", err)}
	}
	opts := files.Options{Stdin: s.in, MaxFileSize: maxFileMiB << 20, Schemas: schemas}
	var res *files.Result
	switch {
	case useDemo && len(paths) > 0:
		return nil, &exitError{code: exitInput, err: errors.New("--demo takes no PATH")}
	case useDemo:
		res, err = files.LoadBytes(ctx, demo.Inputs(), opts)
	case len(paths) == 0:
		return nil, &exitError{code: exitInput, err: errors.New("no PATH given: name files or folders, - for stdin, or use --demo")}
	default:
		setMemoryLimit(paths)
		res, err = files.Load(ctx, paths, opts)
	}
	if err != nil {
		return nil, &exitError{code: exitInternal, err: err}
	}
	return res, nil
}
