# shellcheck shell=bash
# netlab helpers: namespaces, links, NAT routers, hiso daemons, bounded waits.
# Sourced by test/netlab/run. Everything a scenario creates is recorded in
# files under $SC (the scenario's directory) so that cleanup works from any
# subshell and after any failure.
#
# Network rule: every namespace here is linked only to other namespaces of
# this lab (veth pairs created directly inside them, bridges inside a lab
# namespace). Nothing touches the root namespace's interfaces, and no
# namespace has a route that leaves the lab: the "internet" is one bridge in
# a lab namespace, 11.0.0.0/24, and NAT hosts' default routes point at lab
# routers, whose only routes are their connected lab subnets.

DHTPROTO=/hiso-lab/kad/1.0.0
PASS_ENV=x
LOGLEVEL=${HISO_NETLAB_LOG:-debug}

ts() { printf '%s' "$EPOCHREALTIME"; }
# since T0: seconds elapsed since the time stamp T0, one decimal.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
sub_ts() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

note() { printf '  %s: %s\n' "$SCNAME" "$*" | tee -a "$SC/notes" >&2; }

# --- namespaces and links -------------------------------------------------

# mkns NAME: a fresh namespace $PFX-$SCID-NAME with lo up; prints its name.
mkns() {
	local ns="$PFX$SCID-$1"
	ip netns add "$ns" || return 1
	echo "$ns" >>"$SC/ns.list"
	ip -n "$ns" link set lo up
	# Hosts and routers alike: no IPv6 (nothing of the lab uses it; and no
	# SLAAC/RA chatter), no redirects.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	echo "$ns"
}

# veth NS1 IF1 NS2 IF2: a veth pair with one end in each namespace.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
}

# bridge NS: a bridge br0 inside namespace NS.
bridge() {
	ip -n "$1" link add br0 type bridge
	ip -n "$1" link set br0 up
}

# plug BRNS PORT NS IF CIDR: connect interface IF of NS to br0 of BRNS
# (bridge port PORT) and give it CIDR.
plug() {
	local brns=$1 port=$2 ns=$3 ifc=$4 cidr=$5
	veth "$brns" "$port" "$ns" "$ifc"
	ip -n "$brns" link set "$port" master br0 up
	ip -n "$ns" addr add "$cidr" dev "$ifc"
	ip -n "$ns" link set "$ifc" up
}

# nat_router NS PUBCIDR LANNET [random]: NS routes between eth0 (public,
# PUBCIDR on the lab internet) and eth1 (LANNET.1/24) and masquerades the
# LAN behind its public address. Without "random" Linux masquerade keeps the
# source port when it can: endpoint-independent mapping, as most home
# routers. With "random" every connection gets a random port:
# endpoint-dependent mapping (symmetric NAT), which defeats hole punching.
# New connections from outside to the router itself are dropped silently,
# as a home router's firewall does (a RST would abort a simultaneous open).
nat_router() {
	local ns=$1 pub=$2 lan=$3 mode=${4:-}
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$ns" addr add "$lan.1/24" dev eth1
	ip -n "$ns" link set eth1 up
	local masq=masquerade
	[ "$mode" = random ] && masq="masquerade random"
	ip netns exec "$ns" nft -f - <<EOF
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" $masq
	}
}
table ip fw {
	counter from_watch { }
	counter from_all { }
	set watch { type ipv4_addr; }
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		iifname "eth0" counter name from_all
		iifname "eth0" ip saddr @watch counter name from_watch
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "eth0" ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "eth0" ct state new drop
	}
}
EOF
}

# nat_host NS LANNET: the host on a NAT router's LAN side, default route
# via the router (the router has no way out of the lab).
nat_host() {
	local ns=$1 lan=$2
	ip -n "$ns" addr add "$lan.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$lan.1"
}

# --- hiso homes and daemons -----------------------------------------------

