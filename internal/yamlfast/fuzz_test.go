package yamlfast

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks Parse against yaml.v3: whenever Parse returns a tree,
// yaml.v3 must accept the input and produce an identical tree.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/docs/*.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, c := range cases {
		f.Add([]byte(c.doc))
	}
	var p Parser
	f.Fuzz(func(t *testing.T, doc []byte) {
		// Turn a hang into a crash the fuzzer records.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Parse hangs on %q", doc)) })
		got, err := p.Parse(doc)
		watchdog.Stop()
		if err != nil {
			if err != ErrUnsupported {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		watchdog = time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("yaml.v3 hangs on %q", doc)) })
		want, rerr := reference(doc)
		watchdog.Stop()
		if rerr != nil {
			t.Fatalf("Parse returned a tree but yaml.v3 fails: %v\ninput %q\ngot:\n%s", rerr, doc, dump(got))
		}
		if d := equalNodes(got, want); d != "" {
			t.Fatalf("difference %s\ninput %q\ngot:\n%swant:\n%s", d, doc, dump(got), dump(want))
		}
	})
}
