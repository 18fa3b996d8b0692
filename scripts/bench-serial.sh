#!/usr/bin/env bash
# Concurrency-1 benchmark across processes: the fake upstream, a bare
# httputil.ReverseProxy and Switchyard (token auth, billing and consume
# logs on, SQLite) each run as their own process; the proxy and the relay
# are pinned to one core, the upstream and the load tool to the other, as
# issue 14 measured. serialload calls the three in turn, one call at a
# time, and prints what the proxy and the relay add over the direct call.
# Usage:
#
#   scripts/bench-serial.sh            # CALLS=2000 per target and mode
#
# It times whole answers, then streams of 64 chunks a millisecond apart to
# their first event. RELAY_BIN runs another build of the relay.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
calls=${CALLS:-2000}
server_cpu=1 load_cpu=0
[ "$(nproc)" -ge 2 ] || server_cpu=0

bench_build serialload

# taskset execs the server, so $! is the server's own pid.
pin_load=() pin_server=()
if command -v taskset >/dev/null; then pin_load=(taskset -c $load_cpu) pin_server=(taskset -c $server_cpu); fi
up=127.0.0.1:18189 proxy=127.0.0.1:18190 relay_port=18191
"${pin_load[@]}" "$tmp/fakeupstream" -addr "$up" -chunks 64 -chunk-delay 1ms >"$tmp/up.log" 2>&1 &
pids+=($!)
"${pin_server[@]}" "$tmp/bareproxy" -addr "$proxy" -upstream "http://$up" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!; pids+=($proxy_pid)
access=bench-access-$RANDOM$RANDOM key=sk-bench$RANDOM$RANDOM$RANDOM
PORT=$relay_port SQLITE_PATH="$tmp/bench.db" INITIAL_ROOT_PASSWORD=bench-password \
	INITIAL_ROOT_ACCESS_TOKEN=$access INITIAL_ROOT_TOKEN=$key \
	GLOBAL_API_RATE_LIMIT=0 GLOBAL_WEB_RATE_LIMIT=0 "${pin_server[@]}" ${RELAY_BIN:-"$tmp/switchyard"} >"$tmp/relay.log" 2>&1 &
relay_pid=$!; pids+=($relay_pid)

bench_configure_relay

path=/v1/chat/completions
run() {
	"${pin_load[@]}" "$tmp/serialload" -n "$calls" -key "$key" -proxy-pid "$proxy_pid" -relay-pid "$relay_pid" "$@" \
		-direct "http://$up$path" -proxy "http://$proxy$path" -relay "http://127.0.0.1:$relay_port$path"
}
run -label whole
run -label stream -stream -n "$((calls / 10))" -warm 20
# Every call served is billed and logged: the consume logs count them
# (warm-up calls included), once the group commit has written the last.
sleep 1
logs=$(curl -fsS -H "Authorization: $access" "http://127.0.0.1:$relay_port/api/log/stat?type=2" || true)
echo "relay consume-log stat: $logs"
