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
	keys, groups := byNamespace(r.Findings)
	for i, ns := range keys {
		if i > 0 {
			bw.WriteString("\n")
		}
		title := "namespace " + ns
		if ns == "" {
			title = "cluster-scoped and mesh-wide"
		}
		fmt.Fprintln(bw, paint(ansiBold, title+":"))
		for _, f := range groups[ns] {
			fmt.Fprintf(bw, "  %s [%s] (%s%s) %s\n", paint(levelColor(f.Level), f.Level.String()), f.Code,
				f.Resource, location(f), oneLine(f.Message))
		}
	}
	s := r.Summary
	if len(r.Findings) == 0 {
		fmt.Fprintf(bw, "%s No validation issues found when analyzing %d objects in %d files.\n", paint(ansiCyan, "✔"), s.Objects, s.Files)
	} else {
		fmt.Fprintf(bw, "\n%d findings: %d errors, %d warnings, %d info (%d objects in %d files).\n",
			s.Total, s.Errors, s.Warnings, s.Infos, s.Objects, s.Files)
	}
	return bw.Flush()
}

func location(f analysis.Finding) string {
	switch {
	case f.File != "" && f.Line > 0:
		return fmt.Sprintf(" %s:%d", f.File, f.Line)
	case f.File != "":
		return " " + f.File
	case f.Cluster != "":
		return " cluster " + f.Cluster
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
