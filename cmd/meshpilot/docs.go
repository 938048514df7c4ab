package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers"
	"github.com/meshpilot/meshpilot/analyzers/codes"
)

func newAnalyzersCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "analyzers",
		Short: "List every analyzer with its doc and codes",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all := analyzers.All()
			sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
			for _, a := range all {
				title, detail, _ := strings.Cut(a.Doc, "\n")
				fmt.Fprintf(s.out, "%s: %s\n", a.Name, title)
				for _, c := range a.Codes {
					fmt.Fprintf(s.out, "    %s %s (%s)\n", c.ID, c.Name, c.Level)
				}
				if d := strings.TrimSpace(detail); d != "" {
					fmt.Fprintf(s.out, "    %s\n", strings.ReplaceAll(d, "\n", "\n    "))
				}
			}
			return nil
		},
	}
}

func newExplainCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "explain CODE",
		Short: "Explain what a code means and how to fix it",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c := codes.Lookup(strings.ToUpper(args[0]))
			if c == nil {
				c = codes.Lookup(args[0])
			}
			if c == nil {
				return &exitError{code: exitInput, err: fmt.Errorf("unknown code %q (see 'meshpilot analyzers')", args[0])}
			}
			fmt.Fprintf(s.out, "%s %s (%s)\n\n%s\n", c.ID, c.Name, c.Level, c.Doc)
			if c.Fix != "" {
				fmt.Fprintf(s.out, "\nHow to fix: %s\n", c.Fix)
			}
			if len(c.Equivalents) > 0 {
				fmt.Fprintf(s.out, "\nSame as: %s\n", strings.Join(c.Equivalents, ", "))
			}
			var by []string
			for _, a := range analyzers.All() {
				if hasCode(a, c.ID) {
					by = append(by, a.Name)
				}
			}
			if len(by) > 0 {
				fmt.Fprintf(s.out, "\nReported by: %s\n", strings.Join(by, ", "))
			} else {
				fmt.Fprintf(s.out, "\nNo analyzer of this version reports it.\n")
			}
			return nil
		},
	}
}

func hasCode(a *analysis.Analyzer, id string) bool {
	for _, c := range a.Codes {
		if c.ID == id {
			return true
		}
	}
	return false
}
