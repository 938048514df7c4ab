package files

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/mesh"
)

func loadPaths(t *testing.T, paths ...string) *Result {
	t.Helper()
	res, err := Load(context.Background(), paths, Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return res
}

func problems(res *Result) []string {
	var out []string
	for _, p := range res.Problems {
		out = append(out, p.Error())
	}
	return out
}

func refs(res *Result) []string {
	var out []string
	for _, o := range res.Objects {
		out = append(out, fmt.Sprintf("%s@%d", o.Ref(), o.Source.Line))
	}
	return out
}

func TestLoadTestdata(t *testing.T) {
	dir := filepath.Join("testdata", "load")
	tests := []struct {
		file         string
		wantObjects  []string // "Kind ns/name@line"
		wantProblems []string // substrings, in order, each in its own problem
		wantSchema   []string // "path@line" of schema errors, over all objects
	}{
		{
			file:         "multi.yaml",
			wantObjects:  []string{"Service shop/a@2", "VirtualService shop/a@12", "ConfigMap shop/c@27", "ConfigMap shop/last@37"},
			wantProblems: []string{"multi.yaml:24: invalid YAML", "multi.yaml:34: invalid YAML"},
		},
		{
			file:        "list.json",
			wantObjects: []string{"Namespace shop@2", "DestinationRule shop/dr@3"},
		},
		{
			file:        "types.yaml",
			wantObjects: []string{"VirtualService shop/wrong-types@1"},
			wantSchema:  []string{"spec.http[0].timeout@10", "spec.http[0].route[0].weight@14"},
		},
		{
			file: "unknown.yaml",
			wantProblems: []string{
				"unknown.yaml:1: apiVersion: VirtualService networking.istio.io/v9 is not a served version",
				"unknown.yaml:7: kind: unknown kind VirtualServce in networking.istio.io/v1 (did you mean VirtualService?)",
				"unknown.yaml:17: kind: unknown kind Deploymnet in apps/v1 (did you mean Deployment?)",
			},
		},
		{
			file: "dupkeys.yaml",
			wantProblems: []string{
				`dupkeys.yaml:5: metadata.name: duplicate key "name" (first at line 4)`,
				"dupkeys.yaml:9: metadata.name: missing metadata.name",
			},
			wantObjects: []string{"ConfigMap dup@1"},
		},
		{
			file:        "bom-crlf.yaml",
			wantObjects: []string{"Namespace crlf@1"},
		},
		{
			file:         "badutf8.yaml",
			wantProblems: []string{"badutf8.yaml:6: invalid UTF-8"},
		},
		{file: "empty.yaml"},
		{
			file:        "secret.yaml",
			wantObjects: []string{"Secret shop/creds@1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := loadPaths(t, filepath.Join(dir, tt.file))
			if got := refs(res); strings.Join(got, ",") != strings.Join(tt.wantObjects, ",") {
				t.Errorf("objects = %v, want %v", got, tt.wantObjects)
			}
			got := problems(res)
			if len(got) != len(tt.wantProblems) {
				t.Fatalf("problems = %q, want %d matching %q", got, len(tt.wantProblems), tt.wantProblems)
			}
			for i, w := range tt.wantProblems {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			var schema []string
			for _, o := range res.Objects {
				for _, e := range o.SchemaErrors {
					schema = append(schema, fmt.Sprintf("%s@%d", e.Path, e.Line))
				}
			}
			if strings.Join(schema, ",") != strings.Join(tt.wantSchema, ",") {
				t.Errorf("schema errors = %v, want %v", schema, tt.wantSchema)
			}
		})
	}
}

func TestUnmodeledCounted(t *testing.T) {
	res := loadPaths(t, filepath.Join("testdata", "load", "unknown.yaml"))
	want := map[string]int{"Certificate.cert-manager.io/v1": 1, "PersistentVolumeClaim.v1": 1}
	if fmt.Sprint(res.Unmodeled) != fmt.Sprint(want) {
		t.Errorf("unmodeled = %v, want %v", res.Unmodeled, want)
	}
}

func TestNonManifestNoticed(t *testing.T) {
	res, err := LoadBytes(context.Background(), []Named{
		{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: shop\nversion: 1.2.3\n")},
		{Name: "values.yaml", Data: []byte("replicas: 2\nimage:\n  tag: v1\n")},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 || len(res.Objects) != 0 {
		t.Errorf("problems %v, objects %v", res.Problems, refs(res))
	}
	if len(res.Notices) != 2 || !strings.Contains(res.Notices[0].Error(), "Chart.yaml:1: not a Kubernetes object") {
		t.Errorf("notices = %v", res.Notices)
	}
}

func TestEmptyFileNoticed(t *testing.T) {
	res := loadPaths(t, filepath.Join("testdata", "load", "empty.yaml"))
	if len(res.Notices) != 1 || !strings.Contains(res.Notices[0].Msg, "empty") {
		t.Errorf("notices = %v, want one saying the file is empty", res.Notices)
	}
}

func TestSecretDataDropped(t *testing.T) {
	res := loadPaths(t, filepath.Join("testdata", "load", "secret.yaml"))
	o := res.Objects[0]
	info := o.Obj.(*mesh.SecretInfo)
	if strings.Join(info.Keys, ",") != "password,token" {
		t.Errorf("keys = %v", info.Keys)
	}
	dump := fmt.Sprintf("%#v %#v", *info, *o.Meta)
	for _, secret := range []string{"secret-value", "c2VjcmV0LXZhbHVl", "plain-secret-token"} {
		if strings.Contains(dump, secret) {
			t.Errorf("secret data %q kept in %s", secret, dump)
		}
	}
}

// TestHostileInputs checks that each hostile input gets a clear problem and
// that a good file beside it is still read.
func TestHostileInputs(t *testing.T) {
	good := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n"
	tests := []struct {
		name    string
		content func() []byte
		want    string
	}{
		{"alias-bomb", aliasBomb, "alias bomb"},
		{"deep-nesting", func() []byte { return nested(10000) }, "nesting deeper than"},
		{"binary", func() []byte { return []byte("\x7fELF\x02\x01\x01\x00\x00\x00junk") }, "binary data"},
		{"long-line", func() []byte {
			return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: " + strings.Repeat("x", 5<<20) + "\n  n: [\n")
		}, "invalid YAML"},
		{"not-an-object", func() []byte { return []byte("- just\n- a list\n") }, "expected a Kubernetes object"},
		{"missing-kind", func() []byte { return []byte("apiVersion: v1\nmetadata:\n  name: x\n") }, "missing kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(bad, tt.content(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "good.yaml"), []byte(good), 0o644); err != nil {
				t.Fatal(err)
			}
			res := loadPaths(t, dir)
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), tt.want) {
				t.Fatalf("problems = %q, want one containing %q", problems(res), tt.want)
			}
			if !strings.HasPrefix(res.Problems[0].File, bad) {
				t.Errorf("problem names %q, want %q", res.Problems[0].File, bad)
			}
			if got := refs(res); len(got) != 1 || got[0] != "Namespace ok@1" {
				t.Errorf("objects = %v, want the good file's namespace", got)
			}
		})
	}
}

func aliasBomb() []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\n  annotations:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "    a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.Bytes()
}

func nested(depth int) []byte {
	return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n")
}

func TestFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), 6<<20/10), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Load(context.Background(), []string{big}, Options{MaxFileSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "larger than the 5 MiB limit") {
		t.Errorf("problems = %q, want the size limit", problems(res))
	}
}

