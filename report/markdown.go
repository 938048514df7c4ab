package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/meshpilot/meshpilot/analysis"
)

// writeMarkdown renders a pull-request comment: a summary line, then a
// table per namespace.
func writeMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	s := r.Summary
	fmt.Fprintf(bw, "### meshpilot analysis\n\n")
	if len(r.Findings) == 0 && len(r.InputErrors) == 0 && len(r.ClusterErrors) == 0 {
		fmt.Fprintf(bw, "✅ No issues found in %s.\n", s.source())
		return bw.Flush()
	}
	fmt.Fprintf(bw, "**%d findings**: %d errors, %d warnings, %d info, in %s.\n\n",
		s.Total, s.Errors, s.Warnings, s.Infos, s.source())
	if len(r.ClusterErrors) > 0 {
		fmt.Fprintf(bw, "#### Clusters not analyzed\n\n")
		for _, e := range r.ClusterErrors {
			fmt.Fprintf(bw, "- `%s`: %s\n", mdEscape(e.Cluster), mdEscape(e.Message))
		}
		bw.WriteString("\n")
	}
	if len(r.InputErrors) > 0 {
		fmt.Fprintf(bw, "#### Input errors\n\n")
		for _, e := range r.InputErrors {
			fmt.Fprintf(bw, "- `%s`\n", mdEscape(e.String()))
		}
		bw.WriteString("\n")
	}
	var cluster, project string
	for i, g := range groups(r.Findings) {
		if g.cluster != "" && (i == 0 || g.cluster != cluster) {
			fmt.Fprintf(bw, "#### Cluster `%s`\n\n", g.cluster)
			project = "\x00"
		}
		if g.cluster != "" && g.project != project && hasProjects(r.Findings) {
			name := "Project `" + g.project + "`"
			if g.project == "" {
				name = "Not in a project"
			}
			fmt.Fprintf(bw, "##### %s\n\n", name)
		}
		cluster, project = g.cluster, g.project
		title := "Namespace `" + g.namespace + "`"
		if g.namespace == "" {
			title = "Cluster-scoped and mesh-wide"
		}
		level := "####"
		if g.cluster != "" {
			level = "#####"
			if hasProjects(r.Findings) {
				level = "######"
			}
		}
		fmt.Fprintf(bw, "%s %s\n\n| Level | Code | Resource | Location | Message |\n|---|---|---|---|---|\n", level, title)
		for _, f := range g.findings {
			loc := ""
			switch {
			case f.File != "":
				loc = fmt.Sprintf("`%s:%d`", f.File, f.Line)
			case f.Cluster != "":
				loc = "cluster `" + f.Cluster + "`"
			}
			fmt.Fprintf(bw, "| %s %s | %s | `%s` | %s | %s |\n", levelIcon(f.Level), f.Level, f.Code, f.Resource, loc, mdEscape(f.Message))
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

func levelIcon(l analysis.Level) string {
	switch l {
	case analysis.Error:
		return "🔴"
	case analysis.Warning:
		return "🟡"
	}
	return "🔵"
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
