package main

import (
	"fmt"
	"io"

	"github.com/hiso-chat/hiso/cmd/hiso/tui"
)

// writeQR draws text as a QR code the way the UI does.
func writeQR(w io.Writer, text string) error {
	lines, err := tui.QRLines(text)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
