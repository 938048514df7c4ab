package guardrail

import (
	"fmt"

	"github.com/google/cel-go/common/types"

	"github.com/meshpilot/meshpilot/mesh"
)

// evaluator checks objects of one snapshot against a policy. It caches
// each object's JSON-shaped form and each scope's verdict per namespace;
// it is used by one goroutine.
type evaluator struct {
	p      *Policy
	snap   *mesh.Snapshot // may be nil: no namespace labels, annotations or namespaceObject
	maps   map[*mesh.Object]map[string]any
	nsIn   map[nsScope]bool
	nsMaps map[string]any
	act    activation
}

type nsScope struct {
	s  *scope
	ns string
}

func newEvaluator(p *Policy, snap *mesh.Snapshot) *evaluator {
	return &evaluator{p: p, snap: snap, maps: map[*mesh.Object]map[string]any{},
		nsIn: map[nsScope]bool{}, nsMaps: map[string]any{}}
}

// objectMap returns the object's JSON-shaped form, converted once.
func (e *evaluator) objectMap(o *mesh.Object) (map[string]any, error) {
	if m, ok := e.maps[o]; ok {
		return m, nil
	}
	m, err := toMap(o, nil)
	if err != nil {
		return nil, err
	}
	e.maps[o] = m
	return m, nil
}

func (e *evaluator) namespaceObject(ns string) *mesh.Object {
	if e.snap == nil || ns == "" {
		return nil
	}
	return e.snap.Get(mesh.Namespace, "", ns)
}

// namespaceMap is namespaceObject for rules: the Namespace as a map, or
// nil (CEL null) when there is none.
func (e *evaluator) namespaceMap(ns string) (any, error) {
	if m, ok := e.nsMaps[ns]; ok {
		return m, nil
	}
	var v any
	if o := e.namespaceObject(ns); o != nil {
		m, err := e.objectMap(o)
		if err != nil {
			return nil, err
		}
		v = m
	}
	e.nsMaps[ns] = v
	return v, nil
}

// inScope reports whether s selects an object in namespace ns with
// objLabels.
func (e *evaluator) inScope(s *scope, gk mesh.GroupKind, ns string, objLabels map[string]string) bool {
	if s.kinds != nil && !s.kinds[gk] {
		return false
	}
	k := nsScope{s, ns}
	in, ok := e.nsIn[k]
	if !ok {
		var lbls, ann map[string]string
		if o := e.namespaceObject(ns); o != nil {
			lbls, ann = o.Labels(), o.Annotations()
		}
		in = s.matchNamespace(ns, lbls, ann)
		e.nsIn[k] = in
	}
	return in && s.matchObject(objLabels)
}

// check lists what an object breaks. m, when not nil, is the object's
// JSON-shaped form to check instead of the object's own (a fix applied);
// labels are then read from it.
func (e *evaluator) check(o *mesh.Object, m map[string]any) ([]violation, error) {
	kc := e.p.kinds[o.GroupKind]
	if kc == nil {
		return nil, nil
	}
	ns := objectNamespace(o)
	objLabels := o.Labels()
	if m != nil {
		objLabels = labelsOf(m)
	}
	var rules []*rule
	for _, r := range kc.rules {
		if e.inScope(r.scope, o.GroupKind, ns, objLabels) {
			rules = append(rules, r)
		}
	}
	if m == nil && len(rules) > 0 {
		var err error
		if m, err = e.objectMap(o); err != nil {
			return nil, err
		}
	}
	var out []violation
	lm := m // what limits read: the whole object, or only their fields
	for _, l := range kc.limits {
		if !e.inScope(l.scope, o.GroupKind, ns, objLabels) {
			continue
		}
		if l.forbidden[o.GroupKind] {
			out = append(out, violation{limit: l, key: "forbiddenKinds",
				msg: fmt.Sprintf("kind %s is forbidden in namespace %s", o.Kind, ns)})
		}
		if o.GroupKind == mesh.Namespace {
			continue // checked on the snapshot by namespaceMTLS
		}
		if lm == nil {
			var err error
			if lm, err = toMap(o, limitMasks[o.GroupKind]); err != nil {
				return nil, err
			}
		}
		l.checkMap(o.GroupKind, lm, func(key, msg string) {
			out = append(out, violation{limit: l, key: key, msg: msg})
		})
	}
	for _, r := range rules {
		v, err := e.evalRule(r, ns, m)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, *v)
		}
	}
	return out, nil
}

// evalRule runs a rule on an object's map; an evaluation error breaks the
// rule, as a failing validation does under ValidatingAdmissionPolicy's
// default failurePolicy Fail.
func (e *evaluator) evalRule(r *rule, ns string, m map[string]any) (*violation, error) {
	e.act = activation{object: m}
	if r.usesNamespace {
		nsMap, err := e.namespaceMap(ns)
		if err != nil {
			return nil, err
		}
		e.act.namespace = nsMap
	}
	ok, err := evalBool(r.prog, &e.act)
	if err != nil {
		return &violation{rule: r, key: "eval", msg: fmt.Sprintf("cannot evaluate %s: %v", r.expr, err)}, nil
	}
	if ok {
		return nil, nil
	}
	msg := r.message
	if r.msgProg != nil {
		if v, _, err := r.msgProg.Eval(&e.act); err == nil {
			if s, ok := v.(types.String); ok && s != "" {
				msg = string(s)
			}
		}
	}
	return &violation{rule: r, key: "rule", msg: msg}, nil
}

func labelsOf(m map[string]any) map[string]string {
	raw := obj(obj(m["metadata"])["labels"])
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		out[k] = fmt.Sprint(v)
	}
	return out
}
