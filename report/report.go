// Package report renders findings for people and for CI: text, JSON, YAML,
// SARIF 2.1.0 and Markdown. The JSON field names are a contract that CI
// scripts depend on.
package report

import (
	"fmt"
	"io"
	"sort"

	"github.com/meshpilot/meshpilot/analysis"
)

// Formats lists the output formats.
var Formats = []string{"text", "json", "yaml", "sarif", "markdown"}

// InputError is a problem with the input, reported beside the findings.
type InputError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e InputError) String() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	s += ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Message
}

// ClusterError is a cluster that could not be read or analyzed; the other
// clusters' findings stand.
type ClusterError struct {
	Cluster string `json:"cluster"`
	Message string `json:"message"`
}

// Report is one run's outcome.
type Report struct {
	Findings    []analysis.Finding `json:"findings"`
	InputErrors []InputError       `json:"inputErrors"`
	// ClusterErrors are live clusters that failed (omitted for files).
	ClusterErrors []ClusterError `json:"clusterErrors,omitempty"`
	Summary       Summary        `json:"summary"`
	// Rules describe the codes that appear, for SARIF and explanations.
	Rules map[string]*analysis.Code `json:"-"`
	// Version is meshpilot's version, for SARIF.
	Version string `json:"-"`
}

// Summary counts what a run saw and found.
type Summary struct {
	Total       int            `json:"total"`
	Errors      int            `json:"errors"`
	Warnings    int            `json:"warnings"`
	Infos       int            `json:"infos"`
	ByCode      map[string]int `json:"byCode"`
	Files       int            `json:"files"`
	Documents   int            `json:"documents"`
	Objects     int            `json:"objects"`
	InputErrors int            `json:"inputErrors"`
	Unmodeled   map[string]int `json:"unmodeled,omitempty"`
	Analyzers   int            `json:"analyzers"`
	// Clusters counts the live clusters read (0 for files).
	Clusters int `json:"clusters,omitempty"`
}

// source says what was read: "12 objects in 3 files", "90 objects from 2 clusters".
func (s Summary) source() string {
	if s.Clusters > 0 {
		plural := "s"
		if s.Clusters == 1 {
			plural = ""
		}
		return fmt.Sprintf("%d objects from %d cluster%s", s.Objects, s.Clusters, plural)
	}
	return fmt.Sprintf("%d objects in %d files", s.Objects, s.Files)
}

// Summarize fills the finding counts of s from fs.
func Summarize(s *Summary, fs []analysis.Finding) {
	s.Total = len(fs)
	s.ByCode = map[string]int{}
	for _, f := range fs {
		s.ByCode[f.Code]++
		switch f.Level {
		case analysis.Error:
			s.Errors++
		case analysis.Warning:
			s.Warnings++
		case analysis.Info:
			s.Infos++
		}
	}
}

// Options tune rendering.
type Options struct {
	Color bool // ANSI colours in text output
}

// Write renders r in format.
func Write(w io.Writer, format string, r *Report, opts Options) error {
	if r.Findings == nil {
		r.Findings = []analysis.Finding{}
	}
	if r.InputErrors == nil {
		r.InputErrors = []InputError{}
	}
	switch format {
	case "text", "":
		return writeText(w, r, opts)
	case "json":
		return writeJSON(w, r)
	case "yaml":
		return writeYAML(w, r)
	case "sarif":
		return writeSARIF(w, r)
	case "markdown", "md":
		return writeMarkdown(w, r)
	}
	return fmt.Errorf("unknown output format %q (want one of text, json, yaml, sarif, markdown)", format)
}

// group is the findings of one namespace of one project of one cluster.
type group struct {
	cluster, project, namespace string
	findings                    []analysis.Finding
}

// groups orders findings by cluster, then project, then namespace; files
// have neither cluster nor project, so they group by namespace alone.
func groups(fs []analysis.Finding) []group {
	index := map[[3]string]int{}
	var out []group
	for _, f := range fs {
		k := [3]string{f.Cluster, f.Project, f.Namespace}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, group{cluster: f.Cluster, project: f.Project, namespace: f.Namespace})
		}
		out[i].findings = append(out[i].findings, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.cluster != b.cluster {
			return a.cluster < b.cluster
		}
		if a.project != b.project {
			// Namespaces outside any project come after the projects.
			if a.project == "" || b.project == "" {
				return b.project == ""
			}
			return a.project < b.project
		}
		return a.namespace < b.namespace
	})
	return out
}

// byNamespace groups findings by namespace ("" for cluster-scoped and
// mesh-wide findings), namespaces sorted.
func byNamespace(fs []analysis.Finding) ([]string, map[string][]analysis.Finding) {
	groups := map[string][]analysis.Finding{}
	for _, f := range fs {
		groups[f.Namespace] = append(groups[f.Namespace], f)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, groups
}
