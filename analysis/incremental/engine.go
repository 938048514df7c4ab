package incremental

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// Change is one object added, updated or deleted. With Object set it is an
// upsert (or, with Deleted, the deletion of that object's key); without,
// a deletion of Key.
type Change struct {
	Object  *mesh.Object
	Deleted bool
	Key     mesh.Key
}

// Upsert adds o, or replaces the object of its key.
func Upsert(o *mesh.Object) Change { return Change{Object: o} }

// Delete removes the object of key k.
func Delete(k mesh.Key) Change { return Change{Deleted: true, Key: k} }

func (c Change) key() mesh.Key {
	if c.Object != nil {
		return c.Object.Key()
	}
	return c.Key
}

// Delta is what an Apply changed.
type Delta struct {
	// Opened and Closed are the findings that appeared and disappeared,
	// sorted with analysis.Sort. A finding whose message changed is closed
	// and opened again.
	Opened, Closed []analysis.Finding
	// Full says the change was re-analyzed over the whole mesh; Reason
	// says why.
	Full   bool
	Reason string
	// Scope lists the partitions (namespaces) whose findings were
	// recomputed; nil after a full run.
	Scope []string
	// Objects is the size of the snapshot analyzed.
	Objects int
	Took    time.Duration
}

// Engine keeps the findings of a mesh current as its objects change.
//
// An Engine is not safe for concurrent use: Apply, Reset, Findings and
// Objects must not run at the same time. Objects given to it are never
// modified and must not be modified afterwards; an update is a new
// *mesh.Object.
//
// Findings that depend on the clock (certificate validity) are as of the
// last analysis of their namespace; Reset re-analyzes everything.
type Engine struct {
	sel      *analysis.Selection
	opts     analysis.Options
	snapOpts mesh.Options
	root     string

	byKey     map[mesh.Key][]*item
	items     map[*item]bool
	parts     map[string]*partition
	byLower   map[string]map[string]bool
	globals   map[*item]bool // global objects outside global partitions
	nextSeq   uint64
	nsObjects int
	clustered int

	env *env
	idx *index

	findings map[string][]analysis.Finding // by group: partition, globalKey or noObject
	sorted   []analysis.Finding
	// stale: an error left the findings behind the objects; the next
	// Apply runs in full.
	stale bool
	// dirty: the index must be rebuilt, as what dependency extraction
	// reads of global objects (env) changed, or changes were stored
	// without it.
	dirty bool
}

// noObject groups findings without an object (mesh-wide ones): they
// depend on global inputs only and are recomputed by full runs.
const noObject = "\x00none"

// New analyzes objects, in the order given, and returns an engine holding
// them and their findings. opts.Reads, when set, is told what each analyzer
// read in this first, full analysis only: later runs cover part of the mesh.
func New(ctx context.Context, objects []*mesh.Object, snapOpts mesh.Options, sel *analysis.Selection, opts analysis.Options) (*Engine, error) {
	if sel == nil {
		return nil, errors.New("incremental: no analyzer selection")
	}
	e := &Engine{sel: sel, opts: opts, dirty: true}
	e.setOptions(snapOpts)
	for i, o := range objects {
		if o == nil || o.Meta == nil {
			return nil, fmt.Errorf("incremental: object %d has no metadata", i)
		}
		it := e.newItem(o, nil)
		e.byKey[o.Key()] = append(e.byKey[o.Key()], it)
		e.insert(it)
	}
	if _, err := e.runFull(ctx, time.Now(), "initial analysis"); err != nil {
		return nil, err
	}
	e.opts.Reads = nil
	return e, nil
}

func (e *Engine) setOptions(o mesh.Options) {
	e.snapOpts = o
	e.root = mesh.New(nil, o).RootNamespace()
	e.byKey = map[mesh.Key][]*item{}
	e.items = map[*item]bool{}
	e.parts = map[string]*partition{}
	e.byLower = map[string]map[string]bool{}
	e.globals = map[*item]bool{}
	e.nsObjects, e.clustered = 0, 0
}

// Reset re-analyzes the mesh in full under new snapshot options (a new
// mesh config), keeping its objects and their order.
func (e *Engine) Reset(ctx context.Context, snapOpts mesh.Options) (Delta, error) {
	items := ordered(e.items)
	e.setOptions(snapOpts)
	for _, old := range items {
		it := &item{obj: old.obj, seq: old.seq, part: old.part, root: e.root}
		it.global = e.isGlobal(it.obj, it.part)
		k := it.obj.Key()
		e.byKey[k] = append(e.byKey[k], it)
		e.insert(it)
	}
	e.dirty = true
	return e.runFull(ctx, time.Now(), "new mesh options")
}

