package controller_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
	"switchyard/relay"
)

// The relay benchmark. Run it with
//
//	TEST_DATABASES=sqlite go test -run '^$' -bench BenchmarkRelay -benchtime 2000x ./controller/
//
// Everything runs on loopback in one process: the fake upstream, a bare
// httputil.ReverseProxy to it (the floor for any Go relay), and the whole
// Switchyard app with token auth, billing and consume logs on. The three
// targets are measured side by side so the ratios, not the absolute
// times of a shared machine, carry the result.

type benchTargets struct {
	app     *testkit.App
	up      *fakeupstream.Server
	proxy   *httptest.Server
	key     string
	client  *http.Client
	userID  int
	user    *testkit.Client
	served  int64
	servedM sync.Mutex
	// anthropic targets speak Anthropic's Messages API end to end: the
	// client calls /v1/messages of an Anthropic channel (pass-through).
	anthropic bool
}

func newBenchTargets(b *testing.B, behavior fakeupstream.Behavior) *benchTargets {
	b.Helper()
	return newBenchTargetsWith(b, behavior, nil, nil, false)
}

func newBenchTargetsOf(b *testing.B, behavior fakeupstream.Behavior, anthropic bool) *benchTargets {
	b.Helper()
	return newBenchTargetsWith(b, behavior, nil, nil, anthropic)
}

// newBenchTargetsWith is newBenchTargets with extra app environment, extra
// fields for the bench token (rate limits) and, with anthropic, an
// Anthropic upstream behind an Anthropic channel.
func newBenchTargetsWith(b *testing.B, behavior fakeupstream.Behavior, env map[string]string, token map[string]any, anthropic bool) *benchTargets {
	b.Helper()
	up := fakeupstream.Start(behavior)
	if anthropic {
		up = fakeupstream.StartAnthropic(behavior)
	}
	b.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) },
		// A transport of its own: httptest's Close resets DefaultTransport's
		// connections, which cut the proxy's streams between sub-benchmarks.
		Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 4096},
		ErrorLog:  log.New(os.Stderr, "proxy: ", 0),
	})
	b.Cleanup(proxy.Close)
	vars := map[string]string{"BCRYPT_COST": "4"}
	for k, v := range env {
		vars[k] = v
	}
	app := testkit.Start(b, "sqlite", vars)
	// The app loads the tokenizer's encoding in the background at start;
	// wait for it, or its hundreds of thousands of allocations and its CPU
	// land in whichever target is measured first.
	(&relay.Tokenizer{}).Warm()
	t := &benchTargets{app: app, up: up, proxy: proxy, anthropic: anthropic, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 4096}}}
	root := app.Root(b)
	user := app.NewUser(b, model.RoleCommon)
	t.userID, t.user = user.UserID, user
	root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": int64(1) << 50}).Want(b, 200, true)
	var tok tokenReply
	fields := map[string]any{"name": "bench", "unlimited_quota": true}
	for k, v := range token {
		fields[k] = v
	}
	user.Do("POST", "/api/token/", fields).Want(b, 200, true).Decode(b, &tok)
	t.key = tok.Key
	typ := 8
	if anthropic {
		typ = 14
	}
	root.Do("POST", "/api/channel/", map[string]any{"type": typ, "key": "sk-upstream", "base_url": up.URL, "models": "gpt-4o-mini"}).Want(b, 200, true)
	return t
}

// withToken is the same targets (app, upstream, user) called with another
// token of the same user, made with extra fields (rate limits).
func (t *benchTargets) withToken(b *testing.B, fields map[string]any) *benchTargets {
	b.Helper()
	f := map[string]any{"name": "bench-2", "unlimited_quota": true}
	for k, v := range fields {
		f[k] = v
	}
	var tok tokenReply
	t.user.Do("POST", "/api/token/", f).Want(b, 200, true).Decode(b, &tok)
	return &benchTargets{app: t.app, up: t.up, proxy: t.proxy, key: tok.Key, client: t.client, userID: t.userID, user: t.user, anthropic: t.anthropic}
}

