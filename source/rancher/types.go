package rancher

// Fields follow the management v3 types Rancher publishes
// (github.com/rancher/types client/management/v3: Cluster, Project), limited
// to those meshpilot reads or reports.

// Cluster is a v3 cluster as the collection /v3/clusters returns it.
type Cluster struct {
	ID                   string            `json:"id"`
	Type                 string            `json:"type,omitempty"`
	Links                map[string]string `json:"links,omitempty"`
	Name                 string            `json:"name"`
	Description          string            `json:"description,omitempty"`
	State                string            `json:"state,omitempty"`
	Transitioning        string            `json:"transitioning,omitempty"`
	TransitioningMessage string            `json:"transitioningMessage,omitempty"`
	Driver               string            `json:"driver,omitempty"`
	Provider             string            `json:"provider,omitempty"`
	Internal             bool              `json:"internal,omitempty"`
	APIEndpoint          string            `json:"apiEndpoint,omitempty"`
	Labels               map[string]string `json:"labels,omitempty"`
	Annotations          map[string]string `json:"annotations,omitempty"`
	Conditions           []Condition       `json:"conditions,omitempty"`
	Version              *VersionInfo      `json:"version,omitempty"`
	Created              string            `json:"created,omitempty"`
	CreatorID            string            `json:"creatorId,omitempty"`
	UUID                 string            `json:"uuid,omitempty"`
	Removed              string            `json:"removed,omitempty"`
}

// Project is a v3 project; its ID is "<clusterId>:<projectId>".
type Project struct {
	ID                   string            `json:"id"`
	Type                 string            `json:"type,omitempty"`
	Links                map[string]string `json:"links,omitempty"`
	Name                 string            `json:"name"`
	Description          string            `json:"description,omitempty"`
	ClusterID            string            `json:"clusterId"`
	NamespaceID          string            `json:"namespaceId,omitempty"`
	State                string            `json:"state,omitempty"`
	Transitioning        string            `json:"transitioning,omitempty"`
	TransitioningMessage string            `json:"transitioningMessage,omitempty"`
	Labels               map[string]string `json:"labels,omitempty"`
	Annotations          map[string]string `json:"annotations,omitempty"`
	Conditions           []Condition       `json:"conditions,omitempty"`
	Created              string            `json:"created,omitempty"`
	CreatorID            string            `json:"creatorId,omitempty"`
	UUID                 string            `json:"uuid,omitempty"`
	Removed              string            `json:"removed,omitempty"`
}

// Condition is a status condition of a cluster or project.
type Condition struct {
	Type           string `json:"type"`
	Status         string `json:"status"`
	Reason         string `json:"reason,omitempty"`
	Message        string `json:"message,omitempty"`
	LastUpdateTime string `json:"lastUpdateTime,omitempty"`
}

// VersionInfo is the Kubernetes version Rancher reports for a cluster.
type VersionInfo struct {
	Major      string `json:"major,omitempty"`
	Minor      string `json:"minor,omitempty"`
	GitVersion string `json:"gitVersion,omitempty"`
	Platform   string `json:"platform,omitempty"`
}

// Pagination is the pagination block of a v3 collection.
type Pagination struct {
	Marker   string `json:"marker,omitempty"`
	First    string `json:"first,omitempty"`
	Previous string `json:"previous,omitempty"`
	Next     string `json:"next,omitempty"`
	Last     string `json:"last,omitempty"`
	Limit    *int64 `json:"limit,omitempty"`
	Total    *int64 `json:"total,omitempty"`
	Partial  bool   `json:"partial,omitempty"`
}

type collection[T any] struct {
	Type         string      `json:"type"`
	ResourceType string      `json:"resourceType"`
	Pagination   *Pagination `json:"pagination"`
	Data         []T         `json:"data"`
}
