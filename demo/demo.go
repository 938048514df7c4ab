// Package demo embeds a small, realistic sample mesh — a dozen services
// across three namespaces, an ingress gateway, canary subsets and
// authorization policies — with problems planted in it, so that
// `meshpilot demo` shows the tool at work with no input.
package demo

import (
	"embed"
	"io/fs"
	"path"
	"sort"

	"github.com/meshpilot/meshpilot/source/files"
)

//go:embed mesh/*.yaml
var meshFS embed.FS

// Traffic is an hour of the demo mesh's observed traffic, in the
// telemetry/fixture format.
//
//go:embed traffic.yaml
var Traffic []byte

// Inputs returns the demo manifests, in file name order, named
// "demo/<file>".
func Inputs() []files.Named {
	entries, err := fs.ReadDir(meshFS, "mesh")
	if err != nil {
		panic(err) // embedded at build time: cannot be missing
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	out := make([]files.Named, 0, len(entries))
	for _, e := range entries {
		data, err := meshFS.ReadFile(path.Join("mesh", e.Name()))
		if err != nil {
			panic(err)
		}
		out = append(out, files.Named{Name: "demo/" + e.Name(), Data: data})
	}
	return out
}