func (t *benchTargets) urls() map[string]string {
	return map[string]string{"direct": t.up.URL, "proxy": t.proxy.URL, "relay": t.app.URL}
}

var benchBody = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}]}`)
var benchMessagesBody = []byte(`{"model":"gpt-4o-mini","max_tokens":256,"messages":[{"role":"user","content":"Say hello in one short sentence."}]}`)
var benchStreamBody = []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count to sixty-four."}]}`)

func (t *benchTargets) call(tb testing.TB, base string, body []byte) {
	path := "/v1/chat/completions"
	if t.anthropic {
		path, body = "/v1/messages", benchMessagesBody
	}
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if t.anthropic {
		req.Header.Set("x-api-key", t.key)
		req.Header.Set("anthropic-version", "2023-06-01")
	} else {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("%s: status %d", base, resp.StatusCode)
	}
}

// stream reads one SSE answer and returns the time to its first data line
// and the mean gap between data lines.
func (t *benchTargets) stream(tb testing.TB, base string) (ttft, gap time.Duration, events int) {
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions", bytes.NewReader(benchStreamBody))
	req.Header.Set("Authorization", "Bearer "+t.key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var first, last time.Time
	for {
		line, err := br.ReadString('\n')
		if strings.HasPrefix(line, "data: ") {
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			last = now
			events++
		}
		if err != nil {
			break
		}
	}
	if events < 1 || (events < 2 && base != t.proxy.URL) {
		tb.Fatalf("%s: %d events (status %d)", base, events, resp.StatusCode)
	}
	if events < 2 {
		return first.Sub(start), 0, events
	}
	return first.Sub(start), last.Sub(first) / time.Duration(events-1), events
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkRelay measures the relay against the upstream called directly
// and against a bare reverse proxy.
func BenchmarkRelay(b *testing.B) {
	for _, format := range []string{"", "-anthropic"} {
		benchLatencyAndThroughput(b, format)
	}
	benchStreamAllocs(b, false)
	benchStreamAllocs(b, true)
	benchLimitsCost(b)
	benchStreamAndMemory(b)
}

// benchLatencyAndThroughput measures whole answers: OpenAI's chat client
// on an OpenAI channel, or with format "-anthropic" an Anthropic Messages
// client on an Anthropic channel. Both are pass-through.
func benchLatencyAndThroughput(b *testing.B, format string) {
	b.Run("latency-c1"+format, func(b *testing.B) {
		t := newBenchTargetsOf(b, fakeupstream.Behavior{}, format != "")
		lat := map[string][]time.Duration{}
		order := []string{"direct", "proxy", "relay"}
		urls := t.urls()
		for _, name := range order { // warm connections and the tokenizer
			for i := 0; i < 20; i++ {
				t.call(b, urls[name], benchBody)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// Interleaved rounds, rotating who goes first.
			for j := range order {
				name := order[(i+j)%len(order)]
				s := time.Now()
				t.call(b, urls[name], benchBody)
				lat[name] = append(lat[name], time.Since(s))
			}
		}
		b.StopTimer()
		d50, d99, d999 := pct(lat["direct"], .5), pct(lat["direct"], .99), pct(lat["direct"], .999)
		for _, name := range []string{"proxy", "relay"} {
			p50, p99, p999 := pct(lat[name], .5), pct(lat[name], .99), pct(lat[name], .999)
			b.ReportMetric(float64((p50 - d50).Microseconds()), name+"-added-p50-µs")
			b.ReportMetric(float64((p99 - d99).Microseconds()), name+"-added-p99-µs")
			b.ReportMetric(float64((p999 - d999).Microseconds()), name+"-added-p99.9-µs")
		}
		b.ReportMetric(float64(d50.Microseconds()), "direct-p50-µs")
		pa50 := float64(pct(lat["proxy"], .5) - d50)
		ra50 := float64(pct(lat["relay"], .5) - d50)
		if pa50 > 0 {
			b.ReportMetric(ra50/pa50, "relay/proxy-added-p50")
		}
		t.checkLedger(b, int64(20+b.N))
	})

	b.Run("throughput-c64"+format, func(b *testing.B) {
		benchThroughput(b, newBenchTargetsOf(b, fakeupstream.Behavior{}, format != ""))
	})
}

// benchThroughput runs 64 callers against the three targets of one
// process in interleaved rounds of 640 calls, rotating who goes first, so
// that the machine's drift (other tenants, the GC's phase, CPU frequency)
// falls on all three alike: run one after another, the relay's own figure
// moved by 40% between identical runs. Each round pair gives a
// relay/proxy ratio and the median is the figure; the totals, the tails
// of every target and its allocations per call are reported beside it.
func benchThroughput(b *testing.B, t *benchTargets) {
	const callers, round = 64, 640
	order := []string{"direct", "proxy", "relay"}
	urls := t.urls()
	for _, name := range order { // warm connections
		for i := 0; i < 2*callers; i++ {
			t.call(b, urls[name], benchBody)
		}
	}
	rounds := max(1, b.N/round)
	took := map[string]time.Duration{}
	mallocs := map[string]uint64{}
	lat := map[string][]time.Duration{}
	var ratios []float64
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		this := map[string]time.Duration{}
		for j := range order {
			name := order[(r+j)%len(order)]
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := time.Now()
			for c := 0; c < callers; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := make([]time.Duration, 0, round/callers)
					for k := 0; k < round/callers; k++ {
						s := time.Now()
						t.call(b, urls[name], benchBody)
						mine = append(mine, time.Since(s))
					}
					mu.Lock()
					lat[name] = append(lat[name], mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			this[name] = time.Since(start)
			runtime.ReadMemStats(&after)
			took[name] += this[name]
			mallocs[name] += after.Mallocs - before.Mallocs
		}
		ratios = append(ratios, this["proxy"].Seconds()/this["relay"].Seconds())
	}
	b.StopTimer()
	slices.Sort(ratios)
	calls := float64(rounds * round)
	for _, name := range order {
		b.ReportMetric(calls/took[name].Seconds(), name+"-req/s")
		b.ReportMetric(float64(mallocs[name])/calls, name+"-allocs/call")
		b.ReportMetric(float64(pct(lat[name], .99).Microseconds()), name+"-p99-µs")
	}
	b.ReportMetric(ratios[len(ratios)/2], "relay/proxy-req/s-median")
	b.ReportMetric(took["proxy"].Seconds()/took["relay"].Seconds(), "relay/proxy-req/s-total")
	d99, d999 := pct(lat["direct"], .99), pct(lat["direct"], .999)
	for _, name := range []string{"proxy", "relay"} {
		b.ReportMetric(float64((pct(lat[name], .99) - d99).Microseconds()), name+"-added-p99-µs")
		b.ReportMetric(float64((pct(lat[name], .999) - d999).Microseconds()), name+"-added-p99.9-µs")
	}
	t.checkLedger(b, int64(2*callers+rounds*round))
}

// benchStreamAllocs is the allocations-per-chunk row: the whole process's
// mallocs over streams of 1,024 chunks and of 64, per extra chunk, through
// the relay less the same figure for the upstream called directly (the
// fake upstream and the client allocate per chunk too). Steady state is
// the difference: what one more relayed chunk costs.
func benchStreamAllocs(b *testing.B, anthropic bool) {
	name := "stream-allocs-per-chunk"
	if anthropic {
		name += "-anthropic"
	}
	b.Run(name, func(b *testing.B) {
		const short, long = 64, 1024
		reply := strings.Repeat("word ", long)
		t := newBenchTargetsOf(b, fakeupstream.Behavior{Chunks: short, Reply: reply}, anthropic)
		longUp := fakeupstream.Start(fakeupstream.Behavior{Chunks: long, Reply: reply})
		typ := 8
		if anthropic {
			longUp.Close()
			longUp = fakeupstream.StartAnthropic(fakeupstream.Behavior{Chunks: long, Reply: reply})
			typ = 14
		}
		b.Cleanup(longUp.Close)
		t.app.Root(b).Do("POST", "/api/channel/", map[string]any{"type": typ, "key": "sk-upstream", "base_url": longUp.URL, "models": "gpt-4o-long"}).Want(b, 200, true)
		run := func(base, model string) uint64 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < max(b.N, 8); i++ {
				t.streamAll(b, base, model)
			}
			runtime.ReadMemStats(&after)
			return after.Mallocs - before.Mallocs
		}
		for _, base := range []string{t.up.URL, longUp.URL, t.app.URL} { // warm
			t.streamAll(b, base, "gpt-4o-mini")
		}
		t.streamAll(b, t.app.URL, "gpt-4o-long")
		b.ResetTimer()
		direct := float64(run(longUp.URL, "gpt-4o-long")) - float64(run(t.up.URL, "gpt-4o-mini"))
		relay := float64(run(t.app.URL, "gpt-4o-long")) - float64(run(t.app.URL, "gpt-4o-mini"))
		b.StopTimer()
		streams := float64(max(b.N, 8))
		perChunk := (relay - direct) / streams / (long - short)
		b.ReportMetric(perChunk, "relay-allocs/chunk")
		b.ReportMetric(direct/streams/(long-short), "direct-allocs/chunk")
		t.checkLedger(b, int64(2+2*max(b.N, 8)))
	})
}

// streamAll reads one whole streamed answer of model from base, in the
// targets' format.
func (t *benchTargets) streamAll(tb testing.TB, base, model string) {
	path := "/v1/chat/completions"
	body := []byte(`{"model":"` + model + `","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count."}]}`)
	if t.anthropic {
		path = "/v1/messages"
		body = []byte(`{"model":"` + model + `","max_tokens":2048,"stream":true,"messages":[{"role":"user","content":"Count."}]}`)
	}
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if t.anthropic {
		req.Header.Set("x-api-key", t.key)
		req.Header.Set("anthropic-version", "2023-06-01")
	} else {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n < 1024 {
		tb.Fatalf("%s: status %d, %d bytes", base, resp.StatusCode, n)
	}
}

// benchLimitsCost is issue 11's row: limits on must cost little.
func benchLimitsCost(b *testing.B) {
	// Issue 11: limits on must cost little. One relay called with two
	// tokens of one user, one with an RPM and a TPM limit (high enough
	// never to refuse) and one without, on SQLite alone (counters in
	// memory) and with Redis (counters and balances there), in alternating
	// rounds of 64 callers. The machine is shared, so each pair of rounds
	// gives a ratio and the median ratio is the figure; the totals are
	// reported beside it. One app for both keeps everything but the
	// token's limits the same (two apps differed by up to 16% unlimited).
	for _, store := range []string{"sqlite", "redis"} {
		b.Run("limits-c64-"+store, func(b *testing.B) {
			var env map[string]string
			if store == "redis" {
				env = map[string]string{"REDIS_CONN_STRING": testkit.RedisURL()}
			}
			plain := newBenchTargetsWith(b, fakeupstream.Behavior{}, env, nil, false)
			limited := plain.withToken(b, benchLimits)
			targets := []*benchTargets{plain, limited}
			for _, t := range targets { // warm connections and the tokenizer
				for i := 0; i < 50; i++ {
					t.call(b, t.app.URL, benchBody)
				}
			}
			const callers, round = 64, 1280
			rounds := max(1, b.N/round)
			took := make([]time.Duration, 2)
			var pair, cpu [2]time.Duration
			var ratios []float64
			b.ResetTimer()
			for r := 0; r < 2*rounds; r++ {
				i := r % 2
				if (r/2)%2 == 1 {
					i = 1 - i // rotate who goes first
				}
				t := targets[i]
				var wg sync.WaitGroup
				cpu0 := benchCPU(b, t.app)
				start := time.Now()
				for c := 0; c < callers; c++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for k := 0; k < round/callers; k++ {
							t.call(b, t.app.URL, benchBody)
						}
					}()
				}
				wg.Wait()
				d := time.Since(start)
				cpu[i] += benchCPU(b, t.app) - cpu0
				took[i] += d
				pair[i] = d
				if r%2 == 1 {
					// limited req/s over plain req/s for this pair
					ratios = append(ratios, pair[0].Seconds()/pair[1].Seconds())
				}
			}
			b.StopTimer()
			slices.Sort(ratios)
			n := float64(rounds * round)
			plainRPS, limitedRPS := n/took[0].Seconds(), n/took[1].Seconds()
			b.ReportMetric(plainRPS, "no-limits-req/s")
			b.ReportMetric(limitedRPS, "limits-req/s")
			b.ReportMetric(limitedRPS/plainRPS, "limits/no-limits-total")
			b.ReportMetric(ratios[len(ratios)/2], "limits/no-limits-median")
			// The machine's two cores are saturated, so requests per second
			// follow the CPU a call costs, which is far steadier to measure:
			// this process's (relay, load and upstream) plus Redis's.
			b.ReportMetric(float64(cpu[0].Microseconds())/n, "no-limits-cpu-µs/call")
			b.ReportMetric(float64(cpu[1].Microseconds())/n, "limits-cpu-µs/call")
			b.ReportMetric(cpu[0].Seconds()/cpu[1].Seconds(), "no-limits/limits-cpu")
			plain.checkLedger(b, 2*int64(50+rounds*round))
		})
	}
}

// benchCPU is the CPU time used so far by this process and, when the app
// runs on Redis, by the Redis server.
func benchCPU(b *testing.B, app *testkit.App) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	d := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if app.Store.Redis == nil {
		return d
	}
	info, err := app.Store.Redis.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("redis INFO cpu: %q", line)
			}
			d += time.Duration(f * float64(time.Second))
		}
	}
	return d
}

