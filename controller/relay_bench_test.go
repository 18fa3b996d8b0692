package controller_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
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
	served  int64
	servedM sync.Mutex
	// anthropic targets speak Anthropic's Messages API end to end: the
	// client calls /v1/messages of an Anthropic channel (pass-through).
	anthropic bool
}

func newBenchTargets(b *testing.B, behavior fakeupstream.Behavior) *benchTargets {
	return newBenchTargetsOf(b, behavior, false)
}

func newBenchTargetsOf(b *testing.B, behavior fakeupstream.Behavior, anthropic bool) *benchTargets {
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
	app := testkit.Start(b, "sqlite", map[string]string{"BCRYPT_COST": "4"})
	t := &benchTargets{app: app, up: up, proxy: proxy, anthropic: anthropic, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 4096}}}
	root := app.Root(b)
	user := app.NewUser(b, model.RoleCommon)
	t.userID = user.UserID
	root.Do("PUT", "/api/user/", map[string]any{"id": user.UserID, "quota": int64(1) << 50}).Want(b, 200, true)
	var tok tokenReply
	user.Do("POST", "/api/token/", map[string]any{"name": "bench", "unlimited_quota": true}).Want(b, 200, true).Decode(b, &tok)
	t.key = tok.Key
	typ := 8
	if anthropic {
		typ = 14
	}
	root.Do("POST", "/api/channel/", map[string]any{"type": typ, "key": "sk-upstream", "base_url": up.URL, "models": "gpt-4o-mini"}).Want(b, 200, true)
	return t
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
	if events < 2 {
		tb.Fatalf("%s: %d events (status %d)", base, events, resp.StatusCode)
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
		d50, d99 := pct(lat["direct"], .5), pct(lat["direct"], .99)
		for _, name := range []string{"proxy", "relay"} {
			p50, p99 := pct(lat[name], .5), pct(lat[name], .99)
			b.ReportMetric(float64((p50 - d50).Microseconds()), name+"-added-p50-µs")
			b.ReportMetric(float64((p99 - d99).Microseconds()), name+"-added-p99-µs")
		}
		b.ReportMetric(float64(d50.Microseconds()), "direct-p50-µs")
		pa50 := float64(pct(lat["proxy"], .5) - d50)
		ra50 := float64(pct(lat["relay"], .5) - d50)
		if pa50 > 0 {
			b.ReportMetric(ra50/pa50, "relay/proxy-added-p50")
		}
		t.checkLedger(b, int64(20+b.N))
	})

	for _, name := range []string{"direct", "proxy", "relay"} {
		b.Run("throughput-c64"+format+"-"+name, func(b *testing.B) {
			t := newBenchTargetsOf(b, fakeupstream.Behavior{}, format != "")
			base := t.urls()[name]
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t.call(b, base, benchBody)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			if name == "relay" {
				t.checkLedger(b, int64(b.N))
			}
		})
	}
}

func benchStreamAndMemory(b *testing.B) {
	b.Run("stream-64-chunks", func(b *testing.B) {
		t := newBenchTargets(b, fakeupstream.Behavior{Chunks: 64, ChunkDelay: time.Millisecond})
		urls := t.urls()
		ttft := map[string][]time.Duration{}
		gaps := map[string][]time.Duration{}
		// The bare proxy is left out here: in this one-process setup its
		// streams were cut after the first event ("use of closed network
		// connection" on its upstream read), a cause not yet found.
		order := []string{"direct", "relay"}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j := range order {
				name := order[(i+j)%len(order)]
				tt, g, _ := t.stream(b, urls[name])
				ttft[name] = append(ttft[name], tt)
				gaps[name] = append(gaps[name], g)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64((pct(ttft["relay"], .5) - pct(ttft["direct"], .5)).Microseconds()), "relay-added-ttft-p50-µs")
		b.ReportMetric(float64((pct(ttft["relay"], .99) - pct(ttft["direct"], .99)).Microseconds()), "relay-added-ttft-p99-µs")
		b.ReportMetric(float64((pct(gaps["relay"], .5) - pct(gaps["direct"], .5)).Microseconds()), "relay-added-gap-p50-µs")
		b.ReportMetric(float64(pct(gaps["direct"], .5).Microseconds()), "direct-gap-p50-µs")
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
