package accesslog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/meshpilot/meshpilot/telemetry"
)

// Input is one log file and, when known, the workload whose proxy wrote it.
type Input struct {
	Path     string
	Workload telemetry.Workload
}

// ParseInput reads an --access-log argument: "FILE", or
// "NAMESPACE/WORKLOAD=FILE" naming the workload whose proxy wrote the file.
//
// An argument is read as NAMESPACE/WORKLOAD=FILE when the text before its
// first "=" holds exactly one "/" and starts with neither "." nor "/"; a
// file whose own name looks like that is given as "./logs/a=b.log".
func ParseInput(arg string) (Input, error) {
	switch arg {
	case "":
		return Input{}, errors.New("empty access log argument")
	case "-":
		return Input{}, errors.New(`access logs cannot be read from standard input ("-"): save them to a file first (kubectl logs --prefix POD -c istio-proxy > FILE)`)
	}
	spec, path, ok := strings.Cut(arg, "=")
	if !ok || strings.Count(spec, "/") != 1 || strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
		return Input{Path: arg}, nil
	}
	ns, name, _ := strings.Cut(spec, "/")
	switch {
	case ns == "" || name == "":
		return Input{}, fmt.Errorf("access log %q: want NAMESPACE/WORKLOAD=FILE", arg)
	case path == "":
		return Input{}, fmt.Errorf("access log %q: no file after %q", arg, spec+"=")
	case path == "-":
		return Input{}, fmt.Errorf("access log %q: access logs cannot be read from standard input (\"-\"): save them to a file first", arg)
	}
	return Input{Path: path, Workload: telemetry.Workload{Namespace: ns, Name: name}}, nil
}
