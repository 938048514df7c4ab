package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/demo"
	"github.com/meshpilot/meshpilot/fix"
	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/files"
)

// analyzed is what an analysis produced, for what acts on its findings.
type analyzed struct {
	snap     *mesh.Snapshot
	findings []analysis.Finding
	problems int // input errors, already printed
	// read returns the bytes a file was read from.
	read func(file string) ([]byte, error)
}

// sourceReader reads the files the findings point into: the embedded demo
// mesh, or the user's files.
func sourceReader(demoMode bool) func(string) ([]byte, error) {
	if !demoMode {
		return os.ReadFile
	}
	return func(name string) ([]byte, error) {
		for _, in := range demo.Inputs() {
			if in.Name == name {
				return in.Data, nil
			}
		}
		return nil, fmt.Errorf("%s: not a demo file", name)
	}
}

type fixFlags struct {
	analyzeFlags
	dryRun bool
	// alternative is the 1-based index of the fix to apply where a finding
	// offers several (a finding with fewer is skipped and said so).
	alternative int
}

func newFixCmd(s streams) *cobra.Command {
	f := &fixFlags{}
	cmd := &cobra.Command{
		Use:   "fix PATH...",
		Short: "Apply the suggested fixes of findings to the files they came from",
		Long: `Fix analyzes PATHs as analyze does and applies the first suggested fix of each
finding to the user's files, in place: only the lines a fix changes are
rewritten; comments and formatting stay. Several fixes to one file are
applied together, in file, line and code order; a fix whose edits overlap an
earlier one's (the same path, one inside the other, or a list whose items an
earlier fix adds or removes) is skipped and reported, as are findings on
objects read from standard input. Files are replaced atomically (a temporary
file renamed over them, with their mode).

Exit codes: 0 fixes applied (or none to apply); 2 bad input or usage (fixes
to the valid rest are still applied); 1 internal error.`,
		Example: `  meshpilot fix ./gitops/
  meshpilot fix --only IST0118 --dry-run ./gitops/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.output, f.failOn = "text", "none"
			f.then = func(ctx context.Context, a *analyzed) error { return runFix(s, f, a) }
			return runAnalyze(cmd.Context(), s, &f.analyzeFlags, args)
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&f.only, "only", nil, "fix only findings of these codes or analyzers (comma-separated)")
	fs.StringSliceVar(&f.skip, "skip", nil, "do not fix findings of these codes or analyzers")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the changes as unified diffs and write nothing")
	fs.IntVar(&f.alternative, "alternative", 1, "where a finding offers several fixes, apply this one (1 = first; see analyze --diff)")
	fs.StringVar(&f.meshConfig, "mesh-config", "", "MeshConfig file (as istioctl's --meshConfigFile)")
	fs.StringVar(&f.meshNetworks, "mesh-networks", "", "MeshNetworks file")
	fs.Int64Var(&f.maxFileMiB, "max-file-size", files.DefaultMaxFileSize>>20, "largest input file read, in MiB")
	fs.StringVar(&f.policy, "policy", "", "GuardrailPolicy file: fixes that would break it are not applied")
	return cmd
}

// runFix plans, applies and writes the fixes of an analysis.
func runFix(s streams, f *fixFlags, a *analyzed) error {
	if f.alternative < 1 {
		return &exitError{code: exitInput, err: fmt.Errorf("--alternative must be 1 or more, not %d", f.alternative)}
	}
	plans, skipped := planFixes(a, f.alternative-1)
	set := newFileSet(a.read, plans)
	var applied []plannedFix
	for _, p := range plans {
		if err := set.apply(p); err != nil {
			skipped = append(skipped, skippedFix{p.finding, err.Error()})
			continue
		}
		applied = append(applied, p)
	}
	for _, sk := range skipped {
		fmt.Fprintf(s.err, "skipped: %s: %s\n", describeFinding(sk.finding), sk.reason)
	}
	verb := "fixed"
	if f.dryRun {
		verb = "would fix"
	}
	for _, p := range applied {
		fmt.Fprintf(s.out, "%s %s: %s\n", verb, describeFinding(p.finding), p.fix.Message)
		if p.fix.Explanation != "" {
			fmt.Fprintf(s.out, "    %s\n", oneLine(p.fix.Explanation))
		}
	}
	changed := set.changed()
	for _, file := range changed {
		if f.dryRun {
			fmt.Fprint(s.out, fix.Diff(file, set.orig[file], set.cur[file]))
			continue
		}
		if err := writeAtomic(file, set.cur[file]); err != nil {
			return &exitError{code: exitInput, err: err}
		}
	}
	what := "applied"
	if f.dryRun {
		what = "would be applied (dry run: nothing written)"
	}
	fmt.Fprintf(s.out, "%d fixes %s to %d files; %d skipped.\n", len(applied), what, len(changed), len(skipped))
	if a.problems > 0 {
		return &exitError{code: exitInput, err: fmt.Errorf("%d input errors (see above); the rest was analyzed and fixed", a.problems)}
	}
	return nil
}

// writeFixDiffs prints, after analyze's report, each finding's first fix as
// a diff of its file, each computed on the files as they are.
func writeFixDiffs(w io.Writer, a *analyzed) {
	plans, skipped := planFixesNoConflicts(a, 0)
	reasons := map[*analysis.Finding]string{}
	for _, sk := range skipped {
		reasons[sk.finding] = sk.reason
	}
	for i := range a.findings {
		fd := &a.findings[i]
		if len(fd.Fixes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nfix for %s: %s\n", describeFinding(fd), fd.Fixes[0].Message)
		if e := fd.Fixes[0].Explanation; e != "" {
			fmt.Fprintf(w, "    %s\n", oneLine(e))
		}
		if r, ok := reasons[fd]; ok {
			fmt.Fprintf(w, "    (no diff: %s)\n", r)
			continue
		}
		set := newFileSet(a.read, []plannedFix{plans[fd]})
		if err := set.apply(plans[fd]); err != nil {
			fmt.Fprintf(w, "    (no diff: %s)\n", err)
			continue
		}
		for _, file := range set.changed() {
			fmt.Fprint(w, fix.Diff(file, set.orig[file], set.cur[file]))
		}
		for j, alt := range fd.Fixes[1:] {
			fmt.Fprintf(w, "    alternative %d: %s (meshpilot fix --alternative %d --only %s)\n", j+2, alt.Message, j+2, fd.Code)
		}
	}
}

func describeFinding(f *analysis.Finding) string {
	s := f.Code + " " + f.Resource
	if f.File != "" && f.Line > 0 {
		s += " (" + f.File + ":" + strconv.Itoa(f.Line) + ")"
	}
	return s
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// plannedFix is a finding's first fix, its edits grouped by the object they
// change.
type plannedFix struct {
	finding *analysis.Finding
	fix     analysis.Fix
	targets []target
}

// target is the edits of a fix on one object.
type target struct {
	at    objectAt
	edits []analysis.Edit
}

// objectAt is an object by its file and original first line.
type objectAt struct {
	file string
	line int
}

type skippedFix struct {
	finding *analysis.Finding
	reason  string
}

// planFixes resolves the first fix of every finding, in file, line and
// code order, and skips fixes that overlap an earlier one.
func planFixes(a *analyzed, alt int) ([]plannedFix, []skippedFix) {
	byFinding, skipped := planFixesNoConflicts(a, alt)
	order := make([]*analysis.Finding, 0, len(byFinding))
	for fd := range byFinding {
		order = append(order, fd)
	}
	sort.SliceStable(order, func(i, j int) bool {
		x, y := order[i], order[j]
		if x.File != y.File {
			return x.File < y.File
		}
		if x.Line != y.Line {
			return x.Line < y.Line
		}
		if x.Code != y.Code {
			return x.Code < y.Code
		}
		return x.Message < y.Message
	})
	var plans []plannedFix
	var claimed []claim
	for _, fd := range order {
		p := byFinding[fd]
		if c, ok := conflict(claimed, p); ok {
			skipped = append(skipped, skippedFix{fd, fmt.Sprintf("its edit of %s conflicts with the fix of %s, applied first",
				c.path, describeFinding(c.by))})
			continue
		}
		for _, t := range p.targets {
			for _, e := range t.edits {
				claimed = append(claimed, claim{t.at, e, fd})
			}
		}
		plans = append(plans, p)
	}
	return plans, skipped
}

// planFixesNoConflicts resolves every finding's first fix to the objects it
// edits; findings whose fix cannot be located are skipped with the reason.
func planFixesNoConflicts(a *analyzed, alt int) (map[*analysis.Finding]plannedFix, []skippedFix) {
	refs := map[string][]*mesh.Object{}
	for _, o := range a.snap.Objects() {
		refs[o.Ref().String()] = append(refs[o.Ref().String()], o)
	}
	out := map[*analysis.Finding]plannedFix{}
	var skipped []skippedFix
	for i := range a.findings {
		fd := &a.findings[i]
		if len(fd.Fixes) == 0 {
			continue
		}
		p, err := resolveFix(fd, alt, refs)
		if err != nil {
			skipped = append(skipped, skippedFix{fd, err.Error()})
			continue
		}
		out[fd] = p
	}
	return out, skipped
}

func resolveFix(fd *analysis.Finding, alt int, refs map[string][]*mesh.Object) (plannedFix, error) {
	if alt >= len(fd.Fixes) {
		return plannedFix{}, fmt.Errorf("it offers %d fix(es), not alternative %d", len(fd.Fixes), alt+1)
	}
	p := plannedFix{finding: fd, fix: fd.Fixes[alt]}
	if len(p.fix.Edits) == 0 {
		return p, errors.New("its fix has no edits")
	}
	index := map[objectAt]int{}
	for _, e := range p.fix.Edits {
		o := fd.Object
		if e.Resource != "" && (o == nil || e.Resource != fd.Resource) {
			switch objs := refs[e.Resource]; len(objs) {
			case 0:
				return p, fmt.Errorf("its fix edits %s, which is not among the inputs", e.Resource)
			case 1:
				o = objs[0]
			default:
				return p, fmt.Errorf("its fix edits %s, which is defined %d times", e.Resource, len(objs))
			}
		}
		switch {
		case o == nil:
			return p, errors.New("its fix names no object")
		case o.Source.File == "<stdin>":
			return p, errors.New("the object was read from standard input, which cannot be rewritten")
		case o.Source.File == "" || o.Source.Line <= 0:
			return p, fmt.Errorf("%s was not read from a file", o.Ref())
		}
		at := objectAt{o.Source.File, o.Source.Line}
		i, ok := index[at]
		if !ok {
			i = len(p.targets)
			index[at] = i
			p.targets = append(p.targets, target{at: at})
		}
		p.targets[i].edits = append(p.targets[i].edits, e)
	}
	return p, nil
}

// claim is an edit already planned.
type claim struct {
	at   objectAt
	edit analysis.Edit
	by   *analysis.Finding
}

type conflictAt struct {
	path string
	by   *analysis.Finding
}

// conflict reports the first claimed edit that p's edits overlap: the same
// object and paths equal or nested, or an edit into a list whose items the
// other adds or removes (which shifts the indices).
func conflict(claimed []claim, p plannedFix) (conflictAt, bool) {
	for _, t := range p.targets {
		for _, e := range t.edits {
			for _, c := range claimed {
				if c.at == t.at && (nested(c.edit.Path, e.Path) || shifts(c.edit, e.Path) || shifts(e, c.edit.Path)) {
					return conflictAt{e.Path, c.by}, true
				}
			}
		}
	}
	return conflictAt{}, false
}

func nested(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// shifts reports whether e adds an item to a list ("-") or removes one,
// and path indexes into that list, so that its indices would move.
func shifts(e analysis.Edit, path string) bool {
	i := strings.LastIndexByte(e.Path, '/')
	if i < 0 {
		return false
	}
	list, last := e.Path[:i], e.Path[i+1:]
	if !(last == "-" && !e.Delete) && !(e.Delete && isIndex(last)) {
		return false
	}
	rest, ok := strings.CutPrefix(path, list+"/")
	if !ok {
		return false
	}
	seg, _, _ := strings.Cut(rest, "/")
	return isIndex(seg) || seg == "-"
}

func isIndex(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// fileSet holds the files being fixed in memory and where each object's
// first line is now.
type fileSet struct {
	read      func(string) ([]byte, error)
	orig, cur map[string][]byte
	lines     map[objectAt]int
}

func newFileSet(read func(string) ([]byte, error), plans []plannedFix) *fileSet {
	fs := &fileSet{read: read, orig: map[string][]byte{}, cur: map[string][]byte{}, lines: map[objectAt]int{}}
	for _, p := range plans {
		for _, t := range p.targets {
			fs.lines[t.at] = t.at.line
		}
	}
	return fs
}

// apply applies all of a fix or none of it.
func (fs *fileSet) apply(p plannedFix) error {
	savedCur := make(map[string][]byte, len(fs.cur))
	for k, v := range fs.cur {
		savedCur[k] = v
	}
	savedLines := make(map[objectAt]int, len(fs.lines))
	for k, v := range fs.lines {
		savedLines[k] = v
	}
	restore := func() { fs.cur, fs.lines = savedCur, savedLines }
	targets := append([]target(nil), p.targets...)
	// Bottom up, so that an object's change moves no object still to do.
	sort.SliceStable(targets, func(i, j int) bool {
		if targets[i].at.file != targets[j].at.file {
			return targets[i].at.file < targets[j].at.file
		}
		return fs.lines[targets[i].at] > fs.lines[targets[j].at]
	})
	for _, t := range targets {
		if err := fs.applyTarget(t); err != nil {
			restore()
			return err
		}
	}
	return nil
}

func (fs *fileSet) applyTarget(t target) error {
	file := t.at.file
	src, ok := fs.cur[file]
	if !ok {
		data, err := fs.read(file)
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		fs.orig[file], fs.cur[file], src = data, data, data
	}
	line, ok := fs.lines[t.at]
	if !ok {
		return fmt.Errorf("%s:%d: the object's first line was changed by an earlier fix", file, t.at.line)
	}
	out, err := fix.Apply(src, line, t.edits)
	if err != nil {
		var fe *fix.Error
		if errors.As(err, &fe) {
			fe.File = file
			return fe
		}
		return fmt.Errorf("%s:%d: %w", file, line, err)
	}
	for at, l := range fs.lines {
		if at.file != file {
			continue
		}
		if nl, ok := fix.MapLine(src, out, l); ok {
			fs.lines[at] = nl
		} else {
			delete(fs.lines, at)
		}
	}
	fs.cur[file] = out
	return nil
}

// changed lists the files whose bytes changed, sorted.
func (fs *fileSet) changed() []string {
	var out []string
	for file, b := range fs.cur {
		if string(b) != string(fs.orig[file]) {
			out = append(out, file)
		}
	}
	sort.Strings(out)
	return out
}

// writeAtomic replaces a file by writing a temporary file beside it (beside
// a symlink's target) and renaming it over, with the file's mode.
func writeAtomic(path string, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	info, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".meshpilot-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), real); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
