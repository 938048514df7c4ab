// Package files builds a mesh snapshot from YAML and JSON files and
// folders: multi-document YAML, JSON, "kind: List", and the output of helm
// template and kustomize build as it is. Every object remembers its file and
// line; every bad input is reported with file, line and field, and the rest
// is still read.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	meshconfig "istio.io/api/mesh/v1alpha1"

	"github.com/meshpilot/meshpilot/crd"
	"github.com/meshpilot/meshpilot/internal/yamlconv"
	"github.com/meshpilot/meshpilot/mesh"
)

// Options bound and configure loading. Zero values take the defaults.
type Options struct {
	// Stdin is read for the path "-".
	Stdin io.Reader
	// MaxFileSize bounds one file (default 128 MiB).
	MaxFileSize int64
	// MaxDocumentSize bounds one YAML document (default 8 MiB).
	MaxDocumentSize int
	// Limits bound nesting and alias expansion per document.
	Limits yamlconv.Limits
	// Schemas, when set, validates Istio and Gateway API objects against
	// their published CRDs (OpenAPI v3 and CEL rules) as an API server would.
	Schemas *crd.Set
	// Workers bounds parallel decoding (default GOMAXPROCS).
	Workers int
	Logger  *slog.Logger
}

// Defaults for Options.
const (
	DefaultMaxFileSize     = 128 << 20
	DefaultMaxDocumentSize = 8 << 20
)

