#!/usr/bin/env bash
# make.sh: generate a home fixture for test/homes (homes_test.go).
#
# A fixture is a home (alice's) written by one version of hiso, committed
# so that every later version must open it and show the same history.
# homes_test.go opens each testdata/vN with the current code and compares
# it with testdata/vN/golden.json.
#
#   test/homes/make.sh test/homes/testdata/vN
#
# builds ./cmd/hiso from the checkout this script is in (or uses $HISO_BIN)
# and, on 127.0.0.1 only (every daemon runs with --isolated), runs three
# daemons: alice, bob, and a stranger carol; dave is a contact of alice's
# that never comes online. Then it copies alice's home (identity,
# history.db and history.db-wal if there is one; never lock or api.sock) to
# OUTDIR/alice and writes OUTDIR/golden.json: what `hiso history NAME
# --json --no-read` (for every contact), `hiso contacts --json` and `hiso
# requests --json` print for that home, with the daemons stopped.
#
# NEVER REGENERATE A FIXTURE OF A RELEASED FORMAT. A fixture is the proof
# that homes made by that release still open; regenerating it with newer
# code proves nothing. When the storage format changes (a new migration,
# a new keystore version), run this script for a NEW directory next to the
# old ones (testdata/v2, v3, ...) and keep every old one. The script
# refuses to write into a directory that exists.
#
# testdata/v1 was made by commit 73eaa11 (storage format of the last
# release: schema version 2, keystore of `hiso init`).
#
# The passphrase is fixed (and repeated in homes_test.go); the keystore is
# sealed with the argon2id parameters `hiso init` uses. The history holds,
# with bob: texts both ways with unicode, replies both ways, a message
# deleted for both, read receipts both ways, a verified safety number, a
# 7-day self-destruct timer, a timed text alice has not read (no deadline)
# and a timed text bob has read (a deadline 7 days after the read); with
# dave: a text still queued; and a pending contact request from carol, who
# used the invite bob had already used. golden.json's "clock" is a moment
# after everything was written and before any deadline: the test runs the
# node on that clock, so nothing in the fixture expires, ever.
#
# Needs go (unless HISO_BIN is set), jq, and about a minute.
set -euo pipefail

PASSPHRASE='hiso fixture passphrase: not a secret'

usage() { echo "usage: $0 OUTDIR   (e.g. $0 test/homes/testdata/v2)" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT=$1
if [ -e "$OUT" ]; then
	echo "$0: $OUT exists: a fixture is never regenerated; make a new directory (see the top of this script)" >&2
	exit 1
fi
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/hiso-homes.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

BIN=${HISO_BIN:-}
if [ -z "$BIN" ]; then
	BIN=$work/hiso
	(cd "$repo" && go build -o "$BIN" ./cmd/hiso)
fi
commit=$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$repo" && git status --porcelain -- . ':!test/homes' 2>/dev/null)" ]; then
	commit="$commit (with uncommitted changes)"
fi

export HISO_PASSPHRASE=$PASSPHRASE HISO_ISOLATED=1 HISO_LOG_LEVEL=debug TZ=UTC
unset HISO_PASSPHRASE_FILE HISO_LISTEN HISO_BOOTSTRAP

# as NAME ARGS...: run hiso in NAME's home.
as() { local who=$1; shift; HISO_HOME=$work/$who "$BIN" "$@"; }

