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

// Report is one run's outcome.
type Report struct {
	Findings    []analysis.Finding `json:"findings"`
	InputErrors []InputError       `json:"inputErrors"`
	Summary     Summary            `json:"summary"`
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
