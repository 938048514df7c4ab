package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
)

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiBold   = "\x1b[1m"
)

// writeText prints one line per finding, grouped by namespace, in
// istioctl's shape: Level [CODE] (Resource file:line) message.
func writeText(w io.Writer, r *Report, opts Options) error {
	bw := bufio.NewWriter(w)
	paint := func(color, s string) string {
		if !opts.Color {
			return s
		}
		return color + s + ansiReset
	}
	var cluster, project string
	for i, g := range groups(r.Findings) {
		if i > 0 {
			bw.WriteString("\n")
		}
		indent := ""
		if g.cluster != "" {
			if i == 0 || g.cluster != cluster {
				fmt.Fprintln(bw, paint(ansiBold, "cluster "+g.cluster+":"))
				project = "\x00"
			}
			indent = "  "
			if g.project != project && (g.project != "" || hasProjects(r.Findings)) {
				name := "project " + g.project
				if g.project == "" {
					name = "not in a project"
				}
				fmt.Fprintln(bw, indent+paint(ansiBold, name+":"))
			}
			if hasProjects(r.Findings) {
				indent += "  "
			}
			cluster, project = g.cluster, g.project
		}
		title := "namespace " + g.namespace
		if g.namespace == "" {
			title = "cluster-scoped and mesh-wide"
		}
		fmt.Fprintln(bw, indent+paint(ansiBold, title+":"))
		for _, f := range g.findings {
			fmt.Fprintf(bw, "%s  %s [%s] (%s%s) %s\n", indent, paint(levelColor(f.Level), f.Level.String()), f.Code,
				f.Resource, location(f), oneLine(f.Message))
		}
	}
	for _, e := range r.ClusterErrors {
		fmt.Fprintf(bw, "\n%s cluster %s: %s\n", paint(ansiRed, "Error"), e.Cluster, oneLine(e.Message))
	}
	s := r.Summary
	if len(r.Findings) == 0 {
		fmt.Fprintf(bw, "%s No validation issues found when analyzing %s.\n", paint(ansiCyan, "✔"), s.source())
	} else {
		fmt.Fprintf(bw, "\n%d findings: %d errors, %d warnings, %d info (%s).\n",
			s.Total, s.Errors, s.Warnings, s.Infos, s.source())
	}
	return bw.Flush()
}

func hasProjects(fs []analysis.Finding) bool {
	for _, f := range fs {
		if f.Project != "" {
			return true
		}
	}
	return false
}

func location(f analysis.Finding) string {
	switch {
	case f.File != "" && f.Line > 0:
		return fmt.Sprintf(" %s:%d", f.File, f.Line)
	case f.File != "":
		return " " + f.File
	}
	return ""
}

func levelColor(l analysis.Level) string {
	switch l {
	case analysis.Error:
		return ansiRed
	case analysis.Warning:
		return ansiYellow
	}
	return ansiCyan
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
