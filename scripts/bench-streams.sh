#!/usr/bin/env bash
# Open-stream benchmark: N concurrent streams held through a bare
# httputil.ReverseProxy and through Switchyard (token auth, billing and
# consume logs on, SQLite), each server its own process so that resident
# memory per open stream is read from /proc, beside the same streams made
# straight to the fake upstream. Usage:
#
#   scripts/bench-streams.sh [N ...]        # default: 1000 9000
#
# HOLD_SECONDS (default 60) is how long each stream lasts: one chunk per
# second flows through every stream meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 9000)
hold=${HOLD_SECONDS:-60}
ulimit -n "$(ulimit -Hn)"

bench_build streamload

up=127.0.0.1:18089 proxy=127.0.0.1:18090 relay_port=18091
"$tmp/fakeupstream" -addr "$up" -chunks "$hold" -chunk-delay 1s >"$tmp/up.log" 2>&1 &
pids+=($!)
"$tmp/bareproxy" -addr "$proxy" -upstream "http://$up" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!; pids+=($proxy_pid)
access=bench-access-$RANDOM$RANDOM key=sk-bench$RANDOM$RANDOM$RANDOM
PORT=$relay_port SQLITE_PATH="$tmp/bench.db" INITIAL_ROOT_PASSWORD=bench-password \
	INITIAL_ROOT_ACCESS_TOKEN=$access INITIAL_ROOT_TOKEN=$key \
	GLOBAL_API_RATE_LIMIT=0 GLOBAL_WEB_RATE_LIMIT=0 ${RELAY_BIN:-"$tmp/switchyard"} >"$tmp/relay.log" 2>&1 &
relay_pid=$!; pids+=($relay_pid)

bench_configure_relay
grep -h '"stream_capacity"' "$tmp/relay.log" || true

# Each run closes thousands of loopback connections, whose TIME_WAIT
# sockets hold ephemeral ports for 60 s: a run that starts among the last
# one's (9,000 streams through a relay use 18,000 ports of 28,000) spends
# its ramp searching for free ports. Wait until they have gone.
quiet_ports() {
	command -v ss >/dev/null || return 0
	for _ in $(seq 150); do
		[ "$(ss -Htan state time-wait | wc -l)" -lt 1000 ] && return 0
		sleep 0.5
	done
}

for n in "${counts[@]}"; do
	quiet_ports
	"$tmp/streamload" -label "direct n=$n" -n "$n" -url "http://$up/v1/chat/completions" || true
	quiet_ports
	"$tmp/streamload" -label "proxy  n=$n" -n "$n" -pid "$proxy_pid" -url "http://$proxy/v1/chat/completions" || true
	quiet_ports
	"$tmp/streamload" -label "relay  n=$n" -n "$n" -pid "$relay_pid" -key "$key" -url "http://127.0.0.1:$relay_port/v1/chat/completions" || true
done
