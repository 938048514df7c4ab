package security

import (
	"fmt"
	"sort"
	"strings"

	security "istio.io/api/security/v1beta1"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// PeerAuthentications checks mutual TLS settings.
var PeerAuthentications = &analysis.Analyzer{
	Name: "security.PeerAuthentications",
	Doc: "report namespaces that accept plaintext and PeerAuthentications that disable mTLS or miss their port\n\n" +
		"A namespace whose mTLS mode in force is PERMISSIVE is reported once; DISABLE anywhere, and port keys " +
		"that are Service ports. (Several namespace-wide or overlapping workload policies, and DestinationRule " +
		"TLS modes that contradict PeerAuthentications, are the kiali package's checks: MP3009-MP3017, MP3029, MP3030.)",
	Codes: []*analysis.Code{codes.PlaintextAccepted, codes.MTLSDisabled, codes.PortLevelMTLSServicePort},
	Run:   runPeerAuthn,
}

const modeDisable = security.PeerAuthentication_MutualTLS_DISABLE

func runPeerAuthn(pass *analysis.Pass) (any, error) {
	x := newIndex(pass.Snapshot)
	checkPlaintext(pass, x)
	for _, o := range pass.Snapshot.List(mesh.PeerAuthentication) {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		if !ok || pa == nil {
			continue
		}
		checkDisable(pass, o, pa)
		if len(pa.GetSelector().GetMatchLabels()) > 0 {
			checkPortKeys(pass, x, o, pa)
		}
	}
	return nil, nil
}

// checkPlaintext reports each mesh namespace whose mode in force is
// PERMISSIVE, on its Namespace object (or its first mesh workload).
func checkPlaintext(pass *analysis.Pass, x *index) {
	snap := pass.Snapshot
	for _, ns := range snap.Namespaces() {
		var workloads []*mesh.Workload
		for _, w := range snap.WorkloadsIn(ns) {
			if x.meshWorkload(w) && !isGateway(w) {
				workloads = append(workloads, w)
			}
		}
		if len(workloads) == 0 {
			continue
		}
		mode, src := x.nsMode(ns)
		if mode != security.PeerAuthentication_MutualTLS_PERMISSIVE {
			continue
		}
		// Workloads a STRICT policy of their own selects do not accept
		// plaintext, whatever the namespace's mode.
		open := workloads[:0:0]
		for _, w := range workloads {
			if !strictlySelected(snap, w) {
				open = append(open, w)
			}
		}
		if len(open) == 0 {
			continue
		}
		why := fmt.Sprintf("there is no mesh-wide PeerAuthentication in %s and none in the namespace", x.root)
		if src != nil {
			why = fmt.Sprintf("PeerAuthentication %s/%s sets PERMISSIVE", src.Namespace(), src.Name())
		}
		obj := snap.Get(mesh.Namespace, "", ns)
		if obj == nil {
			obj = open[0].Object
		}
		who := "workloads of namespace " + ns
		if len(open) < len(workloads) {
			who = fmt.Sprintf("%d of %d workloads of namespace %s (those no STRICT workload policy selects)", len(open), len(workloads), ns)
		}
		pass.Reportf(codes.PlaintextAccepted, obj, "%s accept plaintext traffic: %s", who, why)
	}
}

// strictlySelected reports whether a PeerAuthentication of the workload's
// namespace selects it and sets STRICT with no port opened to plaintext.
func strictlySelected(snap *mesh.Snapshot, w *mesh.Workload) bool {
	for _, o := range snap.InNamespace(mesh.PeerAuthentication, w.Namespace) {
		pa, ok := o.Obj.(*security.PeerAuthentication)
		if !ok || pa == nil {
			continue
		}
		sel := pa.GetSelector().GetMatchLabels()
		if len(sel) == 0 || !mesh.MatchLabels(sel, w.Labels) || pa.GetMtls().GetMode() != security.PeerAuthentication_MutualTLS_STRICT {
			continue
		}
		weaker := false
		for _, m := range pa.GetPortLevelMtls() {
			if m.GetMode() != security.PeerAuthentication_MutualTLS_STRICT {
				weaker = true
			}
		}
		if !weaker {
			return true
		}
	}
	return false
}

func checkDisable(pass *analysis.Pass, o *mesh.Object, pa *security.PeerAuthentication) {
	var where []string
	if pa.GetMtls().GetMode() == modeDisable {
		where = append(where, "mtls.mode")
	}
	var ports []int
	for p, m := range pa.GetPortLevelMtls() {
		if m.GetMode() == modeDisable {
			ports = append(ports, int(p))
		}
	}
	sort.Ints(ports)
	for _, p := range ports {
		where = append(where, fmt.Sprintf("portLevelMtls[%d]", p))
	}
	if len(where) > 0 {
		pass.Reportf(codes.MTLSDisabled, o, "%s is DISABLE: that traffic is plaintext and carries no peer identity", strings.Join(where, ", "))
	}
}

func checkPortKeys(pass *analysis.Pass, x *index, o *mesh.Object, pa *security.PeerAuthentication) {
	ws := x.meshWorkloads(pass.Snapshot.SelectWorkloads(o.Namespace(), pa.GetSelector().GetMatchLabels()))
	if len(ws) == 0 {
		return
	}
	ports := make([]int, 0, len(pa.GetPortLevelMtls()))
	for p := range pa.GetPortLevelMtls() {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	for _, p := range ports {
		target, ok := x.serviceToTarget(ws, uint32(p))
		if !ok {
			continue
		}
		if _, taken := pa.GetPortLevelMtls()[target]; taken {
			pass.Reportf(codes.PortLevelMTLSServicePort, o,
				"portLevelMtls key %d is a Service port forwarding to container port %d; keys are container ports, so it applies to nothing", p, target)
			continue
		}
		fd := analysis.NewFinding(codes.PortLevelMTLSServicePort, o, fmt.Sprintf(
			"portLevelMtls key %d is a Service port forwarding to container port %d; keys are container ports, so the setting applies to nothing", p, target))
		mode := pa.GetPortLevelMtls()[uint32(p)].GetMode().String()
		fd.Fixes = []analysis.Fix{{
			Message: fmt.Sprintf("key the setting by container port %d", target),
			Explanation: fmt.Sprintf("Moves the %s setting of %s from portLevelMtls key %d to %d: the Service forwards port %d to container port %d, which is the port the proxy sees.",
				mode, fd.Resource, p, target, p, target),
			Edits: []analysis.Edit{
				{Resource: fd.Resource, Path: fmt.Sprintf("/spec/portLevelMtls/%d", p), Delete: true},
				{Resource: fd.Resource, Path: fmt.Sprintf("/spec/portLevelMtls/%d", target), Value: map[string]any{"mode": mode}},
			},
		}}
		pass.Report(fd)
	}
}
