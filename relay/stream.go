package relay

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
	"switchyard/relay/sse"
)

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

type nextResult struct {
	ev  sse.Event
	err error
}

// stream relays an SSE answer event by event, flushing each. The client's
// headers go out with the first event, or with the first keep-alive when
// the upstream thinks for longer than StreamKeepAliveSeconds: until then a
// failure can still go to another channel.
func (r *Relay) stream(ctx context.Context, w http.ResponseWriter, c *call, ad wireAdaptor, resp *http.Response) *failure {
	rd := sse.NewReader(resp.Body, 0)
	defer rd.Close()
	sw := sse.NewWriter(w)
	req := c.p.req
	keepAlive := time.Duration(r.store.Options.Get().Int("StreamKeepAliveSeconds")) * time.Second

	var tr *anthropic.Stream
	if req.Format == adaptor.FormatAnthropic {
		tr = anthropic.NewStream(req.Model)
	}
	ev, err := r.firstEvent(rd, sw, resp.Body, keepAlive)
	if sw.Started() {
		c.wrote = true
	}
	sawUsage := false
	for ; ; ev, err = rd.Next() {
		if err != nil {
			break
		}
		if ev.Done {
			break
		}
		if c.firstToken.IsZero() {
			c.firstToken = time.Now()
		}
		chunk, perr := ad.ParseChunk(req, ev)
		if perr != nil {
			err = perr
			break
		}
		c.served = true
		c.text = append(c.text, chunk.Text...)
		if chunk.Usage != nil {
			c.usage, sawUsage = chunk.Usage, true
		}
		if tr != nil {
			if werr := writeNamed(sw, tr.Chunk(ev.Data)); werr != nil {
				return clientGone()
			}
			c.wrote = c.wrote || sw.Started()
			continue
		}
		if chunk.Forward == nil {
			continue
		}
		if !sw.Started() {
			if werr := sw.Start(); werr != nil {
				return clientGone()
			}
		}
		c.wrote = true
		if werr := sw.Data(chunk.Forward); werr != nil {
			return clientGone()
		}
	}
	switch {
	case err == nil, errors.Is(err, io.EOF) && sawUsage:
		// [DONE], or a clean end after the usage chunk from an upstream
		// that does not send [DONE]: the answer is whole.
		if !sw.Started() {
			if werr := sw.Start(); werr != nil {
				return clientGone()
			}
		}
		c.wrote = true
		if tr != nil {
			if werr := writeNamed(sw, tr.Finish(r.anthropicUsage(c))); werr != nil {
				return clientGone()
			}
			return nil
		}
		if werr := sw.Done(); werr != nil {
			return clientGone()
		}
		return nil
	case errors.Is(err, errClientLeft) || ctx.Err() != nil:
		return clientGone()
	default:
		f := streamCut(err)
		if c.wrote {
			c.abort = true
		}
		return f
	}
}

var errClientLeft = errors.New("client left")

// writeNamed writes Anthropic events, starting the stream if needed.
func writeNamed(sw *sse.Writer, evs []anthropic.Event) error {
	for _, e := range evs {
		if !sw.Started() {
			if err := sw.Start(); err != nil {
				return err
			}
		}
		if err := sw.Named(e.Name, e.Data); err != nil {
			return err
		}
	}
	return nil
}

// firstEvent waits for the upstream's first event, sending keep-alive
// comments every interval meanwhile. A client that leaves cancels the
// upstream call through its context, which ends the read.
func (r *Relay) firstEvent(rd *sse.Reader, sw *sse.Writer, body io.Closer, interval time.Duration) (sse.Event, error) {
	if interval <= 0 {
		return rd.Next()
	}
	done := make(chan nextResult, 1)
	go func() {
		ev, err := rd.Next()
		done <- nextResult{ev, err}
	}()
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case res := <-done:
			return res.ev, res.err
		case <-t.C:
			werr := error(nil)
			if !sw.Started() {
				werr = sw.Start()
			}
			if werr == nil {
				werr = sw.KeepAlive()
			}
			if werr != nil {
				// Unblock the reader before giving up on it.
				body.Close()
				<-done
				return sse.Event{}, errClientLeft
			}
			t.Reset(interval)
		}
	}
}
