package traffic

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

func quote(s string) string { return strconv.Quote(s) }
func itoa(i int) string     { return strconv.Itoa(i) }

// ms formats milliseconds for messages: "850ms", "2.4s".
func ms(v float64) string {
	if math.IsNaN(v) {
		return "unknown"
	}
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'g', 3, 64) + "s"
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + "ms"
}

func pct(v float64) string { return strconv.FormatFloat(v*100, 'g', 3, 64) + "%" }

func count(v float64) string { return fmt.Sprintf("%.0f", v) }

func durMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// window describes the evidence window: "over 1d from prometheus ...".
func window(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return d.String()
}
