package fix

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the LCS table (lines before × lines after of the
// region that differs). Past it the region is shown as removed and added
// whole: still a correct diff, only not a minimal one.
const maxDiffCells = 4 << 20

// context is the number of unchanged lines shown around a change.
const context = 3

// Diff returns a unified diff (---/+++ headers, @@ hunks, three lines of
// context) from before to after, both naming path; "" when they are equal.
// A last line without a line break is marked as diff(1) marks it.
func Diff(path string, before, after []byte) string {
	a, b := diffLines(string(before)), diffLines(string(after))
	ops := diffOps(a, b)
	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from context lines before the change to context lines
		// after the last change that is within 2*context of the next.
		start := max(0, i-context)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
			} else if j-end >= 2*context {
				break
			}
		}
		end = min(len(ops), end+context)
		if out.Len() == 0 {
			fmt.Fprintf(&out, "--- %s\n+++ %s\n", path, path)
		}
		writeHunk(&out, ops[start:end])
		i = end
	}
	return out.String()
}

// diffOp is one line of the edit script: ' ' kept, '-' removed, '+' added,
// with its 1-based line numbers in before (a) and after (b).
type diffOp struct {
	kind byte
	text string
	a, b int
}

func writeHunk(w *strings.Builder, ops []diffOp) {
	aStart, bStart, aN, bN := 0, 0, 0, 0
	for _, op := range ops {
		if op.kind != '+' {
			if aN == 0 {
				aStart = op.a
			}
			aN++
		}
		if op.kind != '-' {
			if bN == 0 {
				bStart = op.b
			}
			bN++
		}
	}
	// An empty side names the line before it, as diff -u does.
	if aN == 0 {
		aStart = ops[0].a - 1
	}
	if bN == 0 {
		bStart = ops[0].b - 1
	}
	fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(aStart, aN), hunkRange(bStart, bN))
	for _, op := range ops {
		w.WriteByte(op.kind)
		w.WriteString(op.text)
		if !strings.HasSuffix(op.text, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// diffLines splits s after each "\n", so that a last line without one
// differs from the same line with one.
func diffLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// diffOps computes the edit script: common prefix and suffix, and an LCS of
// the lines between (bounded by maxDiffCells).
func diffOps(a, b []string) []diffOp {
	return regionOps(a, b, 0, 0, make([]diffOp, 0, max(len(a), len(b))))
}

// regionOps appends the ops turning a into b (which start at lines offA+1
// and offB+1): common ends are kept, and a middle too large for the LCS
// table is split at a line that occurs once in each side (as patience diff
// does), so that two changes far apart in a large file stay two small
// hunks.
func regionOps(a, b []string, offA, offB int, ops []diffOp) []diffOp {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		ops = append(ops, diffOp{' ', a[p], offA + p + 1, offB + p + 1})
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	ma, mb := a[p:len(a)-s], b[p:len(b)-s]
	if i, j, ok := uniqueAnchor(ma, mb); ok && len(ma)*len(mb) > maxDiffCells {
		ops = regionOps(ma[:i], mb[:j], offA+p, offB+p, ops)
		ops = append(ops, diffOp{' ', ma[i], offA + p + i + 1, offB + p + j + 1})
		ops = regionOps(ma[i+1:], mb[j+1:], offA+p+i+1, offB+p+j+1, ops)
	} else {
		ops = append(ops, lcsOps(ma, mb, offA+p, offB+p)...)
	}
	for i := 0; i < s; i++ {
		ia, ib := len(a)-s+i, len(b)-s+i
		ops = append(ops, diffOp{' ', a[ia], offA + ia + 1, offB + ib + 1})
	}
	return ops
}

// uniqueAnchor finds a line occurring exactly once in a and once in b,
// the one nearest the middle of a.
func uniqueAnchor(a, b []string) (i, j int, ok bool) {
	countA := make(map[string]int, len(a))
	for _, l := range a {
		countA[l]++
	}
	posB := make(map[string]int, len(b))
	for k, l := range b {
		if _, seen := posB[l]; seen {
			posB[l] = -1
			continue
		}
		posB[l] = k
	}
	mid := len(a) / 2
	for d := 0; d <= mid+1; d++ {
		for _, c := range []int{mid - d, mid + d} {
			if c < 0 || c >= len(a) || countA[a[c]] != 1 {
				continue
			}
			if k, found := posB[a[c]]; found && k >= 0 {
				return c, k, true
			}
		}
	}
	return 0, 0, false
}

func lcsOps(a, b []string, offA, offB int) []diffOp {
	n, m := len(a), len(b)
	var ops []diffOp
	if n*m == 0 || n*m > maxDiffCells {
		for i, l := range a {
			ops = append(ops, diffOp{'-', l, offA + i + 1, offB + 1})
		}
		for j, l := range b {
			ops = append(ops, diffOp{'+', l, offA + n + 1, offB + j + 1})
		}
		return ops
	}
	// t[i][j] is the LCS length of a[i:] and b[j:].
	w := m + 1
	t := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], offA + i + 1, offB + j + 1})
			i, j = i+1, j+1
		case i < n && (j == m || t[(i+1)*w+j] >= t[i*w+j+1]):
			ops = append(ops, diffOp{'-', a[i], offA + i + 1, offB + j + 1})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], offA + i + 1, offB + j + 1})
			j++
		}
	}
	return ops
}

// ChangedLines counts the lines a diff removes and adds.
func ChangedLines(before, after []byte) (removed, added int) {
	for _, op := range diffOps(diffLines(string(before)), diffLines(string(after))) {
		switch op.kind {
		case '-':
			removed++
		case '+':
			added++
		}
	}
	return removed, added
}

// MapLine returns the line of after that line (1-based) of before became,
// when that line itself is unchanged; ok is false when it was edited or
// removed. Callers holding line numbers into a file use it after each
// change to the file.
func MapLine(before, after []byte, line int) (newLine int, ok bool) {
	for _, op := range diffOps(diffLines(string(before)), diffLines(string(after))) {
		if op.kind == ' ' && op.a == line {
			return op.b, true
		}
	}
	return 0, false
}
