#!/usr/bin/env bash
# Makes the screenshots in this folder: two hiso UIs (and a third home
# with only a daemon) on loopback, driven in tmux, captured with their
# colours, turned into HTML by ansi2html.py and into PNG by wkhtmltoimage.
# Needs go, tmux, python3 and wkhtmltoimage (apt-get install -y tmux
# wkhtmltopdf). Nothing leaves 127.0.0.1: every home runs with
# HISO_ISOLATED=1 and loopback listen addresses.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/hiso-shots.XXXXXX)
sock="$work/tmux.sock"
tm() { tmux -f /dev/null -S "$sock" "$@"; }
cleanup() {
	tm kill-server 2>/dev/null || true
	[ -n "${carol_pid:-}" ] && kill "$carol_pid" 2>/dev/null && wait "$carol_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

export HISO_PASSPHRASE=screenshots HISO_ISOLATED=1 HISO_LOG_LEVEL=warn
(cd "$root" && go build -o "$work/hiso" ./cmd/hiso)
hiso() { HISO_HOME="$work/$1" "$work/hiso" "${@:2}"; }
for n in alice bob carol; do hiso "$n" init >/dev/null; done

ui() { # NAME PORT: the UI in a 100x30 tmux session
	tm new-session -d -s "$1" -x 100 -y 30 \
		"env HISO_HOME=$work/$1 HISO_LISTEN=/ip4/127.0.0.1/tcp/$2 $work/hiso 2>>$work/$1.err; sleep 600"
}
screen() { tm capture-pane -p -t "$1"; }
wait_for() { # NAME TEXT: poll the screen, at most 30 s
	for _ in $(seq 300); do
		screen "$1" | grep -qF -- "$2" && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' on $1's screen:" >&2
	screen "$1" >&2
	exit 1
}
say() { # NAME TEXT: type a line and Enter
	tm send-keys -t "$1" -l -- "$2"
	tm send-keys -t "$1" Enter
}
shot() { # NAME FILE: the screen, with colours, as PNG
	tm capture-pane -e -p -t "$1" >"$work/$2.ans"
	python3 "$here/ansi2html.py" <"$work/$2.ans" >"$work/$2.html"
	# 100 cells of 9 px and the padding.
	# For PNG, quality 0 is the strongest (lossless) compression.
	wkhtmltoimage --quiet --quality 0 --width 932 "$work/$2.html" "$here/$2.png"
}

ui alice 17201
ui bob 17202
wait_for alice "Welcome to hiso"
wait_for bob "Welcome to hiso"

# Screenshot 1: alice's invite, link and QR code.
say alice "/invite alice"
wait_for alice "█████"
sleep 0.3
shot alice invite
tm send-keys -t alice Escape

# bob joins with a link of alice's (the CLI talks to her UI's socket).
link=$(hiso alice invite --name alice --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["link"])')
say bob "/add $link alice as bob"
wait_for bob "added alice"
say bob "hey alice! are we still on for climbing tomorrow?"
wait_for alice "still on for climbing"
say alice "yes! 7pm at the gym on Elm Street"
wait_for bob "7pm at the gym"
say bob "great, I'll bring the rope"
wait_for alice "bring the rope"
say alice "perfect. can you send me the address again?"
wait_for bob "address again"
say bob "12 Elm Street, second floor, the blue door"
wait_for alice "the blue door"
say alice "/verify"
wait_for alice "press y to mark"
tm send-keys -t alice y
wait_for alice "is verified"

# carol uses the same link (single use): she lands in alice's requests.
HISO_HOME="$work/carol" "$work/hiso" daemon --listen /ip4/127.0.0.1/tcp/17203 >/dev/null 2>&1 &
carol_pid=$!
sleep 2
hiso carol add "$link" --as carol --greeting "hi, it's carol from the climbing gym" >/dev/null
hiso carol send alice "hello!" >/dev/null
wait_for alice "Requests (1)"

# A self-destruct timer, and a message that counts down once read.
say alice "/timer 1m"
wait_for bob "set the self-destruct timer to 1m"
say alice "the door code is 4711"
wait_for bob "door code"
wait_for alice "⏳"
tm send-keys -t alice Escape
sleep 2.2

# Screenshot 2: alice's conversation with bob.
shot alice conversation
echo "wrote $here/invite.png $here/conversation.png"
