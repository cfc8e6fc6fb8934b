package api

import "fmt"

// FormatSize is a size as people read it, in decimal units as file
// managers show them: 1.2 GB, 800.0 MB, 12.0 kB, 5 bytes. The node's
// errors and every front end say sizes the same way.
func FormatSize(b uint64) string {
	const unit = 1000
	if b < unit {
		return fmt.Sprintf("%d bytes", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(b)/float64(div), "kMGTPE"[exp])
}
