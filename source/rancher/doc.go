// Package rancher is a client for the parts of Rancher's v3 (norman) API that
// meshpilot reads: the clusters and projects a token can see, and the URL of
// each cluster's Kubernetes API behind Rancher's /k8s/clusters/<id> proxy.
//
// Both the cluster and the project "name" in the v3 API are Rancher's display
// names (spec.displayName); the ids are c-xxxxx and c-xxxxx:p-xxxxx.
package rancher
