package incremental

import "github.com/meshpilot/meshpilot/analysis"

// identity is what makes a finding the same one across runs.
type identity struct {
	code, analyzer, resource, cluster, message string
}

func identityOf(f analysis.Finding) identity {
	return identity{f.Code, f.Analyzer, f.Resource, f.Cluster, f.Message}
}

// diff returns the findings of nu not in old (opened) and of old not in nu
// (closed), as multisets of identities, each sorted.
func diff(old, nu []analysis.Finding) (opened, closed []analysis.Finding) {
	left := make(map[identity]int, len(old))
	for _, f := range old {
		left[identityOf(f)]++
	}
	for _, f := range nu {
		id := identityOf(f)
		if left[id] > 0 {
			left[id]--
			continue
		}
		opened = append(opened, f)
	}
	for _, f := range old {
		id := identityOf(f)
		if left[id] > 0 {
			left[id]--
			closed = append(closed, f)
		}
	}
	analysis.Sort(opened)
	analysis.Sort(closed)
	return opened, closed
}
