package main

import (
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"250ms", 250 * time.Millisecond, true},
		{"0s", 0, false},
		{"-1h", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"7d-1h", 0, false},
		{"99999d", 0, false},
		{"week", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestStatusLine(t *testing.T) {
	sess := capture.Session{Interface: "virbr0", Dropped: 1234, IfDropped: 5}
	got := statusLine(90*time.Minute+400*time.Millisecond, 1234567, 5_600_000, sess, 312, 41, 7, []string{"--write failing"})
	for _, w := range []string{"1h30m0s on virbr0", "1,234,567 packets", "5.6 MB", "drops 1,234 kernel 5 interface", "312 live flows",
		"names 41 documented 7 undocumented", "--WRITE FAILING"} {
		if !strings.Contains(got, w) {
			t.Errorf("statusLine = %q; want it to say %q", got, w)
		}
	}
}