// Objects returns the current objects in load order: the order of New's
// objects, updates in place, additions last.
func (e *Engine) Objects() []*mesh.Object { return objectsOf(ordered(e.items)) }

// Findings returns the current findings, sorted with analysis.Sort: the
// findings analysis.Run reports over a snapshot of Objects.
func (e *Engine) Findings() []analysis.Finding {
	if e.sorted == nil {
		groups := make([]string, 0, len(e.findings))
		n := 0
		for g, fs := range e.findings {
			groups = append(groups, g)
			n += len(fs)
		}
		sort.Strings(groups)
		all := make([]analysis.Finding, 0, n)
		for _, g := range groups {
			all = append(all, e.findings[g]...)
		}
		analysis.Sort(all)
		e.sorted = all
	}
	return slices.Clone(e.sorted)
}

// Apply applies changes and re-analyzes what they can affect. On error the
// objects are applied but the findings are not; the next Apply (even of no
// change) runs in full.
func (e *Engine) Apply(ctx context.Context, changes ...Change) (Delta, error) {
	start := time.Now()
	for i, c := range changes {
		switch {
		case c.Object == nil && !c.Deleted:
			return Delta{}, fmt.Errorf("incremental: change %d has no object and is not a deletion", i)
		case c.Object != nil && c.Object.Meta == nil:
			return Delta{}, fmt.Errorf("incremental: change %d: object has no metadata", i)
		}
	}
	full, reason := e.stale, "a previous Apply failed"
	r := &reach{keys: map[string]bool{}}
	for _, c := range changes {
		if e.dirty {
			e.storeOnly(c)
			continue
		}
		why, rebuild := e.change(c, r)
		if why != "" && !full {
			full, reason = true, why
		}
		e.dirty = rebuild
	}
	if full {
		return e.runFull(ctx, start, reason)
	}
	if len(r.keys) == 0 {
		return Delta{Took: time.Since(start)}, nil
	}
	return e.runIncremental(ctx, start, r.keys)
}

// storeOnly applies a change to the store without maintaining the index
// (a full run rebuilds it).
func (e *Engine) storeOnly(c Change) {
	key := c.key()
	olds := e.byKey[key]
	var nu *item
	if c.Object != nil && !c.Deleted {
		nu = e.newItem(c.Object, olds)
	}
	if nu != nil || len(olds) > 0 {
		e.swap(key, olds, nu)
	}
}

// reach collects the reader keys a change can affect, and what brought in
// the global ones, for Delta.Reason.
type reach struct {
	keys map[string]bool
	why  string
}

func (r *reach) add(rk, why string) {
	if rk == globalKey && !r.keys[rk] {
		r.why = why
	}
	r.keys[rk] = true
}

// pending is a change about to be indexed: the deps of the objects it
// replaces and of the new one.
type pending struct {
	olds      []*item
	nu        *item
	olDeps    []deps
	nuDeps    deps
	firsts    map[string]*item // first provider of each first-token, before
	workloads bool             // the change adds or removes workload objects
	deep      bool             // readers look at the object through its partition
}

func (e *Engine) prepare(olds []*item, nu *item) *pending {
	pc := &pending{olds: olds, nu: nu, firsts: map[string]*item{}}
	add := func(it *item) deps {
		d := e.env.depsOf(it.obj)
		d.compact()
		for _, t := range d.firstProvides {
			pc.firsts[t] = e.idx.first(t)
		}
		pc.workloads = pc.workloads || workloadKinds[it.obj.GroupKind]
		pc.deep = pc.deep || contextKinds[it.obj.GroupKind]
		return d
	}
	for _, it := range olds {
		pc.olDeps = append(pc.olDeps, add(it))
	}
	if nu != nil {
		pc.nuDeps = add(nu)
	}
	return pc
}

