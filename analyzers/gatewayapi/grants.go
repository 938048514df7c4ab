package gatewayapi

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshpilot/meshpilot/mesh"
)

type grantFrom struct{ group, kind, namespace string }

type grantTo struct {
	group, kind string
	name        string // "" for any
}

// grantIndex maps a target namespace and a referrer to what it may reach.
type grantIndex map[string]map[grantFrom][]grantTo

func indexGrants(snap *mesh.Snapshot) grantIndex {
	idx := grantIndex{}
	for _, o := range snap.List(mesh.ReferenceGrant) {
		g, ok := o.Obj.(*gwv1.ReferenceGrant)
		if !ok {
			continue
		}
		ns := o.Namespace()
		if idx[ns] == nil {
			idx[ns] = map[grantFrom][]grantTo{}
		}
		for _, f := range g.Spec.From {
			from := grantFrom{string(f.Group), string(f.Kind), string(f.Namespace)}
			for _, t := range g.Spec.To {
				to := grantTo{group: string(t.Group), kind: string(t.Kind)}
				if t.Name != nil {
					to.name = string(*t.Name)
				}
				idx[ns][from] = append(idx[ns][from], to)
			}
		}
	}
	return idx
}

// allows reports whether a referrer may refer to the named target.
func (idx grantIndex) allows(fromGroup, fromKind, fromNS, toGroup, toKind, toNS, toName string) bool {
	if toGroup == "core" {
		toGroup = ""
	}
	for _, t := range idx[toNS][grantFrom{fromGroup, fromKind, fromNS}] {
		g := t.group
		if g == "core" {
			g = ""
		}
		if g == toGroup && t.kind == toKind && (t.name == "" || t.name == toName) {
			return true
		}
	}
	return false
}
