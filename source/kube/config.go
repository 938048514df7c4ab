package kube

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Target says which cluster to read, the way kubectl does.
type Target struct {
	// Kubeconfig is a kubeconfig file; empty means $KUBECONFIG, then
	// ~/.kube/config, then the in-cluster config of the pod's ServiceAccount.
	Kubeconfig string
	// Context is a kubeconfig context; empty means the current one.
	Context string
	// ClusterName names the cluster in findings; empty means the context's
	// name ("in-cluster" inside a pod).
	ClusterName string
}

// Config resolves the target to a client configuration and the name the
// cluster goes by in findings. A kubeconfig error names the file.
func (t Target) Config() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if t.Kubeconfig != "" {
		if _, err := os.Stat(t.Kubeconfig); err != nil {
			return nil, "", fmt.Errorf("kubeconfig %s: %w", t.Kubeconfig, err)
		}
		rules.ExplicitPath = t.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: t.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("read kubeconfig: %w", err)
	}
	// No kubeconfig at all and no explicit request: in-cluster, as client-go
	// and kubectl do inside a pod.
	if t.Kubeconfig == "" && t.Context == "" && len(raw.Contexts) == 0 {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			if errors.Is(err, rest.ErrNotInCluster) {
				return nil, "", errors.New("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a pod: use --kubeconfig or --context")
			}
			return nil, "", fmt.Errorf("in-cluster config: %w", err)
		}
		return cfg, orDefault(t.ClusterName, "in-cluster"), nil
	}
	name := t.Context
	if name == "" {
		name = raw.CurrentContext
	}
	if _, ok := raw.Contexts[name]; !ok {
		if name == "" {
			return nil, "", errors.New("kubeconfig has no current context: use --context")
		}
		return nil, "", fmt.Errorf("kubeconfig has no context %q (contexts: %s)", name, contextNames(raw.Contexts))
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig context %q: %w", name, err)
	}
	return cfg, orDefault(t.ClusterName, name), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contextNames[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
