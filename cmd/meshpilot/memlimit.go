package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Analysis holds the typed objects of all its inputs at once (about 8
// bytes of heap per byte of YAML) and validates each against its CRD, which
// allocates several times what it keeps. Left to GOGC, the heap grows to
// twice the live objects and collections run early and often; instead,
// when the input's size is known, collection waits for a soft memory limit
// proportional to it: a fixed base plus 8 bytes per byte of YAML, and at
// least twice the expected live heap. GOGC or GOMEMLIMIT set by the
// user win.
const (
	memBase        = 104 << 20
	memPerYAMLByte = 8
	memLiveFactor  = 16 // twice the 8 bytes of live heap per byte of YAML
)

func setMemoryLimit(paths []string) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	var size int64
	for _, p := range paths {
		if p == "-" {
			return // unknown size: keep the runtime's defaults
		}
		size += inputSize(p)
	}
	if size == 0 {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(max(memBase+memPerYAMLByte*size, memLiveFactor*size))
}

// inputSize sums the sizes of the files Load would read below p, from
// metadata alone.
func inputSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	if !fi.IsDir() {
		return fi.Size()
	}
	var total int64
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}
