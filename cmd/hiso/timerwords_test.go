package main

import "testing"

func TestTimerWords(t *testing.T) {
	for secs, want := range map[int64]string{
		10: "10s", 60: "1m", 300: "5m", 3600: "1h", 5400: "1h30m", 3661: "1h1m1s",
		86400: "1d", 7 * 86400: "7d", 90000: "25h",
	} {
		if got := timerWords(secs); got != want {
			t.Errorf("timerWords(%d) = %q, want %q", secs, got, want)
		}
	}
}
