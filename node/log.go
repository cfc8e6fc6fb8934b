package node

import (
	"context"
	"log/slog"
)

// logAbout logs msg at level for something that concerns a contact or a
// peer. Whatever names it (its name, its peer ID, addresses, and errors
// that quote them) goes in private, which only a debug log shows: logs
// end up in journald or a redirected stderr, in clear, outside the
// encrypted home. So msg itself must name no one.
func logAbout(l *slog.Logger, level slog.Level, msg string, private ...any) {
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	if l.Enabled(ctx, slog.LevelDebug) {
		l.Log(ctx, level, msg, private...)
		return
	}
	l.Log(ctx, level, msg)
}
