package tui

import (
	"strings"

	"rsc.io/qr"
)

// qrQuiet is the light margin around a QR code, in modules.
const qrQuiet = 2

// QRLines draws text as a QR code with half blocks, two modules per
// character cell, inside a quiet zone: light modules are drawn, dark ones
// left blank (like `hiso invite`; the UI also paints them on black).
func QRLines(text string) ([]string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	light := func(x, y int) bool { return !code.Black(x, y) } // outside is light
	var out []string
	for y := -qrQuiet; y < code.Size+qrQuiet; y += 2 {
		var b strings.Builder
		for x := -qrQuiet; x < code.Size+qrQuiet; x++ {
			top, bottom := light(x, y), y+1 < code.Size+qrQuiet && light(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		out = append(out, b.String())
	}
	return out, nil
}
