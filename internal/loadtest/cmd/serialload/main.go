// Command serialload times calls made one at a time (concurrency 1) to
// three targets in turn, each a process of its own: the fake upstream
// itself (direct), a bare httputil.ReverseProxy to it and Switchyard. It
// prints what the proxy and the relay add over the direct call at p50,
// p99 and p99.9, and the relay's added time over the proxy's: for whole
// answers the time to the answer's end, for streams the time to the first
// event.
//
// The targets take turns call by call, so a machine that drifts moves all
// three alike. It is the harness behind the README's concurrency-1 rows
// measured across processes; scripts/bench-serial.sh is the whole run.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

type target struct {
	name, url, key string
	times          []time.Duration
	// cut counts streams that broke off after their first event.
	cut int
	// pid is the target's process, read for CPU time and context switches
	// over the timed calls; 0 is not read.
	pid                  int
	cpu0, cpu1           time.Duration
	switches0, switches1 int64
}

func main() {
	direct := flag.String("direct", "", "the upstream's endpoint")
	proxy := flag.String("proxy", "", "the bare proxy's endpoint")
	relay := flag.String("relay", "", "Switchyard's endpoint")
	key := flag.String("key", "", "Switchyard token, sent as a bearer key to the relay only")
	n := flag.Int("n", 2000, "calls per target")
	warm := flag.Int("warm", 200, "calls per target before timing starts")
	stream := flag.Bool("stream", false, "time streams to their first event instead of whole answers")
	body := flag.String("body", "", "request body (default: a short chat call, streamed with -stream)")
	label := flag.String("label", "", "name printed before the figures")
	proxyPid := flag.Int("proxy-pid", 0, "the bare proxy's process, whose CPU time and context switches per call are read from /proc (0: not read)")
	relayPid := flag.Int("relay-pid", 0, "Switchyard's process, read as -proxy-pid is")
	flag.Parse()
	if *direct == "" || *proxy == "" || *relay == "" {
		fail("-direct, -proxy and -relay are required")
	}
	if *body == "" {
		*body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}]}`
		if *stream {
			*body = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count to sixty-four."}]}`
		}
	}
	targets := []*target{{name: "direct", url: *direct}, {name: "proxy", url: *proxy, pid: *proxyPid}, {name: "relay", url: *relay, key: *key, pid: *relayPid}}
	// One connection per target, kept alive, as a client at concurrency 1
	// would: a dial in the timed path would measure the dial.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	for i := 0; i < *warm+*n; i++ {
		for j := range targets {
			// The order turns each round, so no target always follows the same one.
			t := targets[(i+j)%len(targets)]
			d, err := call(client, t, []byte(*body), *stream)
			if err != nil {
				fail("%s: %v", t.name, err)
			}
			if i >= *warm {
				t.times = append(t.times, d)
			}
		}
		if i == *warm-1 || (*warm == 0 && i == 0) {
			for _, t := range targets {
				t.cpu0, t.switches0 = usage(t.pid)
			}
		}
	}
	for _, t := range targets {
		t.cpu1, t.switches1 = usage(t.pid)
	}
	what := "whole answer"
	if *stream {
		what = "first event"
	}
	fmt.Printf("%s calls=%d per target, concurrency 1, time to %s; cut after the first event: proxy %d, relay %d\n",
		*label, *n, what, targets[1].cut, targets[2].cut)
	base := targets[0]
	for _, q := range []float64{.5, .99, .999} {
		d := pct(base.times, q)
		pa := pct(targets[1].times, q) - d
		ra := pct(targets[2].times, q) - d
		ratio := "-"
		if pa > 0 {
			ratio = fmt.Sprintf("%.2f", float64(ra)/float64(pa))
		}
		fmt.Printf("%s p%g direct=%s proxy_added=%s relay_added=%s relay/proxy=%s\n",
			*label, q*100, d.Round(time.Microsecond), pa.Round(time.Microsecond), ra.Round(time.Microsecond), ratio)
	}
	for _, t := range targets[1:] {
		if t.pid > 0 {
			calls := time.Duration(len(t.times))
			fmt.Printf("%s %s cpu_per_call=%s context_switches_per_call=%.2f\n", *label, t.name,
				((t.cpu1 - t.cpu0) / calls).Round(100*time.Nanosecond), float64(t.switches1-t.switches0)/float64(len(t.times)))
		}
	}
}

// usage is a process's CPU time and context switches so far, summed over
// its threads (/proc/<pid>/task/*/schedstat and status); zero without a
// pid or /proc.
func usage(pid int) (cpu time.Duration, switches int64) {
	if pid <= 0 {
		return 0, 0
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		dir := fmt.Sprintf("/proc/%d/task/%s/", pid, task.Name())
		if b, err := os.ReadFile(dir + "schedstat"); err == nil {
			// The first field is the time the thread ran, in nanoseconds.
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				cpu += time.Duration(ns)
			}
		}
		if b, err := os.ReadFile(dir + "status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
					n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					switches += n
				}
			}
		}
	}
	return cpu, switches
}

// call makes one call and returns its time: to the end of a whole answer,
// or to the first event of a stream (which is then read to its end).
func call(c *http.Client, t *target, body []byte, stream bool) (time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if !stream {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	br := bufio.NewReaderSize(resp.Body, 4<<10)
	var first time.Duration
	for {
		line, err := br.ReadSlice('\n')
		if first == 0 && bytes.HasPrefix(line, []byte("data:")) {
			first = time.Since(start)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if first > 0 {
				// Cut after its first event: the bare proxy's transport
				// does that now and then on a reused connection (README);
				// the time to first event still counts.
				t.cut++
				break
			}
			return 0, err
		}
	}
	if first == 0 {
		return 0, errors.New("a stream without an event")
	}
	return first, nil
}

func pct(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)]
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "serialload: "+format+"\n", args...)
	os.Exit(1)
}
