// Command streamload holds many concurrent SSE streams open through a
// server running as another process and reports what they cost it: the
// server's resident memory per open stream (read from /proc), how that
// memory moves while the streams are merely held, time to first event, and
// any stream that erred, stalled or ended without its end marker.
//
// It is the harness behind the README's open-streams rows; see
// scripts/bench-streams.sh for the whole run (fake upstream, bare proxy and
// Switchyard side by side).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	ttft    time.Duration
	maxGap  time.Duration
	events  int
	done    bool
	err     error
	started bool
}

func main() {
	target := flag.String("url", "http://127.0.0.1:3000/v1/chat/completions", "streaming endpoint")
	key := flag.String("key", "", "bearer key sent in Authorization (empty sends none)")
	n := flag.Int("n", 1000, "concurrent streams")
	pid := flag.Int("pid", 0, "process whose resident memory is read (0: none)")
	body := flag.String("body", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hold this stream open."}]}`, "request body")
	dialers := flag.Int("dialers", 256, "streams opened at once while ramping up")
	stall := flag.Duration("stall", 10*time.Second, "a gap between events longer than this is a stall")
	label := flag.String("label", "", "name printed before the figures")
	settle := flag.Duration("settle", 3*time.Second, "memory growth is measured from this long after the last stream opened")
	flag.Parse()

	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: *n,
		MaxIdleConns:        *n,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: tr}
	open := func(ctx context.Context, onFirst func()) result {
		return stream(ctx, client, *target, *key, []byte(*body), onFirst)
	}

	// Warm the server: lazy tables, pools and the first connections. The
	// warm-up streams run side by side: each lasts as long as a held one.
	// A warm-up stream that is cut is opened again, twice at most: the
	// bare proxy's transport cuts a stream now and then on a connection
	// its upstream had closed, which says nothing about the run that
	// follows (its cut streams are counted there).
	var warm sync.WaitGroup
	var rewarmed atomic.Int64
	for i := 0; i < 8; i++ {
		warm.Add(1)
		go func() {
			defer warm.Done()
			for try := 0; ; try++ {
				r := open(context.Background(), func() {})
				if r.err == nil && r.done {
					return
				}
				if try == 2 {
					fail("warm-up stream failed three times: %v (done=%v)", r.err, r.done)
				}
				rewarmed.Add(1)
			}
		}()
	}
	warm.Wait()
	if n := rewarmed.Load(); n > 0 {
		fmt.Printf("%s warm-up streams opened again after a cut: %d\n", *label, n)
	}
	tr.CloseIdleConnections()
	base := rss(*pid)

	var (
		wg      sync.WaitGroup
		first   sync.WaitGroup
		results = make([]result, *n)
		sem     = make(chan struct{}, *dialers)
		opened  atomic.Int64
		// firstEnd closes when the first stream ends: from then on the
		// streams are no longer merely held.
		firstEnd = make(chan struct{})
		ended    sync.Once
	)
	first.Add(*n)
	start := time.Now()
	for i := 0; i < *n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			once := sync.Once{}
			release := func() { once.Do(func() { <-sem; opened.Add(1); first.Done() }) }
			results[i] = open(context.Background(), release)
			release()
			ended.Do(func() { close(firstEnd) })
		}(i)
	}
	first.Wait()
	rampTime := time.Since(start)
	held := rss(*pid)

	// Sample while the streams are merely held: from settle after the last
	// one opened (each stream's first second has one-off work, such as a
	// relay's first checkpoint) until the first one ends (ends settle and
	// log).
	var samples []sample
	tick := time.NewTicker(time.Second)
	heldFrom := rampTime + *settle
sampling:
	for {
		select {
		case <-firstEnd:
			break sampling
		case <-tick.C:
			if t := time.Since(start); *pid > 0 && t >= heldFrom {
				samples = append(samples, sample{t, rss(*pid)})
			}
		}
	}
	tick.Stop()
	wg.Wait()
	total := time.Since(start)

	var ttfts []time.Duration
	errored, incomplete, stalled, events := 0, 0, 0, 0
	var firstErr error
	for _, r := range results {
		switch {
		case r.err != nil:
			errored++
			if firstErr == nil {
				firstErr = r.err
			}
		case !r.done:
			incomplete++
		}
		if r.started {
			ttfts = append(ttfts, r.ttft)
		}
		if r.maxGap > *stall {
			stalled++
		}
		events += r.events
	}
	slices.Sort(ttfts)
	fmt.Printf("%s streams=%d ramp=%s total=%s events=%d errored=%d incomplete=%d stalled=%d\n",
		*label, *n, rampTime.Round(time.Millisecond), total.Round(time.Millisecond), events, errored, incomplete, stalled)
	fmt.Printf("%s ttft p50=%s p99=%s\n", *label, pct(ttfts, 0.50), pct(ttfts, 0.99))
	if *pid > 0 {
		// Growth is judged on the samples taken while every stream was
		// open and chunks were flowing, past the first second of ramp.
		growth := slope(samples)
		fmt.Printf("%s rss idle=%.1fMiB held=%.1fMiB per_stream=%.1fKiB growth_while_held=%.2fMiB/s\n",
			*label, mib(base), mib(held), float64(held-base)/float64(*n)/1024, growth/(1<<20))
	}
	if firstErr != nil {
		fmt.Printf("%s first error: %v\n", *label, firstErr)
	}
	if errored+incomplete+stalled > 0 {
		os.Exit(1)
	}
}

// stream makes one streaming call and reads it to its end, calling
// onFirst when the first event arrives.
func stream(ctx context.Context, c *http.Client, url, key string, body []byte, onFirst func()) result {
	var r result
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		r.err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
		return r
	}
	br := bufio.NewReaderSize(resp.Body, 4<<10)
	last := t0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) || !r.done {
				if !r.done {
					r.err = fmt.Errorf("after %d events: %w", r.events, err)
				}
			}
			return r
		}
		if !bytes.HasPrefix(line, []byte("data:")) {
			continue
		}
		now := time.Now()
		if !r.started {
			r.started, r.ttft = true, now.Sub(t0)
			onFirst()
		} else if g := now.Sub(last); g > r.maxGap {
			r.maxGap = g
		}
		last = now
		if bytes.HasPrefix(bytes.TrimSpace(line[5:]), []byte("[DONE]")) {
			r.done = true
			continue
		}
		r.events++
	}
}

// rss is a process's resident set size in bytes (VmRSS), 0 when pid is 0.
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		fail("read memory of pid %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			return kb << 10
		}
	}
	fail("no VmRSS for pid %d", pid)
	return 0
}

// sample is the server's resident memory at a moment of the run.
type sample struct {
	t   time.Duration
	rss int64
}

// slope is the least-squares growth of the samples in bytes per second.
func slope(pts []sample) float64 {
	if len(pts) < 3 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		x, y := p.t.Seconds(), float64(p.rss)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	k := float64(len(pts))
	d := k*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (k*sxy - sx*sy) / d
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))].Round(10 * time.Microsecond)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "streamload: "+format+"\n", args...)
	os.Exit(2)
}
