package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	ok := map[string]string{
		"bob":               "bob",
		"Zoë":               "Zoë",
		"Zoe\u0308":         "Zoë", // NFD in, NFC out
		"李小龍":               "李小龍",
		"Anne-Marie O'Neil": "Anne-Marie O'Neil",
		"émoji 🙂":           "émoji 🙂",
	}
	for in, want := range ok {
		got, err := NormalizeName(in)
		if err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"empty":                   "",
		"right-to-left override":  "bob\u202Egnp.exe",
		"left-to-right mark":      "\u200Ebob",
		"zero-width space":        "b\u200Bob",
		"zero-width joiner":       "bo\u200Db",
		"byte order mark":         "\uFEFFbob",
		"line separator":          "bob\u2028alice",
		"paragraph separator":     "bob\u2029",
		"escape (Cc)":             "bob\x1b[31m",
		"newline":                 "bob\nalice",
		"not UTF-8":               "bob\xff",
		"too long":                strings.Repeat("a", MaxNameBytes+1),
		"too long once NFC-ed...": strings.Repeat("é", MaxNameBytes/2) + "a",
	}
	for what, in := range bad {
		if got, err := NormalizeName(in); !errors.Is(err, ErrBadName) {
			t.Errorf("%s: NormalizeName(%q) = %q, %v; want ErrBadName", what, in, got, err)
		}
		if (&Request{Name: in}).Validate() == nil {
			t.Errorf("%s: a request named %q is valid", what, in)
		}
	}
}