# init_home NAME...: fresh homes $HOMES/NAME (mode 0700), made in parallel
# (each costs a key derivation); sets ID_<NAME> to each one's peer ID.
init_home() {
	local name
	for name in "$@"; do
		(
			home="$HOMES/$name"
			HISO_HOME="$home" HISO_PASSPHRASE=$PASS_ENV "$HISO" init >"$SC/$name.init.out" 2>"$SC/$name.init.err" || exit 1
			chmod 700 "$home"
			# "created identity PEERID in HOME"; else ask (one more unlock).
			sed -n 's/^created identity \([1-9A-HJ-NP-Za-km-z]\{40,\}\) in .*/\1/p' "$SC/$name.init.out" >"$SC/$name.id"
			[ -s "$SC/$name.id" ] ||
				HISO_HOME="$home" HISO_PASSPHRASE=$PASS_ENV "$HISO" id --json 2>>"$SC/$name.init.err" |
				pyjson 'd["peer_id"]' >"$SC/$name.id"
		) &
	done
	wait
	for name in "$@"; do
		local id
		id=$(cat "$SC/$name.id" 2>/dev/null)
		if [ -z "$id" ]; then
			echo "init $name failed:" >&2
			cat "$SC/$name.init.err" >&2
			return 1
		fi
		printf -v "ID_$name" '%s' "$id"
	done
}

peer_id() { local v="ID_$1"; printf '%s' "${!v}"; }

# start_daemon NS NAME FLAGS...: run `hiso daemon` inside namespace NS.
# Every lab daemon runs inside a lab namespace.
start_daemon() {
	local ns=$1 name=$2
	shift 2
	case "$ns" in "$PFX$SCID"-*) ;; *)
		echo "refusing to start a daemon outside a lab namespace: $ns" >&2
		return 1
		;;
	esac
	# go-libp2p's own logs (relay, hole punching) for the two users: the
	# timeline in the results is read from them.
	local golog=error
	case "$name" in alice | bob) golog="error,p2p-holepunch=debug,p2p-circuit=debug,autorelay=debug" ;; esac
	ip netns exec "$ns" env HISO_HOME="$HOMES/$name" HISO_PASSPHRASE=$PASS_ENV HISO_LOG_LEVEL="$LOGLEVEL" \
		GOLOG_LOG_LEVEL="$golog" GOLOG_LOG_ADD_SOURCE=false \
		"$HISO" daemon --listen /ip4/0.0.0.0/tcp/4001 "$@" \
		>"$SC/$name.out" 2>>"$SC/$name.err" </dev/null &
	echo "$!" >"$SC/$name.pid"
	echo "$!" >>"$SC/pids.list"
	printf -v "START_$name" '%s' "$EPOCHREALTIME"
}

