package yamlfast

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cases lists small documents; ok says whether the fast path must accept
// them (false: must return ErrUnsupported or, if it parses, still match).
var cases = []struct {
	name string
	doc  string
	ok   bool
}{
	{"map", "a: 1\nb: two\n", true},
	{"nested", "a:\n  b:\n    c: d\n  e: f\ng: h\n", true},
	{"seq", "- a\n- b\n- c\n", true},
	{"seq indentless", "k:\n- a\n- b\nz: 1\n", true},
	{"seq indented", "k:\n  - a\n  - b\nz: 1\n", true},
	{"compact map", "- name: a\n  port: 80\n- name: b\n", true},
	{"compact nested seq", "- - a\n  - b\n- - c\n", true},
	{"compact seq in map in seq", "- a:\n  - x\n  - y\n  b: 2\n", true},
	{"seq of seq of map", "- - a: 1\n    b: 2\n", true},
	{"empty values", "a:\nb:\n  c:\nd: \n", true},
	{"empty seq items", "- \n-\n- a\n", true},
	{"empty indentless items", "k:\n-\n- \nb: 1\n", true},
	{"null forms", "a: ~\nb: null\nc: Null\nd: NULL\ne: nULL\n", true},
	{"bools", "a: true\nb: True\nc: TRUE\nd: false\ne: yes\nf: no\ng: on\nh: off\ni: tRUE\n", true},
	{"ints", "a: 1\nb: -1\nc: +1\nd: 0x1F\ne: 0o17\nf: 0b101\ng: 017\nh: 1_000\ni: 99999999999999999999\nj: 18446744073709551615\nk: -0b1\nl: -0o7\nm: 0B1\nn: 0X1f\n", true},
	{"floats", "a: 1.5\nb: .5\nc: 1e3\nd: -1.5e-3\ne: .inf\nf: -.Inf\ng: +.INF\nh: .nan\ni: 1.\nj: 1e999\nk: .5e1\nl: 1_0.5\n", true},
	{"strings numbers", "a: 1.4.2\nb: 10s\nc: 500ms\nd: 0x\ne: 1e\ng: +\nh: 0o\ni: 0b2\n", true},
	{"timestamps", "a: 2001-12-14\nb: 2001-12-14T21:59:43.10Z\nc: 2001-12-14 21:59:43.10\nd: 2001-12-14t21:59:43Z\ne: 2001-1-2\nf: 2001-13-40\ng: 20011-12-14\n", true},
	{"merge key", "<<: a\nb: <<\nc: '<<'\n", true},
	{"single quoted", "a: 'x y'\nb: 'it''s'\nc: ''\nd: '#not comment'\n", true},
	{"double quoted", `a: "x y"
b: "tab\there"
c: "\u00e9\x41\U0001F600"
d: "q\"q\\"
e: ""
f: "\0\a\b\v\f\r\e\ \/"
g: "\N\_\L\P"
`, false},
	{"double quoted escapes", `a: "tab\there"
c: "\u00e9\x41\U0001F600"
d: "q\"q\\"
f: "\0\a\b\v\f\r\e\ "
g: "\N\_\L\P"
h: "\'"
`, true},
	{"quoted keys", "\"a b\": 1\n'c': 2\n\"x\" : 3\n", true},
	{"comments", "# head\na: 1 # line\n# between\nb: 2\n  # odd indent\nc:\n  # inside\n  d: 3\n# foot\n", true},
	{"hash in values", "a: b#c\nb: 'x' # y\nc: x#\n", true},
	{"crlf", "a: 1\r\nb:\r\n  - x\r\n  - 'y'\r\nc: |\r\n  l1\r\n  l2\r\n", true},
	{"leading doc marker", "---\na: 1\n", true},
	{"leading doc marker spaces", "--- \na: 1\n", true},
	{"leading blank lines", "\n\n# c\n\na: 1\n", true},
	{"indented root", "  a: 1\n  b: 2\n", true},
	{"literal", "a: |\n  line1\n  line2\nb: 1\n", true},
	{"literal strip", "a: |-\n  line1\n  line2\n\nb: 1\n", true},
	{"literal keep", "a: |+\n  line1\n\n\nb: 1\n", true},
	{"literal keep eof", "a: |+\n  line1\n\n", true},
	{"literal more indented", "a: |\n  x\n    y\n  z\n\n  w\n", true},
	{"literal leading blank", "a: |\n\n  x\n", true},
	{"literal empty", "a: |\nb: 1\n", true},
	{"literal comment", "a: | # c\n  x\n", true},
	{"literal in seq", "- |\n  x\n- >-\n  y\n  z\n", true},
	{"folded", "a: >\n  one\n  two\n\n  three\n    indented\n  four\n", true},
	{"folded strip", "a: >-\n  one\n  two\n", true},
	{"folded keep", "a: >+\n  one\n\n", true},
	{"block no newline", "a: |\n  x", true},
	{"block with tabs", "a: |\n  x\n  \ty\t\n   \tz\n", true},
	{"block tab indent", "a: |\n  \tx\n", false},
	{"flow empty", "a: []\nb: {}\nc: [ ]\n", true},
	{"flow scalars", "a: [x, 'y', \"z\", 1, 2.5]\nb: [a,b]\n", true},
	{"plain with spaces", "a: hello world  \nb: x:y\nc: -x\nd: ?x\ne: :x\n", true},
	{"plain specials", "a: b, c\nb: x[1]\nc: a{b}\n", true},
	{"unicode", "a: héllo\nné: wörld\n- x\n", false},
	{"unicode ok", "ключ: значение\nb: ü\n", true},
	{"unicode compact", "- ключ: значение\n  b: ü\n", true},
	{"deep value", "a:\n    b: 1\n    c:\n          d: 2\n", true},
	{"root scalar", "hello\n", true},
	{"root quoted", "'hello'\n", true},
	{"root block", "|\n  x\n", true},
	{"root empty seq item", "-\n", true},

	{"anchor", "a: &x 1\nb: *x\n", false},
	{"tag", "a: !!str 1\n", false},
	{"complex key", "? a\n: b\n", false},
	{"multiline plain", "a: b\n  c\n", false},
	{"multiline quoted", "a: 'b\n  c'\n", false},
	{"tab indent", "a:\n\tb: 1\n", false},
	{"directive", "%YAML 1.2\n---\na: 1\n", false},
	{"doc end", "a: 1\n...\n", false},
	{"second doc", "a: 1\n---\nb: 2\n", false},
	{"flow multiline", "a: [1,\n  2]\n", false},
	{"explicit indent", "a: |2\n   x\n", false},
	{"bad indent", "a:\n    b: 1\n  c: 2\n", false},
	{"bad mapping", "a: b: c\n", false},
	{"empty", "", false},
	{"comment only", "# x\n", false},
	{"marker only", "---\n", false},
	{"lone cr", "a: 1\rb: 2\n", false},
	{"unterminated quote", "a: 'b\n", false},
	{"seq after map", "a: 1\n- b\n", false},
	{"unknown escape", `a: "\q"`, false},
	{"bad seq", "- a\nb: 1\n", false},
}