func TestFolders(t *testing.T) {
	t.Run("no yaml", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "README.md"), []byte("# hi"), 0o644)
		res := loadPaths(t, dir)
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "holds no .yaml") {
			t.Errorf("problems = %q", problems(res))
		}
	})
	t.Run("symlink loop", func(t *testing.T) {
		dir := t.TempDir()
		sub := filepath.Join(dir, "sub")
		os.Mkdir(sub, 0o755)
		os.WriteFile(filepath.Join(sub, "ns.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n"), 0o644)
		if err := os.Symlink(dir, filepath.Join(sub, "loop")); err != nil {
			t.Skipf("SKIPPED: symlinks unavailable here: %v", err)
		}
		res := loadPaths(t, dir)
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "symlink loop") {
			t.Errorf("problems = %q", problems(res))
		}
		if len(res.Objects) != 1 {
			t.Errorf("objects = %v", refs(res))
		}
	})
	t.Run("missing path", func(t *testing.T) {
		res := loadPaths(t, filepath.Join(t.TempDir(), "nope"))
		if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "no such file") {
			t.Errorf("problems = %q", problems(res))
		}
	})
}

func TestStdin(t *testing.T) {
	res, err := Load(context.Background(), []string{"-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-stdin\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(res); len(got) != 1 || got[0] != "Namespace from-stdin@1" || res.Objects[0].Source.File != "<stdin>" {
		t.Errorf("objects = %v", got)
	}
}