// change applies one change, keeping the index current, and adds the
// reader keys whose findings it can affect. It returns why a full run is
// needed (or ""), and whether the index must be rebuilt.
func (e *Engine) change(c Change, r *reach) (string, bool) {
	key := c.key()
	olds := e.byKey[key]
	var nu *item
	if c.Object != nil && !c.Deleted {
		nu = e.newItem(c.Object, olds)
	}
	if nu == nil && len(olds) == 0 {
		return "", false // deleting what is not there
	}
	global := ""
	for _, it := range append(olds[:len(olds):len(olds)], nu) {
		if it != nil && it.global {
			if envKinds[it.obj.GroupKind] {
				e.swap(key, olds, nu)
				return fmt.Sprintf("%s is global", it.obj.Ref()), true
			}
			global = fmt.Sprintf("%s is global", it.obj.Ref())
		}
	}
	name := latest(olds, nu).part
	p := e.partition(name)
	hadNS, hadLive, wasEmpty := e.nsObjects > 0, e.clustered > 0, len(p.items) == 0
	pc := e.prepare(olds, nu)
	e.reachProvides(p, pc, r)
	for i, it := range olds {
		e.apply(it, &pc.olDeps[i], -1)
	}
	e.swap(key, olds, nu)
	if nu != nil {
		e.apply(nu, &pc.nuDeps, 1)
	}
	if pc.workloads {
		for _, rk := range e.setWorkloads(p, e.workloadsOf(p)) {
			r.add(rk, "whether workloads with some labels exist")
		}
	}
	e.reachProvides(p, pc, r)
	for rk := range e.idx.partReaders[p.name] {
		r.add(rk, "namespace "+p.name)
	}
	e.reachFirsts(pc, r)
	if isEmpty := len(p.items) == 0; isEmpty != wasEmpty {
		e.existenceFlipped(p.name, r)
	}
	switch {
	case global != "":
		return global, false
	case hadNS != (e.nsObjects > 0):
		return "the mesh gained or lost its Namespace objects", false
	case hadLive != (e.clustered > 0):
		return "the mesh gained or lost its live objects", false
	}
	r.add(p.name, "")
	if r.keys[globalKey] {
		return "findings of global objects read " + r.why, false
	}
	return "", false
}

// envKinds are the kinds of the global objects dependency extraction reads
// (env): a change to one rebuilds the index.
var envKinds = map[mesh.GroupKind]bool{
	mesh.Gateway: true, mesh.ServiceEntry: true, mesh.Node: true, mesh.VirtualService: true,
}

func latest(olds []*item, nu *item) *item {
	if nu != nil {
		return nu
	}
	return olds[0]
}

// reachProvides adds the readers of what the change provides; of anything
// its partition provides, when readers look at the object through its
// partition. Called before and after the change.
func (e *Engine) reachProvides(p *partition, pc *pending, r *reach) {
	if pc.deep {
		for t := range e.idx.partProvides[p.name] {
			e.reachToken(t, r)
		}
	}
	for _, d := range append(pc.olDeps[:len(pc.olDeps):len(pc.olDeps)], pc.nuDeps) {
		for _, t := range d.provides {
			e.reachToken(t, r)
		}
	}
}

func (e *Engine) reachToken(t string, r *reach) {
	for rk := range e.idx.readers[t] {
		r.add(rk, describeToken(t))
	}
}

// reachFirsts: readers of a first-in-load-order token care which object is
// first.
func (e *Engine) reachFirsts(pc *pending, r *reach) {
	x := e.idx
	for t, before := range pc.firsts {
		after := x.first(t)
		if before == after && !slices.Contains(pc.olds, before) && (pc.nu == nil || after != pc.nu) {
			continue
		}
		for rk := range x.firstReaders[t] {
			r.add(rk, describeToken(t))
		}
		for _, f := range []*item{before, after} {
			if f != nil {
				r.add(f.readerKey(), describeToken(t))
			}
		}
	}
}

// describeToken says in words what a token stands for.
func describeToken(t string) string {
	kind, v, _ := strings.Cut(t, ":")
	switch kind {
	case "E":
		return "host " + v
	case "W", "H":
		return "hosts ending in " + v
	case "wl":
		if v == "*" {
			return "every workload"
		}
		return "workloads labelled " + v
	case "dest":
		return "routes to " + v
	case "writes":
		return "routes matching write methods to " + v
	case "raw":
		return "subset routes of host " + v
	case "gwbind":
		return "VirtualServices bound to Gateway " + v
	case "drns":
		return "DestinationRules for namespace " + v
	case "drmesh":
		return "mesh-wide DestinationRules"
	case "drmutual":
		return "DestinationRules that make clients use mTLS"
	case "ap-path", "ap-host":
		return "the first AuthorizationPolicy with path or host rules"
	case "kind":
		return "every " + v
	case "ef":
		return "EnvoyFilter patches of " + v
	case "kgwl", "kgwa":
		return "Gateway listeners and addresses " + v
	}
	return t
}

