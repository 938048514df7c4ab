package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/analysis"
)

func finding(cluster, project, ns, code string) analysis.Finding {
	return analysis.Finding{Code: code, Level: analysis.Warning, Resource: "VirtualService " + ns + "/x",
		Message: "m", Cluster: cluster, Project: project, Namespace: ns}
}

func TestGrouping(t *testing.T) {
	cases := []struct {
		name     string
		findings []analysis.Finding
		errs     []ClusterError
		format   string
		want     string
	}{
		{
			name:     "files group by namespace only",
			findings: []analysis.Finding{{Code: "IST0101", Level: analysis.Error, Resource: "VirtualService b/x", Message: "m", File: "f.yaml", Line: 3, Namespace: "b"}},
			format:   "text",
			want: `namespace b:
  Error [IST0101] (VirtualService b/x f.yaml:3) m

1 findings: 1 errors, 0 warnings, 0 info (0 objects in 0 files).
`,
		},
		{
			name: "clusters, projects, namespaces",
			findings: []analysis.Finding{
				finding("west", "Default", "shop", "MP1"),
				finding("east", "", "kube-system", "MP2"),
				finding("east", "Payments", "pay", "MP3"),
				finding("east", "Default", "shop", "MP4"),
				finding("east", "Default", "cart", "MP5"),
			},
			errs:   []ClusterError{{Cluster: "north", Message: "unreachable"}},
			format: "text",
			want: `cluster east:
  project Default:
    namespace cart:
      Warning [MP5] (VirtualService cart/x) m

    namespace shop:
      Warning [MP4] (VirtualService shop/x) m

  project Payments:
    namespace pay:
      Warning [MP3] (VirtualService pay/x) m

  not in a project:
    namespace kube-system:
      Warning [MP2] (VirtualService kube-system/x) m

cluster west:
  project Default:
    namespace shop:
      Warning [MP1] (VirtualService shop/x) m

Error cluster north: unreachable

5 findings: 0 errors, 5 warnings, 0 info (0 objects from 3 clusters).
`,
		},
		{
			name:     "markdown names clusters and projects",
			findings: []analysis.Finding{finding("east", "Default", "shop", "MP4")},
			errs:     []ClusterError{{Cluster: "north", Message: "unreachable"}},
			format:   "markdown",
			want: "### meshpilot analysis\n\n**1 findings**: 0 errors, 1 warnings, 0 info, in 0 objects from 3 clusters.\n\n" +
				"#### Clusters not analyzed\n\n- `north`: unreachable\n\n#### Cluster `east`\n\n##### Project `Default`\n\n" +
				"###### Namespace `shop`\n\n| Level | Code | Resource | Location | Message |\n|---|---|---|---|---|\n" +
				"| 🟡 Warning | MP4 | `VirtualService shop/x` | cluster `east` | m |\n\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{Findings: c.findings, ClusterErrors: c.errs}
			Summarize(&r.Summary, c.findings)
			if c.errs != nil {
				r.Summary.Clusters = 3
			}
			var b bytes.Buffer
			if err := Write(&b, c.format, r, Options{}); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestJSONCarriesClusterAndProject(t *testing.T) {
	r := &Report{Findings: []analysis.Finding{finding("east", "Default", "shop", "MP4")}}
	var b bytes.Buffer
	if err := Write(&b, "json", r, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"cluster": "east"`, `"project": "Default"`, `"namespace": "shop"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("json lacks %s:\n%s", want, b.String())
		}
	}
}
