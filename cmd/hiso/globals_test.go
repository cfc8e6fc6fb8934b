package main

import "testing"

func TestOneLineDefusesTerminalEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"hello\nworld":         "hello⏎world",
		"\x1b]52;c;ZXZpbA==\a": "\uFFFD]52;c;ZXZpbA==\uFFFD",
		"\x1b[2Jwiped":         "\uFFFD[2Jwiped",
		"pay \u202Eeulav":      "pay \uFFFDeulav",
		"tab\tok, ひそひそ 🤫":      "tab\tok, ひそひそ 🤫",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