func TestCases(t *testing.T) {
	var p Parser
	for _, c := range cases {
		check(t, &p, c.name, []byte(c.doc), c.ok)
	}
}

func check(t *testing.T, p *Parser, name string, doc []byte, mustParse bool) {
	t.Helper()
	got, err := p.Parse(doc)
	want, rerr := reference(doc)
	if err != nil {
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v is not ErrUnsupported", name, err)
		}
		if mustParse {
			t.Errorf("%s: Parse failed: %v (yaml.v3 err %v)\nwant:\n%s", name, err, rerr, dump(want))
		}
		return
	}
	if rerr != nil {
		t.Errorf("%s: Parse returned a tree, yaml.v3 fails: %v", name, rerr)
		return
	}
	if d := equalNodes(got, want); d != "" {
		t.Errorf("%s: %s\ngot:\n%swant:\n%s", name, d, dump(got), dump(want))
	}
}

// TestTestdata checks the documents under testdata/docs (all must be on
// the fast path) and the fuzz corpus (which must simply agree).
func TestTestdata(t *testing.T) {
	var p Parser
	files, _ := filepath.Glob("testdata/docs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		check(t, &p, name, b, !strings.Contains(name, "unsupported"))
	}
}

func TestResolve(t *testing.T) {
	words := []string{"", "~", "null", "Null", "NULL", "nULL", "true", "yes", "Y", "on", "False", "0", "-0", "+0", "00", "08", "0x", "0xg", "0x1_0",
		"1_000", "_1", "1__0", "-_1", "0o", "0o8", "0o_7", "0b", "0b_1", "-0b", "-0b12", "-0o9", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551616", "0b1111111111111111111111111111111111111111111111111111111111111111",
		"-0b1111111111111111111111111111111111111111111111111111111111111111", "0o1777777777777777777777", "-0o1777777777777777777777",
		"1.", ".1", ".", "..", "1.2.3", "1e5", "1E+5", "1e-5", "1e", "e1", ".e1", "1.e1", "-.5", "+.5e1", "1_0.5", "1.5_0", "0x1p-2", "0x1.8p1",
		"inf", "-inf", "nan", ".inf", ".Inf", ".INF", ".iNF", "+.inf", "-.NaN", ".nan", "+.nan", "1e999", "-1e999", ".5e999", "0.0", "-0.0",
		"2001-12-14", "2001-12-14T21:59:43.10Z", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "2001-12-14 21:59:43.10 -5",
		"2001-1-1", "2001-02-30", "1_001-12-14", "2001-12", "2001-", "<<", "<", "<<<", "a", "10s", "0777", "0778", "+", "-", "+-1", "--1", "0xFFFFFFFFFFFFFFFF", "0x1FFFFFFFFFFFFFFFF"}
	for _, w := range words {
		checkResolve(t, w)
	}
	// Exhaustive short strings over a numeric-ish alphabet.
	alpha := "0189.-+_eExob:T"
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		checkResolve(t, prefix)
		if n == 0 {
			return
		}
		for i := 0; i < len(alpha); i++ {
			gen(prefix+alpha[i:i+1], n-1)
		}
	}
	gen("", 4)
}

