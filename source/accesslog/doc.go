// Package accesslog reads the Envoy access logs of Istio sidecars and
// gateways into a telemetry.Graph: traffic evidence for a user who has the
// proxies' logs but no Prometheus.
//
// Lines are read in Istio's default TEXT format (DefaultTextFormat) and in
// its default JSON encoding (meshConfig.accessLogEncoding: JSON), told
// apart per line, with or without the "[pod/NAME/CONTAINER] " of kubectl
// logs --prefix and the time of kubectl logs --timestamps. Other lines —
// the proxy's and pilot-agent's own logs — are skipped and counted.
//
// Each entry is filed by its upstream cluster:
//   - outbound|PORT|SUBSET|HOST: the proxy's workload called HOST
//     (reporter "source", connection security "unknown"); the workload that
//     served it is the one of UPSTREAM_HOST's pod IP.
//   - inbound|PORT|| and InboundPassthroughCluster: a call into the proxy's
//     workload (reporter "destination") from the workload of
//     DOWNSTREAM_REMOTE_ADDRESS's pod IP, else from "unknown"; mTLS when
//     REQUESTED_SERVER_NAME is Istio's outbound_.PORT_.SUBSET_.HOST, whose
//     HOST names the service; else the :authority names it.
//   - inbound-vip|PORT|PROTO|HOST: a call relayed by an ambient waypoint
//     (reporter "waypoint").
//   - PassthroughCluster, BlackHoleCluster and no cluster: a call to the
//     :authority host (reporter "source"), summed up in a notice.
//
// The proxy's workload is the one an Input names, else that of the pod of
// the kubectl prefix, else that of the proxy's own pod IP. Pod IPs come from
// Options.IPWorkload, and are also learned from the logs themselves, so
// that both ends of a call name the same edge and telemetry.Builder counts
// it once.
//
// An HTTP entry counts as protocol "grpc" when it is a POST over HTTP/2 or
// HTTP/3 to a path shaped as /package.Service/Method (the access log has
// no content-type); as "http" otherwise. An entry without protocol is a TCP
// connection: one opened and closed, with its bytes.
package accesslog
