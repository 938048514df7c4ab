package rancher

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/source/kube"
)

// ReadOptions configure reading clusters through Rancher.
type ReadOptions struct {
	// Clusters are ids or names; empty means every cluster the token sees.
	Clusters []string
	// Parallelism bounds clusters read at once (default 4).
	Parallelism int
	// Timeout bounds each cluster's read (default 2 minutes).
	Timeout time.Duration
	// Kube configures each cluster's read; Cluster is set per cluster.
	Kube kube.Options
}

// ClusterRead is one cluster read through Rancher's proxy: a result, or the
// error that stopped it.
type ClusterRead struct {
	Cluster Cluster
	Result  *kube.Result
	Err     error
	Took    time.Duration
}

// Read is what reading several clusters produced.
type Read struct {
	// Clusters are sorted by name, then id.
	Clusters []ClusterRead
	// Projects by id ("c-xxxxx:p-xxxxx").
	Projects map[string]Project
}

// Read lists the clusters (and their projects) the token can see and reads
// each through Rancher's Kubernetes proxy, in parallel with a bounded
// number at once and a timeout each. A cluster that fails is recorded with
// its error; the others are still read. The error return is for what stops
// everything: Rancher itself unreachable, the token rejected, a --cluster
// that names nothing.
func (c *Client) Read(ctx context.Context, opts ReadOptions) (*Read, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	var clusters []Cluster
	if len(opts.Clusters) == 0 {
		all, err := c.Clusters(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		clusters = all
	} else {
		seen := map[string]bool{}
		for _, idOrName := range opts.Clusters {
			cl, err := c.ResolveCluster(ctx, idOrName)
			if err != nil {
				return nil, err
			}
			if !seen[cl.ID] {
				seen[cl.ID] = true
				clusters = append(clusters, cl)
			}
		}
	}
	projects, err := c.Projects(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	out := &Read{Projects: map[string]Project{}, Clusters: make([]ClusterRead, len(clusters))}
	for _, p := range projects {
		out.Projects[p.ID] = p
	}
	sort.Slice(clusters, func(i, j int) bool {
		if clusters[i].Name != clusters[j].Name {
			return clusters[i].Name < clusters[j].Name
		}
		return clusters[i].ID < clusters[j].ID
	})
	sem := make(chan struct{}, opts.Parallelism)
	var wg sync.WaitGroup
	for i, cl := range clusters {
		out.Clusters[i].Cluster = cl
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out.Clusters[i].Err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			began := time.Now()
			cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
			defer cancel()
			kopts := opts.Kube
			kopts.Cluster = cl.Name
			res, err := kube.Load(cctx, c.RESTConfig(cl.ID), kopts)
			if err != nil && cctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("cluster %s (%s): no answer within %s: %w", cl.Name, cl.ID, opts.Timeout, err)
			} else if err != nil {
				err = fmt.Errorf("cluster %s (%s): %w", cl.Name, cl.ID, err)
			}
			out.Clusters[i].Result, out.Clusters[i].Err, out.Clusters[i].Took = res, err, time.Since(began)
		}()
	}
	wg.Wait()
	return out, nil
}

// RESTConfig reaches a cluster's Kubernetes API through Rancher's proxy with
// the client's token and its HTTP transport (and so its TLS settings, such
// as a private CA); client-go adds the bearer token to that transport.
func (c *Client) RESTConfig(clusterID string) *rest.Config {
	return &rest.Config{Host: c.KubeURL(clusterID), BearerToken: string(c.token), UserAgent: "meshpilot",
		Transport: c.hc.Transport}
}

// ProjectOf returns the Rancher project a namespace of clusterID belongs to,
// from its field.cattle.io/projectId annotation.
func (r *Read) ProjectOf(clusterID string, ns *mesh.Object) (Project, bool) {
	if ns == nil {
		return Project{}, false
	}
	cl, id, ok := ProjectOfNamespace(ns.Annotations())
	if !ok || cl != clusterID {
		return Project{}, false
	}
	p, ok := r.Projects[id]
	if !ok {
		// A project the token cannot see: named by its id.
		return Project{ID: id, Name: id, ClusterID: cl}, true
	}
	return p, true
}
