package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// wipe zeroes a passphrase buffer and empties it.
func wipe(b *[]byte) {
	for i := range *b {
		(*b)[i] = 0
	}
	*b = (*b)[:0]
}

// strength is a rough word on a passphrase as it is typed: its length,
// the kinds of characters in it, and whether it looks like several words.
func strength(p []byte) (word string, weak bool) {
	s := string(p)
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return "empty — anyone who gets this disk could read your history", true
	}
	var lower, upper, digit, other bool
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	score := n + 3*(classes-1)
	if len(strings.Fields(s)) >= 4 {
		score += 8
	}
	switch {
	case n < 8 || score < 14:
		return "weak — use 4+ random words", true
	case score < 16:
		return "fair — longer is safer: 4+ random words", false
	case score < 28:
		return "good", false
	}
	return "strong", false
}