// Problem is an input error: something that could not be read as given.
type Problem struct {
	File  string
	Line  int // 0 when the problem is with the file as a whole
	Field string
	Msg   string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Result is what a load produced.
type Result struct {
	Objects []*mesh.Object
	// Problems are input errors; everything else was still read.
	Problems []Problem
	// Notices are worth saying but not errors (an empty file).
	Notices []Problem
	// Unmodeled counts objects of API groups meshpilot does not model, by
	// "Kind.group/version".
	Unmodeled map[string]int
	Files     int
	Documents int
	// MeshConfig and MeshNetworks come from an istio ConfigMap among the
	// inputs, when there is one.
	MeshConfig   *meshconfig.MeshConfig
	MeshNetworks *meshconfig.MeshNetworks
}

type input struct {
	name string
	read func() ([]byte, error)
}

// Load reads every path (files, folders recursively, "-" for stdin).
func Load(ctx context.Context, paths []string, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	res := &Result{Unmodeled: map[string]int{}}
	return load(ctx, collect(paths, opts, res), opts, res)
}

// Named is an in-memory input: a name to report problems against and its
// bytes.
type Named struct {
	Name string
	Data []byte
}

// LoadBytes reads in-memory inputs (embedded demo data, generated meshes)
// exactly as Load reads files.
func LoadBytes(ctx context.Context, inputs []Named, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	res := &Result{Unmodeled: map[string]int{}}
	ins := make([]input, len(inputs))
	for i, in := range inputs {
		data := in.Data
		ins[i] = input{name: in.Name, read: func() ([]byte, error) {
			if int64(len(data)) > opts.MaxFileSize {
				return nil, fmt.Errorf("larger than the %d MiB limit (--max-file-size); not read", opts.MaxFileSize>>20)
			}
			return data, nil
		}}
	}
	return load(ctx, ins, opts, res)
}

func load(ctx context.Context, inputs []input, opts Options, res *Result) (*Result, error) {
	res.Files = len(inputs)

	// Read and split files, then decode documents in parallel; results keep
	// input order through their slot.
	type job struct {
		file string
		c    chunk
		slot int
	}
	var jobs []job
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		data, err := in.read()
		if err != nil {
			res.Problems = append(res.Problems, Problem{File: in.name, Msg: err.Error()})
			continue
		}
		if p := checkFile(in.name, data); p != nil {
			res.Problems = append(res.Problems, *p)
			continue
		}
		chunks := splitDocuments(data)
		jobs = slices.Grow(jobs, len(chunks))
		n := 0
		for _, c := range chunks {
			if blank(c.data) {
				continue
			}
			n++
			jobs = append(jobs, job{file: in.name, c: c, slot: len(jobs)})
		}
		if n == 0 {
			res.Notices = append(res.Notices, Problem{File: in.name, Msg: "empty: no YAML document in it"})
		}
	}
	res.Documents = len(jobs)

	// Workers take batches of documents by bumping a shared cursor: no
	// channel hand-off per document, so both cores stay busy.
	const batch = 32
	outs := make([]docResult, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newDecoder(opts)
			for ctx.Err() == nil {
				end := int(next.Add(batch))
				start := end - batch
				if start >= len(jobs) {
					return
				}
				for _, j := range jobs[start:min(end, len(jobs))] {
					outs[j.slot] = d.document(ctx, j.file, j.c)
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	total := 0
	for _, o := range outs {
		total += len(o.objects)
	}
	res.Objects = slices.Grow(res.Objects, total)
	for _, o := range outs {
		res.Objects = append(res.Objects, o.objects...)
		res.Problems = append(res.Problems, o.problems...)
		res.Notices = append(res.Notices, o.notices...)
		for k, n := range o.unmodeled {
			res.Unmodeled[k] += n
		}
	}
	meshConfigFromConfigMaps(res)
	return res, nil
}

func withDefaults(o Options) Options {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxDocumentSize <= 0 {
		o.MaxDocumentSize = DefaultMaxDocumentSize
	}
	if o.Limits == (yamlconv.Limits{}) {
		o.Limits = yamlconv.DefaultLimits
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// collect expands paths into inputs, reporting what cannot be read.
func collect(paths []string, opts Options, res *Result) []input {
	var out []input
	stdinUsed := false
	for _, p := range paths {
		if p == "-" {
			if stdinUsed {
				res.Problems = append(res.Problems, Problem{File: "-", Msg: "standard input given more than once"})
				continue
			}
			stdinUsed = true
			out = append(out, input{name: "<stdin>", read: func() ([]byte, error) {
				if opts.Stdin == nil {
					return nil, errors.New("no standard input")
				}
				return readBounded(opts.Stdin, opts.MaxFileSize)
			}})
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			res.Problems = append(res.Problems, Problem{File: p, Msg: describeStatErr(err)})
			continue
		}
		if !fi.IsDir() {
			out = append(out, fileInput(p, opts))
			continue
		}
		before := len(out)
		w := walker{opts: opts, res: res, seen: map[string]string{}}
		out = w.walk(p, out)
		if len(out) == before {
			res.Problems = append(res.Problems, Problem{File: p, Msg: "folder holds no .yaml, .yml or .json file"})
		}
	}
	return out
}

func describeStatErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if strings.Contains(err.Error(), "too many levels of symbolic links") {
		return "symlink loop: " + err.Error()
	}
	return err.Error()
}

func fileInput(p string, opts Options) input {
	return input{name: p, read: func() ([]byte, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readBounded(f, opts.MaxFileSize)
	}}
}

func readBounded(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than the %d MiB limit (--max-file-size); not read", max>>20)
	}
	return data, nil
}

type walker struct {
	opts Options
	res  *Result
	seen map[string]string // real path of a folder → path it was first reached by
}

// walk adds the YAML files below dir, in lexical order, following symbolic
// links to folders once each: a link back to a folder already on the way
// is a loop, reported and not followed.
func (w *walker) walk(dir string, out []input) []input {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		w.res.Problems = append(w.res.Problems, Problem{File: dir, Msg: describeStatErr(err)})
		return out
	}
	if first, ok := w.seen[real]; ok {
		w.res.Problems = append(w.res.Problems, Problem{File: dir, Msg: fmt.Sprintf("symlink loop: folder already read as %s; not followed", first)})
		return out
	}
	w.seen[real] = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.res.Problems = append(w.res.Problems, Problem{File: dir, Msg: err.Error()})
		return out
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				w.res.Problems = append(w.res.Problems, Problem{File: p, Msg: describeStatErr(err)})
				continue
			}
			isDir = fi.IsDir()
		}
		if isDir {
			if strings.HasPrefix(e.Name(), ".") {
				continue // .git and friends
			}
			out = w.walk(p, out)
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			out = append(out, fileInput(p, w.opts))
		}
	}
	return out
}

// Snapshot builds a snapshot of the loaded objects. Mesh config and
// networks given in opts win over those found in an istio ConfigMap.
func (r *Result) Snapshot(opts mesh.Options) *mesh.Snapshot {
	if opts.MeshConfig == nil {
		opts.MeshConfig = r.MeshConfig
	}
	if opts.MeshNetworks == nil {
		opts.MeshNetworks = r.MeshNetworks
	}
	return mesh.New(r.Objects, opts)
}
