package fix_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/meshpilot/meshpilot/fix"
)

func TestDiff(t *testing.T) {
	lines := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "l%d\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct{ name, before, after, want string }{
		{"equal", "a\n", "a\n", ""},
		{"one line changed", lines(10), strings.Replace(lines(10), "l5\n", "L5\n", 1),
			"--- f\n+++ f\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+L5\n l6\n l7\n l8\n"},
		{"far changes make two hunks", lines(20), strings.Replace(strings.Replace(lines(20), "l2\n", "", 1), "l19\n", "l19\nnew\n", 1),
			"--- f\n+++ f\n@@ -1,5 +1,4 @@\n l1\n-l2\n l3\n l4\n l5\n@@ -17,4 +16,5 @@\n l17\n l18\n l19\n+new\n l20\n"},
		{"near changes merge", lines(10), strings.Replace(strings.Replace(lines(10), "l2\n", "x\n", 1), "l8\n", "y\n", 1),
			"--- f\n+++ f\n@@ -1,10 +1,10 @@\n l1\n-l2\n+x\n l3\n l4\n l5\n l6\n l7\n-l8\n+y\n l9\n l10\n"},
		{"from empty", "", "a\n", "--- f\n+++ f\n@@ -0,0 +1 @@\n+a\n"},
		{"to empty", "a\nb\n", "", "--- f\n+++ f\n@@ -1,2 +0,0 @@\n-a\n-b\n"},
		{"no newline at end", "a\nb", "a\nb\nc", "--- f\n+++ f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fix.Diff("f", []byte(tc.before), []byte(tc.after)); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestDiffPatches checks on random files that the hunks, applied to before,
// give after, and that MapLine follows unchanged lines.
func TestDiffPatches(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		before := randomLines(r, r.IntN(40))
		after := mutate(r, before)
		d := fix.Diff("f", []byte(strings.Join(before, "")), []byte(strings.Join(after, "")))
		if got := patch(t, before, d); strings.Join(got, "") != strings.Join(after, "") {
			t.Fatalf("patching gives %q, want %q\ndiff:\n%s", got, after, d)
		}
	}
}

func randomLines(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(r.IntN(8)) + "\n"
	}
	return out
}

func mutate(r *rand.Rand, in []string) []string {
	out := append([]string(nil), in...)
	for k := r.IntN(5); k > 0; k-- {
		i := r.IntN(len(out) + 1)
		switch r.IntN(3) {
		case 0:
			out = append(out[:i], append([]string{"new" + strconv.Itoa(r.IntN(3)) + "\n"}, out[i:]...)...)
		case 1:
			if i < len(out) {
				out = append(out[:i], out[i+1:]...)
			}
		default:
			if i < len(out) {
				out[i] = "changed\n"
			}
		}
	}
	return out
}

// patch applies a unified diff of files whose lines all end in "\n".
func patch(t *testing.T, before []string, d string) []string {
	t.Helper()
	if d == "" {
		return before
	}
	var out []string
	pos := 0 // next line of before to copy
	for _, l := range strings.SplitAfter(d, "\n") {
		switch {
		case l == "" || strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ "):
		case strings.HasPrefix(l, "@@ -"):
			spec := strings.Fields(l)[1][1:]
			start, _ := strconv.Atoi(strings.Split(spec, ",")[0])
			if strings.HasSuffix(spec, ",0") {
				start++
			}
			for pos < start-1 {
				out = append(out, before[pos])
				pos++
			}
		case l[0] == ' ' || l[0] == '-':
			if before[pos] != l[1:] {
				t.Fatalf("context mismatch at line %d: %q vs %q\n%s", pos+1, before[pos], l[1:], d)
			}
			if l[0] == ' ' {
				out = append(out, before[pos])
			}
			pos++
		case l[0] == '+':
			out = append(out, l[1:])
		}
	}
	return append(out, before[pos:]...)
}

func TestMapLine(t *testing.T) {
	before := []byte("a\nb\nc\nd\n")
	after := []byte("x\na\nc\nd\ny\n")
	for line, want := range map[int]int{1: 2, 2: 0, 3: 3, 4: 4} {
		got, ok := fix.MapLine(before, after, line)
		if got != want || ok != (want > 0) {
			t.Errorf("MapLine(%d) = %d, %v; want %d", line, got, ok, want)
		}
	}
}

// TestDiffLargeFileTwoChanges: two one-line changes far apart in a file too
// large for the LCS table stay two small hunks.
func TestDiffLargeFileTwoChanges(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	before := b.String()
	after := strings.Replace(strings.Replace(before, "line 100\n", "LINE 100\n", 1), "line 19900\n", "LINE 19900\n", 1)
	removed, added := fix.ChangedLines([]byte(before), []byte(after))
	if removed != 2 || added != 2 {
		t.Errorf("changed -%d +%d, want -2 +2", removed, added)
	}
	if d := fix.Diff("f.yaml", []byte(before), []byte(after)); strings.Count(d, "@@ -") != 2 {
		t.Errorf("want two hunks:\n%s", d)
	}
}
