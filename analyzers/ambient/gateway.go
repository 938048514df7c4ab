package ambient

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshpilot/meshpilot/mesh"
)

func gatewayObj(o *mesh.Object) (*gwv1.Gateway, bool) {
	gw, ok := o.Obj.(*gwv1.Gateway)
	return gw, ok && gw != nil
}
