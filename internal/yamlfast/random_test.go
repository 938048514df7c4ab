package yamlfast

import (
	"math/rand"
	"strings"
	"testing"
)

// fragments are glued into random documents that stress indentation,
// compact collections, block scalars, quoting and comments.
var fragments = []string{
	"a", "b: ", "key:", "- ", "-", " ", "  ", "   ", "\n", "\n", "\n", "\r\n", "#", " # c", "'", "\"", "''", "\\", "\\n", "\\x4",
	"|", "|-", "|+", ">", ">-", ">+", "|2", "[", "]", "{", "}", ",", ": ", ":", "x: 1", "1", "-1", "0x1F", "1.5", ".inf", "~", "null",
	"true", "yes", "2001-12-14", "<<", "&a", "*a", "!t", "?", "%", "---", "...", "\t", "é", "v1", "- a: b", "\n  ", "\n    ", "\n- ",
	"\n  - ", "\n  k: v", "\n    k: v", "\n\n", "- - ", "k: |\n  ", "k: >\n  ", "\"a\\\"b\"", "'it''s'", "[a, b]", "{}", "[]", "@", "`",
}

func TestRandomDocs(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 20000
	}
	r := rand.New(rand.NewSource(randomSeed))
	var p Parser
	var b strings.Builder
	accepted := 0
	for i := 0; i < n; i++ {
		b.Reset()
		k := 1 + r.Intn(25)
		for j := 0; j < k; j++ {
			b.WriteString(fragments[r.Intn(len(fragments))])
		}
		doc := []byte(b.String())
		got, err := p.Parse(doc)
		if err != nil {
			continue
		}
		accepted++
		want, rerr := reference(doc)
		if rerr != nil {
			t.Fatalf("Parse accepted, yaml.v3 fails (%v): %q\ngot:\n%s", rerr, doc, dump(got))
		}
		if d := equalNodes(got, want); d != "" {
			t.Fatalf("%s\ninput %q\ngot:\n%swant:\n%s", d, doc, dump(got), dump(want))
		}
	}
	t.Logf("%d of %d random documents on the fast path", accepted, n)
}

// randomSeed is a variable so that longer runs can use other seeds.
var randomSeed int64 = 1

// genNode writes a random, mostly well-formed block node at indentation
// ind, with occasional perturbations.
func genNode(r *rand.Rand, b *strings.Builder, ind, depth int, inline bool) {
	pad := func(n int) string {
		if n < 0 {
			n = 0
		}
		return strings.Repeat(" ", n)
	}
	jitter := func() int {
		if r.Intn(40) == 0 {
			return r.Intn(3) - 1
		}
		return 0
	}
	nl := func() {
		switch r.Intn(30) {
		case 0:
			b.WriteString(" # c")
		case 1:
			b.WriteString("\n" + pad(r.Intn(6)) + "# c")
		case 2:
			b.WriteString("\n" + pad(r.Intn(4)))
		case 3:
			b.WriteString("\r")
		}
		b.WriteString("\n")
	}
	scalars := []string{"x", "1", "-2", "0x1F", "1.5", "1e3", "~", "null", "true", "no", "2001-12-14", "'q'", "'it''s'", `"d"`, `"e\tf"`, "a b", "a:b", "a#b", "<<", "''", `""`, "[a, b]", "[]", "{}", "é", "-x", ":x", "?x", "1_000", ".5", "+.inf"}
	kind := r.Intn(4)
	if depth > 4 {
		kind = 3
	}
	switch kind {
	case 0, 1: // mapping
		n := 1 + r.Intn(3)
		for i := 0; i < n; i++ {
			if i > 0 || !inline {
				b.WriteString(pad(ind + jitter()))
			}
			keys := []string{"k", "key", "'qk'", `"dk"`, "1", "a b", "<<", "-k"}
			b.WriteString(keys[r.Intn(len(keys))])
			b.WriteString(":")
			switch r.Intn(5) {
			case 0: // nested block on next lines
				nl()
				step := 1 + r.Intn(3)
				if r.Intn(4) == 0 {
					step = 0 // indentless sequence or empty value
				}
				genNode(r, b, ind+step, depth+1, false)
			case 1:
				nl()
			default:
				b.WriteString(" ")
				genScalar(r, b, ind, scalars)
			}
		}
	case 2: // sequence
		n := 1 + r.Intn(3)
		for i := 0; i < n; i++ {
			if i > 0 || !inline {
				b.WriteString(pad(ind + jitter()))
			}
			b.WriteString("-")
			switch r.Intn(5) {
			case 0:
				b.WriteString(pad(1 + r.Intn(2)))
				genNode(r, b, ind+2, depth+1, true)
			case 1:
				nl()
				genNode(r, b, ind+1+r.Intn(3), depth+1, false)
			case 2:
				nl()
			default:
				b.WriteString(" ")
				genScalar(r, b, ind, scalars)
			}
		}
	default:
		if !inline {
			b.WriteString(pad(ind))
		}
		genScalar(r, b, ind, scalars)
	}
}

func genScalar(r *rand.Rand, b *strings.Builder, ind int, scalars []string) {
	switch r.Intn(8) {
	case 0:
		heads := []string{"|", "|-", "|+", ">", ">-", ">+", "| # c", "|2"}
		b.WriteString(heads[r.Intn(len(heads))])
		b.WriteString("\n")
		lines := r.Intn(5)
		base := ind + 1 + r.Intn(3)
		for i := 0; i < lines; i++ {
			switch r.Intn(6) {
			case 0:
				b.WriteString("\n")
			case 1:
				b.WriteString(strings.Repeat(" ", base+1+r.Intn(2)) + "more\n")
			case 2:
				b.WriteString(strings.Repeat(" ", r.Intn(base+3)) + "\n")
			default:
				b.WriteString(strings.Repeat(" ", base) + "text here\n")
			}
		}
	default:
		b.WriteString(scalars[r.Intn(len(scalars))])
		if r.Intn(20) == 0 {
			b.WriteString("\n" + strings.Repeat(" ", r.Intn(ind+4)) + "cont")
		}
		b.WriteString("\n")
	}
}

func TestRandomStructured(t *testing.T) {
	n := 50000
	if testing.Short() {
		n = 10000
	}
	r := rand.New(rand.NewSource(randomSeed))
	var p Parser
	var b strings.Builder
	accepted := 0
	for i := 0; i < n; i++ {
		b.Reset()
		if r.Intn(5) == 0 {
			b.WriteString("---\n")
		}
		genNode(r, &b, r.Intn(2), 0, false)
		doc := []byte(b.String())
		got, err := p.Parse(doc)
		if err != nil {
			continue
		}
		accepted++
		want, rerr := reference(doc)
		if rerr != nil {
			t.Fatalf("Parse accepted, yaml.v3 fails (%v): %q\ngot:\n%s", rerr, doc, dump(got))
		}
		if d := equalNodes(got, want); d != "" {
			t.Fatalf("%s\ninput %q\ngot:\n%swant:\n%s", d, doc, dump(got), dump(want))
		}
	}
	t.Logf("%d of %d structured documents on the fast path", accepted, n)
}
