package rancher

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNotFound and ErrAmbiguous match, under errors.Is, a cluster or project
// that no id or name names, and a name several share.
var (
	ErrNotFound  = errors.New("not found")
	ErrAmbiguous = errors.New("ambiguous name")
)

// ResolveCluster finds a cluster by id (c-xxxxx, or local) or by name. A
// name that several clusters share is an error listing their ids.
func (c *Client) ResolveCluster(ctx context.Context, idOrName string) (Cluster, error) {
	clusters, err := c.Clusters(ctx)
	if err != nil {
		return Cluster{}, fmt.Errorf("resolve cluster %q: %w", idOrName, err)
	}
	var byName []Cluster
	for _, cl := range clusters {
		if cl.ID == idOrName {
			return cl, nil
		}
		if cl.Name == idOrName {
			byName = append(byName, cl)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return Cluster{}, fmt.Errorf("no cluster with id or name %q among the %d this token can see: %w", idOrName, len(clusters), ErrNotFound)
	}
	ids := make([]string, len(byName))
	for i, cl := range byName {
		ids[i] = cl.ID
	}
	return Cluster{}, fmt.Errorf("cluster name %q is ambiguous: %s; give the id: %w", idOrName, candidates(ids), ErrAmbiguous)
}

// ResolveProject finds a project by id (c-xxxxx:p-xxxxx) or by name across
// every cluster. A name that several projects share is an error listing
// their ids.
func (c *Client) ResolveProject(ctx context.Context, idOrName string) (Project, error) {
	clusterID := ""
	if cl, _, ok := strings.Cut(idOrName, ":"); ok {
		clusterID = cl
	}
	projects, err := c.Projects(ctx, clusterID)
	if err != nil {
		return Project{}, fmt.Errorf("resolve project %q: %w", idOrName, err)
	}
	var byName []Project
	for _, p := range projects {
		if p.ID == idOrName {
			return p, nil
		}
		if clusterID == "" && p.Name == idOrName {
			byName = append(byName, p)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return Project{}, fmt.Errorf("no project with id or name %q among the %d this token can see: %w", idOrName, len(projects), ErrNotFound)
	}
	ids := make([]string, len(byName))
	for i, p := range byName {
		ids[i] = p.ID
	}
	return Project{}, fmt.Errorf("project name %q is ambiguous: %s; give the id: %w", idOrName, candidates(ids), ErrAmbiguous)
}

func candidates(ids []string) string {
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}
