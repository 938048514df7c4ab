package accesslog

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead reads a generated sidecar log of text and JSON entries,
// outbound and inbound, to watch throughput and allocations per line.
func BenchmarkRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const lines = 200_000
	for i := range lines {
		const prefix = "[pod/productpage-v1-6b7f6db6c4-k2x9p/istio-proxy] "
		switch i % 4 {
		case 0:
			fmt.Fprintln(w, prefix+textOutbound)
		case 1:
			fmt.Fprintln(w, prefix+textInbound)
		case 2:
			fmt.Fprintln(w, prefix+jsonHTTP)
		default:
			fmt.Fprintln(w, prefix+"2026-11-21T10:00:00.101234Z\tinfo\tFLAG: --concurrency=\"2\"")
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		if _, err := Read(context.Background(), []Input{{Path: path}}, Options{PodWorkload: podWorkload, IPWorkload: ipWorkload}); err != nil {
			b.Fatal(err)
		}
	}
}