// existenceFlipped: namespace name appeared or disappeared.
func (e *Engine) existenceFlipped(name string, r *reach) {
	x := e.idx
	why := "whether namespace " + name + " exists"
	for rk := range x.nsReaders[strings.ToLower(name)] {
		r.add(rk, why)
	}
	if name == clusterScope {
		return
	}
	for pat, readers := range x.patReaders {
		if !matchPattern(pat, name) {
			continue
		}
		// Count afresh: a pattern read for the first time by this very
		// change was counted with the namespace already there.
		before, after := x.patMatches[pat], e.countPattern(pat)
		x.patMatches[pat] = after
		if (before > 0) != (after > 0) {
			for rk := range readers {
				r.add(rk, why)
			}
		}
	}
}

// groupOf is the findings group of an object.
func (e *Engine) groupOf(o *mesh.Object) string {
	if o == nil {
		return noObject
	}
	part := partitionOf(o)
	if e.globalPart(part) {
		return globalKey
	}
	return part
}

func (e *Engine) runFull(ctx context.Context, start time.Time, reason string) (Delta, error) {
	snap := mesh.New(e.Objects(), e.snapOpts)
	fs, err := analysis.Run(ctx, snap, e.sel, e.opts)
	if err != nil {
		e.stale = true
		return Delta{}, fmt.Errorf("incremental: full analysis: %w", err)
	}
	groups := map[string][]analysis.Finding{}
	for _, f := range fs {
		g := e.groupOf(f.Object)
		groups[g] = append(groups[g], f)
	}
	d := Delta{Full: true, Reason: reason, Objects: len(snap.Objects())}
	var old, nu []analysis.Finding
	for _, l := range e.findings {
		old = append(old, l...)
	}
	for _, l := range groups {
		nu = append(nu, l...)
	}
	d.Opened, d.Closed = diff(old, nu)
	e.findings, e.sorted = groups, nil
	if e.dirty {
		e.rebuild(snap)
		e.dirty = false
	}
	e.stale = false
	d.Took = time.Since(start)
	return d, nil
}

// rebuild derives the index from scratch.
func (e *Engine) rebuild(snap *mesh.Snapshot) {
	e.env = e.buildEnv()
	e.idx = newIndex()
	byNS := map[string][]map[string]string{}
	for _, w := range snap.Workloads() {
		byNS[w.Namespace] = append(byNS[w.Namespace], w.Labels)
	}
	for name, p := range e.parts {
		p.workloads = nil
		e.setWorkloads(p, byNS[name])
	}
	for _, it := range ordered(e.items) {
		d := e.env.depsOf(it.obj)
		d.compact()
		e.apply(it, &d, 1)
	}
}

func (e *Engine) runIncremental(ctx context.Context, start time.Time, affected map[string]bool) (Delta, error) {
	ctxParts := e.contextOf(affected)
	set := map[*item]bool{}
	for p := range ctxParts {
		if pt := e.parts[p]; pt != nil {
			for it := range pt.items {
				set[it] = true
			}
		}
	}
	for it := range e.globals {
		set[it] = true
	}
	snap := mesh.New(objectsOf(ordered(set)), e.snapOpts)
	fs, err := analysis.Run(ctx, snap, e.sel, e.opts)
	if err != nil {
		e.stale = true
		return Delta{}, fmt.Errorf("incremental: analysis of %d namespaces: %w", len(affected), err)
	}
	groups := map[string][]analysis.Finding{}
	for _, f := range fs {
		if f.Object == nil {
			if f.Code == analysis.InternalError.ID {
				return e.runFull(ctx, start, "an analyzer failed on the partial snapshot")
			}
			continue
		}
		if g := e.groupOf(f.Object); affected[g] {
			groups[g] = append(groups[g], f)
		}
	}
	d := Delta{Objects: len(snap.Objects())}
	for g := range affected {
		d.Scope = append(d.Scope, g)
		opened, closed := diff(e.findings[g], groups[g])
		d.Opened = append(d.Opened, opened...)
		d.Closed = append(d.Closed, closed...)
		if len(groups[g]) > 0 {
			e.findings[g] = groups[g]
		} else {
			delete(e.findings, g)
		}
	}
	sort.Strings(d.Scope)
	analysis.Sort(d.Opened)
	analysis.Sort(d.Closed)
	// Findings of the same identity may still differ (fixes, lines).
	e.sorted = nil
	d.Took = time.Since(start)
	return d, nil
}
