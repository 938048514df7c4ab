package render

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"rps", formatRPS(2.345), "2.35"},
		{"rps none", formatRPS(0), "0.00"},
		{"rps some", formatRPS(1.0 / 300), "<0.01"},
		{"share none", formatShare(0), "0%"},
		{"share all", formatShare(1), "100%"},
		{"share tiny", formatShare(0.00004), "<0.01%"},
		{"share small", formatShare(0.00123), "0.12%"},
		{"share some", formatShare(0.0123), "1.2%"},
		{"share", formatShare(0.7), "70.0%"},
		{"share near all", formatShare(0.99956), "99.95%"},
		{"share almost all", formatShare(0.999999), ">99.99%"},
		{"ms tiny", formatMS(0.84, false), "0.8ms"},
		{"ms", formatMS(35.4, false), "35ms"},
		{"seconds", formatMS(4665, false), "4.67s"},
		{"minutes", formatMS(3600000, true), ">3600s"},
		{"bytes", formatBytesRate(512), "512 B/s"},
		{"kilobytes", formatBytesRate(6000), "6.00 kB/s"},
		{"megabytes", formatBytesRate(2.5e6), "2.50 MB/s"},
		{"count", formatCount(11.97), "12"},
		{"count fraction", formatCount(0.4), "<1"},
		{"flags", formatFlags(map[string]float64{"URX": 3, "UO": 12, "UF": 3}), "UO 12, UF 3, URX 3"},
		{"dot quote", dotQuote("a \"b\" \\ c\nd"), `"a \"b\" \\ c\nd"`},
		{"xml", esc(`<a & "b">`), "&lt;a &amp; &#34;b&#34;&gt;"},
		{"coordinate", num1(-0.04), "0"},
		{"cut", cut("abcdef", 4), "abc…"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestNum(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{1.0 / 3, "0.333333"},
		{300, "300"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
		{1e-9, "0.000000001"},
	} {
		got, err := num(tt.in).MarshalJSON()
		if err != nil || string(got) != tt.want {
			t.Errorf("num(%v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
