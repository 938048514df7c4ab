package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// timings prints how long each phase took when MESHPILOT_TIMINGS is set.
type timings struct {
	w    io.Writer
	last time.Time
}

func newTimings(w io.Writer) *timings {
	if os.Getenv("MESHPILOT_TIMINGS") == "" {
		return &timings{}
	}
	return &timings{w: w, last: time.Now()}
}

func (t *timings) mark(phase string) {
	if t.w == nil {
		return
	}
	now := time.Now()
	fmt.Fprintf(t.w, "timing: %-8s %v\n", phase, now.Sub(t.last).Round(time.Millisecond))
	t.last = now
}