# stop_daemon NAME: SIGTERM, then SIGKILL after 5 s.
stop_daemon() {
	local pid
	pid=$(cat "$SC/$1.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

alive() { kill -0 "$(cat "$SC/$1.pid" 2>/dev/null)" 2>/dev/null; }

# wait_ready NAME: the daemon printed its peer ID and serves its socket.
wait_ready() {
	local name=$1 i
	for ((i = 0; i < 200; i++)); do
		if grep -q '^hiso daemon running as' "$SC/$name.out" 2>/dev/null && [ -S "$HOMES/$name/api.sock" ]; then
			return 0
		fi
		alive "$name" || break
		sleep 0.1
	done
	echo "daemon $name did not start:" >&2
	tail -5 "$SC/$name.err" >&2
	return 1
}

# hc NAME ARGS...: a hiso client command against NAME's daemon (over the
# home's Unix socket; runs in the root namespace, no network involved).
hc() {
	local name=$1
	shift
	HISO_HOME="$HOMES/$name" HISO_PASSPHRASE=$PASS_ENV timeout 20 "$HISO" "$@"
}

# pyjson EXPR: evaluate a Python expression over JSON read from stdin as d.
pyjson() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
if isinstance(r, (dict, list)):
    print(json.dumps(r))
elif r is None:
    pass
elif isinstance(r, bool):
    print("true" if r else "false")
else:
    print(r)
' "$1"
}

# texts_from NAME CONTACT: the texts NAME received from CONTACT, one a line,
# in history order.
texts_from() {
	hc "$1" history "$2" --json ${NOREAD-} 2>/dev/null | pyjson "'\n'.join(m.get('text') or '' for m in d if m.get('from') == '$2' and m.get('text')) or None"
}

# has_msg NAME CONTACT TEXT: NAME's history holds TEXT from CONTACT.
has_msg() { texts_from "$1" "$2" | grep -qxF "$3"; }

# contact_field NAME CONTACT FIELD: a field of CONTACT in NAME's status.
contact_field() {
	hc "$1" status --json 2>/dev/null | pyjson "next((str(c.get('$3','')) for c in d['contacts'] if c['name'] == '$2'), '')"
}

# status_line NAME: a compact view of a node's status.
status_line() {
	hc "$1" status --json 2>/dev/null | pyjson '"reach=%s relays=%d dht_peers=%s " % (d.get("reachability"), len(d.get("relays") or []), d.get("dht_peers")) + " ".join("%s:online=%s,kind=%s,addr=%s,queued=%s" % (c["name"], c.get("online"), c.get("kind") or "-", c.get("remote_addr") or "-", c.get("queued")) for c in d["contacts"])'
}

# wait_for SECONDS CMD...: poll CMD every 0.5 s until it succeeds or the
# time is up. Returns CMD's last status.
wait_for() {
	local limit=$1
	shift
	local end
	end=$(awk -v n="$EPOCHREALTIME" -v l="$limit" 'BEGIN{printf "%d", n+l}')
	while :; do
		"$@" && return 0
		[ "${EPOCHREALTIME%.*}" -ge "$end" ] && return 1
		sleep 0.5
	done
}

# --- the lab internet -------------------------------------------------------

# internet NSERVERS: a public segment 11.0.0.0/24 (not a private range, so
# libp2p treats its addresses as public: manet.IsPublicAddr) on a bridge in
# namespace "inet", with NSERVERS DHT servers s1..sN at 11.0.0.11.. (s1
# bootstraps the others). s2 is also the relay. Makes the homes of the
# servers, alice and bob. Sets BOOT (s1's address),
# RELAY (s2's), SOMEBOOT (three servers' addresses as --bootstrap flags).
internet() {
	local n=$1 i
	INET=$(mkns inet) || return 1
	bridge "$INET"
	local names=()
	for ((i = 1; i <= n; i++)); do
		local ns
		ns=$(mkns "s$i") || return 1
		plug "$INET" "p-s$i" "$ns" eth0 "11.0.0.$((10 + i))/24"
		names+=("s$i")
	done
	init_home "${names[@]}" alice bob || return 1
	BOOT="/ip4/11.0.0.11/tcp/4001/p2p/$ID_s1"
	RELAY="/ip4/11.0.0.12/tcp/4001/p2p/$ID_s2"
	local common=(--isolated --dht-server --reachability public --dht-protocol "$DHTPROTO")
	start_daemon "$PFX$SCID-s1" s1 "${common[@]}"
	wait_ready s1 || return 1
	for ((i = 2; i <= n; i++)); do
		local extra=()
		[ "$i" = 2 ] && extra=(--relay-service)
		start_daemon "$PFX$SCID-s$i" "s$i" "${common[@]}" --bootstrap "$BOOT" "${extra[@]}"
	done
	for ((i = 2; i <= n; i++)); do wait_ready "s$i" || return 1; done
	SOMEBOOT=(--bootstrap "/ip4/11.0.0.13/tcp/4001/p2p/$ID_s3"
		--bootstrap "/ip4/11.0.0.14/tcp/4001/p2p/$ID_s4"
		--bootstrap "/ip4/11.0.0.15/tcp/4001/p2p/$ID_s5")
}

# behind_nat NAME PUBIP LANNET [random]: router namespace r-NAME on the lab
# internet at PUBIP, host namespace NAME on LANNET.2 behind it. (internet
# made the homes of alice and bob.)
behind_nat() {
	local name=$1 pub=$2 lan=$3 mode=${4:-}
	local r h
	r=$(mkns "r-$name") || return 1
	h=$(mkns "$name") || return 1
	plug "$INET" "p-r-$name" "$r" eth0 "$pub/24"
	veth "$r" eth1 "$h" eth0
	nat_router "$r" "$pub" "$lan" "$mode"
	nat_host "$h" "$lan"
}

# nat_client_flags: how alice and bob run behind their NATs.
nat_client_flags() {
	NATFLAGS=(--isolated "${SOMEBOOT[@]}" --dht-protocol "$DHTPROTO" --relay "$RELAY")
	if [ -n "${HISO_NETLAB_REACH-private}" ]; then
		NATFLAGS+=(--reachability "${HISO_NETLAB_REACH-private}")
	fi
}

# kinds_watch SECONDS STOPCMD...: sample how alice sees bob and bob sees
# alice every second, recording each change as "T:ALICEVIEW/BOBVIEW" (T in
# seconds since $T0) in $SC/kinds, until STOPCMD succeeds or time is up.
kinds_watch() {
	local limit=$1
	shift
	local end
	end=$(awk -v n="$EPOCHREALTIME" -v l="$limit" 'BEGIN{printf "%d", n+l}')
	while :; do
		local k1 k2
		k1=$(contact_field alice bob kind)
		k2=$(contact_field bob alice kind)
		local k="${k1:-offline}/${k2:-offline}"
		if [ "$k" != "${KINDS_LAST-}" ]; then
			echo "$(since "$T0")s:$k" >>"$SC/kinds"
			KINDS_LAST=$k
		fi
		"$@" && return 0
		[ "${EPOCHREALTIME%.*}" -ge "$end" ] && return 1
		sleep 1
	done
}

# kinds: the kinds seen so far, on one line.
kinds() { tr '\n' ' ' <"$SC/kinds" 2>/dev/null | sed 's/ $//'; }

# online_ready NAME [hide]: NAME holds a relay reservation and (unless
# "hide": --hide-ip advertises relay addresses only) knows its public
# address, as a device does a few seconds after it starts.
online_ready() {
	hc "$1" status --json 2>/dev/null | pyjson 'len(d.get("relays") or []) > 0' | grep -q true || return 1
	[ "${2-}" = hide ] && return 0
	hc "$1" id --json 2>/dev/null | grep -q '/ip4/11\.0\.0\.'
}

# timeline: relay and hole-punch times of alice and bob, from their logs.
timeline() {
	python3 "$HERE/timeline.py" "$T0" "$ID_bob" "$SC/alice.err" "$ID_alice" "$SC/bob.err"
}

# --- cleanup --------------------------------------------------------------

# sc_cleanup: stop this scenario's daemons and everything else it started in
# its namespaces, then delete the namespaces.
sc_cleanup() {
	local pid ns
	if [ -f "$SC/pids.list" ]; then
		while read -r pid; do kill -TERM "$pid" 2>/dev/null; done <"$SC/pids.list"
		local i
		for ((i = 0; i < 50; i++)); do
			local any=0
			while read -r pid; do kill -0 "$pid" 2>/dev/null && any=1; done <"$SC/pids.list"
			[ $any = 0 ] && break
			sleep 0.1
		done
		while read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$SC/pids.list"
	fi
	if [ -f "$SC/ns.list" ]; then
		while read -r ns; do
			# Anything still running in a lab namespace was started by the lab.
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
		done <"$SC/ns.list"
	fi
}
