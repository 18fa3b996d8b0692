# Shared by the benchmark scripts (sourced, not run).

# bench_build LOADTOOL makes $tmp, has every process in $pids killed and
# $tmp removed on exit, and builds Switchyard, the fake upstream, the bare
# proxy and internal/loadtest/cmd/LOADTOOL into $tmp.
bench_build() {
	tmp=$(mktemp -d)
	pids=()
	trap bench_cleanup EXIT
	go build -o "$tmp/switchyard" .
	go build -o "$tmp/fakeupstream" ./internal/fakeupstream/cmd/fakeupstream
	go build -o "$tmp/bareproxy" ./internal/loadtest/cmd/bareproxy
	go build -o "$tmp/$1" "./internal/loadtest/cmd/$1"
}

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}

# Once the fake
# upstream ($up), the bare proxy ($proxy) and Switchyard (port
# $relay_port, root access token $access) are started, wait until all
# three answer, then give the root user a huge quota and an OpenAI
# channel to the upstream.
bench_configure_relay() {
	local i
	for i in $(seq 200); do
		curl -s -o /dev/null "http://$up/" && curl -s -o /dev/null "http://$proxy/" &&
			curl -fs -o /dev/null "http://127.0.0.1:$relay_port/healthz" && break
		sleep 0.1
	done
	bench_api PUT /api/user/ '{"id":1,"quota":1125899906842624}'
	bench_api POST /api/channel/ "{\"type\":8,\"key\":\"sk-upstream\",\"base_url\":\"http://$up\",\"models\":\"gpt-4o-mini\"}"
}

# bench_api METHOD PATH BODY calls the relay's management API as root.
bench_api() {
	curl -fsS -H "Authorization: $access" -H 'Content-Type: application/json' -X "$1" "http://127.0.0.1:$relay_port$2" -d "$3" >/dev/null
}