func benchStreamAndMemory(b *testing.B) {
	b.Run("stream-64-chunks", func(b *testing.B) {
		t := newBenchTargets(b, fakeupstream.Behavior{Chunks: 64, ChunkDelay: time.Millisecond})
		urls := t.urls()
		ttft := map[string][]time.Duration{}
		gaps := map[string][]time.Duration{}
		// The bare proxy's transport cuts about one stream in a hundred on
		// a reused connection ("use of closed network connection", the
		// standard library's own; README): a cut stream still has its time
		// to first token, and its gaps are left out.
		order := []string{"direct", "proxy", "relay"}
		cut := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j := range order {
				name := order[(i+j)%len(order)]
				tt, g, n := t.stream(b, urls[name])
				ttft[name] = append(ttft[name], tt)
				if n < 64 {
					cut++
					continue
				}
				gaps[name] = append(gaps[name], g)
			}
		}
		b.StopTimer()
		for _, name := range []string{"proxy", "relay"} {
			b.ReportMetric(float64((pct(ttft[name], .5) - pct(ttft["direct"], .5)).Microseconds()), name+"-added-ttft-p50-µs")
			b.ReportMetric(float64((pct(ttft[name], .99) - pct(ttft["direct"], .99)).Microseconds()), name+"-added-ttft-p99-µs")
			b.ReportMetric(float64((pct(gaps[name], .5) - pct(gaps["direct"], .5)).Microseconds()), name+"-added-gap-p50-µs")
		}
		for _, q := range []float64{.5, .99} {
			pa := float64(pct(ttft["proxy"], q) - pct(ttft["direct"], q))
			if pa > 0 {
				b.ReportMetric(float64(pct(ttft["relay"], q)-pct(ttft["direct"], q))/pa, fmt.Sprintf("relay/proxy-added-ttft-p%g", q*100))
			}
		}
		b.ReportMetric(float64(pct(gaps["direct"], .5).Microseconds()), "direct-gap-p50-µs")
		b.ReportMetric(float64(cut), "cut-streams")
		t.checkLedger(b, int64(b.N))
	})

	b.Run("memory-1000-streams", func(b *testing.B) {
		// Streams that stay open: the upstream waits between chunks.
		t := newBenchTargets(b, fakeupstream.Behavior{Chunks: 4, ChunkDelay: 3 * time.Second})
		const n = 1000
		// One measurement whatever b.N is: 1,000 streams held open is the
		// figure, and repeating it for -benchtime would only take longer.
		for range 1 {
			perStream := map[string]float64{}
			for _, name := range []string{"direct", "relay"} {
				base := t.urls()[name]
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				var wg sync.WaitGroup
				firsts := make(chan struct{}, n)
				for k := 0; k < n; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, _ := http.NewRequest("POST", base+"/v1/chat/completions", bytes.NewReader(benchStreamBody))
						req.Header.Set("Authorization", "Bearer "+t.key)
						resp, err := t.client.Do(req)
						if err != nil {
							b.Error(err)
							firsts <- struct{}{}
							return
						}
						defer resp.Body.Close()
						br := bufio.NewReader(resp.Body)
						sent := false
						for {
							line, err := br.ReadString('\n')
							if !sent && strings.HasPrefix(line, "data: ") {
								firsts <- struct{}{}
								sent = true
							}
							if err != nil {
								break
							}
						}
						if !sent {
							firsts <- struct{}{}
						}
					}()
				}
				for k := 0; k < n; k++ {
					<-firsts
				}
				// Every stream is open and has its first chunk: measure.
				runtime.GC()
				var during runtime.MemStats
				runtime.ReadMemStats(&during)
				use := func(m runtime.MemStats) float64 { return float64(m.HeapInuse + m.StackInuse) }
				perStream[name] = (use(during) - use(before)) / n
				wg.Wait()
			}
			b.ReportMetric(perStream["direct"]/1024, "direct-KiB/stream")
			b.ReportMetric(perStream["relay"]/1024, "relay-KiB/stream")
			b.ReportMetric((perStream["relay"]-perStream["direct"])/1024, "relay-added-KiB/stream")
			var idle runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&idle)
			b.ReportMetric(float64(idle.HeapInuse+idle.StackInuse)/(1<<20), "idle-heap+stack-MiB")
		}
		t.checkLedger(b, n)
	})
}

// checkLedger asserts one consume log and its quota per relayed request.
func (t *benchTargets) checkLedger(b *testing.B, relayed int64) {
	b.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for t.app.Store.Ledger.OpenReservations() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := t.app.Store.Ledger.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	var logs, sum int64
	t.app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", t.userID, model.LogConsume).Count(&logs)
	t.app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", t.userID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&sum)
	var u model.User
	t.app.Store.DB.First(&u, t.userID)
	if logs != relayed || u.UsedQuota != sum {
		b.Fatalf("relayed %d calls but wrote %d consume logs; used_quota %d vs logs %d", relayed, logs, u.UsedQuota, sum)
	}
	b.ReportMetric(float64(logs), "consume-logs")
}

// benchLimits are the token limits of the limits-c64 runs: high enough
// never to refuse. BENCH_NO_LIMITS=1 drops them, so the run compares two
// identical apps and shows the noise floor of the machine.
var benchLimits = map[string]any{"rpm_limit": int64(1e11), "tpm_limit": int64(1e12)}

func init() {
	if os.Getenv("BENCH_NO_LIMITS") != "" {
		benchLimits = nil
	}
}
