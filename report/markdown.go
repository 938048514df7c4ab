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
	if len(r.Findings) == 0 && len(r.InputErrors) == 0 {
		fmt.Fprintf(bw, "✅ No issues found in %d objects (%d files).\n", s.Objects, s.Files)
		return bw.Flush()
	}
	fmt.Fprintf(bw, "**%d findings**: %d errors, %d warnings, %d info, in %d objects (%d files).\n\n",
		s.Total, s.Errors, s.Warnings, s.Infos, s.Objects, s.Files)
	if len(r.InputErrors) > 0 {
		fmt.Fprintf(bw, "#### Input errors\n\n")
		for _, e := range r.InputErrors {
			fmt.Fprintf(bw, "- `%s`\n", mdEscape(e.String()))
		}
		bw.WriteString("\n")
	}
	keys, groups := byNamespace(r.Findings)
	for _, ns := range keys {
		title := "Namespace `" + ns + "`"
		if ns == "" {
			title = "Cluster-scoped and mesh-wide"
		}
		fmt.Fprintf(bw, "#### %s\n\n| Level | Code | Resource | Location | Message |\n|---|---|---|---|---|\n", title)
		for _, f := range groups[ns] {
			loc := ""
			if f.File != "" {
				loc = fmt.Sprintf("`%s:%d`", f.File, f.Line)
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