func checkResolve(t *testing.T, w string) {
	t.Helper()
	doc := []byte("k: " + w + "\n")
	want, err := reference(doc)
	if err != nil || len(want.Content) == 0 || len(want.Content[0].Content) != 2 {
		return
	}
	v := want.Content[0].Content[1]
	if v.Kind != 8 || v.Style != 0 || v.Value != w {
		return
	}
	if got := resolvePlain(w); got != v.Tag {
		t.Errorf("resolvePlain(%q) = %s, yaml.v3 %s", w, got, v.Tag)
	}
}

func TestBounded(t *testing.T) {
	var p Parser
	deep := func(n int, unit string) []byte {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			b.WriteString(strings.Repeat(" ", i))
			b.WriteString(unit)
		}
		b.WriteString(strings.Repeat(" ", n) + "x\n")
		return b.Bytes()
	}
	inputs := map[string][]byte{
		"deep map":      deep(10000, "a:\n"),
		"deep seq line": []byte(strings.Repeat("- ", 10000) + "x\n"),
		"deep flow":     []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)),
		"long line":     bytes.Repeat([]byte("abcdefgh"), 5<<20/8),
		"long key":      append(bytes.Repeat([]byte("k"), 5<<20), ": v\n"...),
		"long quoted":   append(append([]byte("a: '"), bytes.Repeat([]byte("x"), 5<<20)...), '\''),
		"long flow":     append([]byte("a: ["), bytes.Repeat([]byte("é, "), 1<<20)...),
		"many lines":    bytes.Repeat([]byte("- x\n"), 1<<18),
	}
	for name, in := range inputs {
		start := time.Now()
		_, err := p.Parse(in)
		if d := time.Since(start); d > 3*time.Second { // generous: shared CI machines
			t.Errorf("%s: took %v", name, d)
		}
		t.Logf("%s: %v in %v", name, err, time.Since(start))
	}
	if _, err := p.Parse(deep(10000, "a:\n")); err != ErrUnsupported {
		t.Errorf("deep document: %v", err)
	}
	if _, err := p.Parse(deep(500, "a:\n")); err != nil {
		t.Errorf("500 levels: %v", err)
	}
}

// TestReuse checks that trees stay intact until the next Parse and that
// strings stay valid after it.
func TestReuse(t *testing.T) {
	var p Parser
	docs := synthDocs(t)
	for i, d := range docs[:200] {
		got, err := p.Parse(d)
		if err != nil {
			t.Fatalf("doc %d: %v\n%s", i, err, d)
		}
		want, _ := reference(d)
		if diff := equalNodes(got, want); diff != "" {
			t.Fatalf("doc %d: %s", i, diff)
		}
	}
}
