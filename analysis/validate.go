package analysis

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var codeID = regexp.MustCompile(`^(IST|MP)[0-9]{4}$`)

// Validate checks that every analyzer is well formed: a unique name, a doc,
// at least one code with an ID, name, level and doc, and an acyclic Requires
// graph. It returns every problem found, joined.
func Validate(analyzers []*Analyzer) error {
	var errs []error
	names := map[string]bool{}
	codes := map[string]*Code{}
	color := map[*Analyzer]int{} // 0 white, 1 grey, 2 black
	var visit func(a *Analyzer, path []string)
	visit = func(a *Analyzer, path []string) {
		switch color[a] {
		case 1:
			errs = append(errs, fmt.Errorf("cycle in Requires: %s", strings.Join(append(path, a.Name), " -> ")))
			return
		case 2:
			return
		}
		color[a] = 1
		for _, r := range a.Requires {
			visit(r, append(path, a.Name))
		}
		color[a] = 2
	}
	for _, a := range analyzers {
		if a == nil {
			errs = append(errs, errors.New("nil analyzer"))
			continue
		}
		if a.Name == "" {
			errs = append(errs, errors.New("analyzer with no name"))
		} else if names[a.Name] {
			errs = append(errs, fmt.Errorf("analyzer %s: duplicate name", a.Name))
		}
		names[a.Name] = true
		if strings.TrimSpace(a.Doc) == "" {
			errs = append(errs, fmt.Errorf("analyzer %s: no doc", a.Name))
		}
		if a.Run == nil {
			errs = append(errs, fmt.Errorf("analyzer %s: no Run", a.Name))
		}
		if len(a.Codes) == 0 {
			errs = append(errs, fmt.Errorf("analyzer %s: no codes", a.Name))
		}
		for _, c := range a.Codes {
			if c == nil || !codeID.MatchString(c.ID) || c.Name == "" || c.Level == 0 || c.Doc == "" {
				errs = append(errs, fmt.Errorf("analyzer %s: malformed code %+v", a.Name, c))
				continue
			}
			if prev, ok := codes[c.ID]; ok && prev != c {
				errs = append(errs, fmt.Errorf("analyzer %s: code %s defined twice", a.Name, c.ID))
			}
			codes[c.ID] = c
		}
		visit(a, nil)
	}
	return errors.Join(errs...)
}