# wait_for WHAT CMD...: run CMD until it succeeds, for up to 60 s.
wait_for() {
	local what=$1; shift
	for _ in $(seq 300); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	echo "$0: timed out waiting for $what" >&2
	for f in "$work"/*.log; do echo "== $f" >&2; tail -n 30 "$f" >&2; done
	exit 1
}

start() {
	local who=$1
	# Not through `as`: $! must be hiso's own pid (a backgrounded function
	# is a subshell, and a non-interactive shell's background jobs ignore
	# SIGINT).
	HISO_HOME=$work/$who "$BIN" daemon --isolated --listen /ip4/127.0.0.1/tcp/0 >"$work/$who.log" 2>&1 &
	pids+=($!)
	eval "pid_$who=$!"
	wait_for "$who's daemon" test -S "$work/$who/api.sock"
	wait_for "$who's daemon to answer" as "$who" status --json
}

stop() {
	local who=$1 pid
	eval "pid=\$pid_$who"
	kill -TERM "$pid" # a clean stop: the store checkpoints its WAL on close
	wait "$pid" || { echo "$0: $who's daemon failed" >&2; tail -n 30 "$work/$who.log" >&2; exit 1; }
}

hist() { as "$1" history "$2" --json --no-read; }
# last_id WHO CONTACT TEXT: the id of the message with this text.
id_of() { hist "$1" "$2" | jq -er --arg t "$3" 'map(select(.text == $t)) | .[0].id'; }
has() { local who=$1 contact=$2; shift 2; hist "$who" "$contact" | jq -e "$@"; }

for who in alice bob carol dave; do
	as "$who" init >/dev/null
done
dave_id=$(as dave id --json 2>/dev/null | jq -er .peer_id)

start alice
start bob
start carol

# bob becomes alice's contact through her invite; carol reuses it later.
link=$(as alice invite --name alice --json | jq -er .link)
as bob add "$link" --as bob --greeting "hi alice, it's bob" >/dev/null
wait_for "alice to have bob" sh -c "HISO_HOME=$work/alice '$BIN' contacts --json | jq -e 'any(.[]; .name == \"bob\")'"
# dave never runs: nothing listens on port 1, his text stays queued.
as alice contact add dave "$dave_id" /ip4/127.0.0.1/tcp/1 >/dev/null

a1='hello bob 👋'
b1='こんにちは、アリス！ ça va? 🌸'
b2='très bien — 你好 🙂 (a reply)'
a2='ünïcödé and a reply too ✓'
gone='this one is deleted for both'
as alice send bob --wait 30s "$a1" >/dev/null
as bob send alice --wait 30s "$b1" >/dev/null
as bob send alice --wait 30s --reply-to "$(id_of bob alice "$a1")" "$b2" >/dev/null
as alice send bob --wait 30s --reply-to "$(id_of alice bob "$b1")" "$a2" >/dev/null
as alice send bob --wait 30s "$gone" >/dev/null
as alice delete bob "$(id_of alice bob "$gone")" >/dev/null
wait_for "bob to apply the delete" has bob alice --arg t "$gone" 'all(.[]; .text != $t) and any(.[]; .kind == "deleted")'

# Read receipts both ways (no timer yet: no deadlines).
as alice read bob >/dev/null
as bob read alice >/dev/null
wait_for "bob to see his texts read" has bob alice 'map(select(.from == "me" and .kind == "text")) | all(.[]; .state == "read")'
wait_for "alice to see her texts read" has alice bob 'map(select(.from == "me" and .kind == "text")) | all(.[]; .state == "read")'

as alice verify bob --yes --no-qr >/dev/null
as alice timer bob 7d >/dev/null
wait_for "bob to have the timer" sh -c "HISO_HOME=$work/bob '$BIN' contacts --json | jq -e '.[0].timer_seconds == 604800'"

# Timed texts: bob's stays unread at alice's (no deadline); alice's is
# read by bob (her clock starts with his receipt: a deadline in 7 days).
tb='self-destructs a week after you read it ⏳'
ta='and this one a week after bob read it ⌛'
as bob send alice --wait 30s "$tb" >/dev/null
as alice send bob --wait 30s "$ta" >/dev/null
as bob read alice >/dev/null
wait_for "alice's timed text to be read" has alice bob --arg t "$ta" 'any(.[]; .text == $t and .state == "read" and .expires_at != null)'

as alice send dave 'dave, are you there? 🛰️' >/dev/null

# carol, a stranger, uses the invite bob already used: a request waits.
as carol add "$link" --as carol --greeting "hi alice, it's carol — we met at the meetup" >/dev/null
wait_for "carol's request" sh -c "HISO_HOME=$work/alice '$BIN' requests --json | jq -e 'length == 1'"

stop carol
stop bob
stop alice

# A moment after the last write and long before the first deadline.
sleep 1
clock=$(date -u +%Y-%m-%dT%H:%M:%SZ)

golden=$work/golden.json
{
	jq -n --arg commit "$commit" --arg clock "$clock" --arg peer "$(as alice id --json 2>/dev/null | jq -er .peer_id)" \
		'{made_by: $commit, clock: $clock, peer_id: $peer, note: "made by test/homes/make.sh; never regenerate: a new format gets a new directory"}'
	echo '{"history": {'
	first=1
	for name in $(as alice contacts --json 2>/dev/null | jq -r '.[].name'); do
		[ $first -eq 1 ] || echo ','
		first=0
		printf '%s: ' "$(jq -n --arg n "$name" '$n')"
		hist alice "$name" 2>/dev/null
	done
	echo '}}'
	echo '{"contacts": '
	as alice contacts --json 2>/dev/null
	echo '}'
	echo '{"requests": '
	as alice requests --json 2>/dev/null
	echo '}'
} | jq -s 'add' >"$golden"

mkdir -p "$OUT/alice"
for f in identity history.db history.db-wal; do
	if [ -e "$work/alice/$f" ]; then cp "$work/alice/$f" "$OUT/alice/$f"; fi
done
cp "$golden" "$OUT/golden.json"
echo "wrote $OUT:"
ls -l "$OUT" "$OUT/alice"
