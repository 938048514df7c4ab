package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation struct {
		URI string `json:"uri"`
	} `json:"artifactLocation"`
	Region *struct {
		StartLine int `json:"startLine"`
	} `json:"region,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func sarifLevel(l analysis.Level) string {
	switch l {
	case analysis.Error:
		return "error"
	case analysis.Warning:
		return "warning"
	}
	return "note"
}

func writeSARIF(w io.Writer, r *Report) error {
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.Code] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	index := map[string]int{}
	driver := sarifDriver{Name: "meshpilot", Version: r.Version, InformationURI: "https://github.com/meshpilot/meshpilot"}
	for i, id := range sorted {
		index[id] = i
		rule := sarifRule{ID: id, Name: id, DefaultConfiguration: map[string]any{"level": "warning"}}
		if c := r.Rules[id]; c != nil {
			rule.Name = c.Name
			rule.ShortDescription = sarifText{firstSentence(c.Doc)}
			rule.FullDescription = sarifText{c.Doc}
			rule.Help = sarifText{strings.TrimSpace(c.Doc + "\n\n" + c.Fix + "\n\nSee: meshpilot explain " + id)}
			rule.DefaultConfiguration["level"] = sarifLevel(c.Level)
		} else {
			rule.ShortDescription = sarifText{id}
			rule.FullDescription = sarifText{id}
			rule.Help = sarifText{"meshpilot explain " + id}
		}
		driver.Rules = append(driver.Rules, rule)
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		res := sarifResult{RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Level),
			Message: sarifText{f.Resource + ": " + f.Message}}
		loc := sarifLocation{}
		if f.File != "" && !strings.HasPrefix(f.File, "<") {
			p := &sarifPhysical{}
			p.ArtifactLocation.URI = sarifURI(f.File)
			if f.Line > 0 {
				p.Region = &struct {
					StartLine int `json:"startLine"`
				}{f.Line}
			}
			loc.PhysicalLocation = p
		}
		if f.Resource != "" {
			loc.LogicalLocations = []sarifLogical{{Name: f.Resource, FullyQualifiedName: f.Resource, Kind: "resource"}}
		}
		res.Locations = []sarifLocation{loc}
		run.Results = append(run.Results, res)
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// sarifURI makes a path relative to the working folder, with forward
// slashes, as code scanning resolves URIs against the repository root.
func sarifURI(file string) string {
	if filepath.IsAbs(file) {
		if wd, err := filepath.Abs("."); err == nil {
			if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
				file = rel
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(file))
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}
