package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// stream relays a streamed answer frame by frame, flushing each. Every
// frame goes through the adaptor's decoder, which meters the call; the
// front's encoder gets the frame itself when the client speaks the
// channel's format (native), else the neutral events it decoded to. The
// client's headers go out with the first event, or with the first
// keep-alive when the upstream thinks for longer than
// StreamKeepAliveSeconds: until then a failure can still go to another
// channel.
//
// An upstream that sends nothing for STREAM_IDLE_TIMEOUT is cut: actx is
// cancelled with errStreamIdle, which ends the body read. Before any byte
// reached the client that is a failed attempt; after, the client gets an
// error event in its own format and is billed for what arrived.
func (r *Relay) stream(ctx, actx context.Context, cancel context.CancelCauseFunc, w http.ResponseWriter, c *call, ad adaptor.Adaptor, resp *http.Response, native bool) *failure {
	if r.idle > 0 {
		idle := time.AfterFunc(r.idle, func() { cancel(errStreamIdle) })
		defer idle.Stop()
		resp.Body = &idleBody{ReadCloser: resp.Body, t: idle, d: r.idle}
	}
	var rd adaptor.Frames
	if fr, ok := ad.(adaptor.FrameReader); ok {
		rd = fr.NewFrameReader(resp.Body)
	} else {
		sr := sse.NewReader(resp.Body, 0)
		defer sr.Close()
		rd = sr
	}
	sw := sse.NewWriter(w)
	req := c.req
	dec := ad.NewStream(req)
	enc := c.front.NewEncoder(req, sw)
	keepAlive := r.store.Options.Get().Parsed().StreamKeepAlive

	ev, err := r.firstEvent(rd, sw, resp.Body, keepAlive)
	if sw.Started() {
		c.wrote = true
	}
	var evs []adaptor.Event
	// A frame passed through is metered without building events where the
	// decoder can (adaptor.Meter): a relayed chunk then allocates nothing.
	meter, _ := dec.(adaptor.Meter)
	if !native {
		meter = nil
	}
	c.checkpointed = time.Now()
	for ; ; ev, err = rd.Next() {
		if err != nil {
			break
		}
		if c.firstToken.IsZero() {
			c.firstToken = time.Now()
		}
		if meter != nil {
			var m adaptor.Metered
			c.text, m, err = meter.Meter(ev, c.text)
			if err != nil || ev.Done {
				break
			}
			if m.Started && c.answerID == "" {
				c.answerID = m.ID
			}
			evs = evs[:0]
			if m.UsageOnly {
				// What the front needs to know to drop a usage chunk the
				// client did not ask for.
				evs = append(evs, adaptor.Event{Kind: adaptor.EventUsage})
			}
		} else {
			evs, err = dec.Decode(ev, evs[:0])
			if err != nil || ev.Done {
				break
			}
			if len(evs) > 0 && evs[0].Kind == adaptor.EventStart && c.answerID == "" {
				c.answerID = evs[0].ID
			}
			c.text = adaptor.AppendEventText(c.text, evs)
		}
		c.served = true
		if time.Since(c.checkpointed) >= checkpointEvery {
			r.checkpoint(c, dec.Usage())
		}
		var werr error
		if native {
			werr = enc.Raw(ev, evs)
		} else {
			for _, e := range evs {
				if werr = enc.Event(e); werr != nil {
					break
				}
			}
		}
		c.wrote = c.wrote || sw.Started()
		if werr != nil {
			c.usage = dec.Usage()
			return clientGone()
		}
	}
	c.usage = dec.Usage()
	var ue *adaptor.UpstreamError
	switch {
	case err == nil && dec.Done(), errors.Is(err, io.EOF) && dec.Done():
		c.whole = true
		u := c.usage
		if u == nil {
			// The client is told the count billing will use.
			u = r.localUsage(c)
		}
		werr := enc.Finish(u)
		c.wrote = true
		if werr != nil {
			return clientGone()
		}
		drain(resp.Body, cancel)
		return nil
	case errors.Is(err, errClientLeft) || ctx.Err() != nil:
		return clientGone()
	case errors.Is(context.Cause(actx), errStreamIdle):
		f := &failure{err: &errs.Error{Status: http.StatusGatewayTimeout, Kind: errs.KindUpstream, Code: "upstream_idle",
			Message: fmt.Sprintf("the upstream sent nothing for %v", r.idle)}, retry: true, penalize: true}
		if !sw.Started() {
			c.served = false
			return f
		}
		c.wrote = true
		if werr := enc.Fail(f.err); werr != nil {
			return clientGone()
		}
		return f
	case errors.As(err, &ue):
		// The upstream reported a failure inside its stream.
		f := classifyUpstream(ue, c.channelKey())
		if !sw.Started() {
			// Nothing reached the client: another channel may answer.
			c.served = false
			return f
		}
		// The client has part of an answer: it gets the failure in its
		// own format and is billed for what arrived.
		c.wrote = true
		if werr := enc.Fail(f.err); werr != nil {
			return clientGone()
		}
		return f
	default:
		f := streamCut(err)
		if c.wrote {
			c.abort = true
		}
		return f
	}
}

var errClientLeft = errors.New("client left")

// drain reads what the upstream sends after its stream's last event (the
// chunked body's terminator, most often already on the wire) once the
// client has its end of stream: a body closed before its end takes the
// connection with it, and the next call to that upstream pays a dial.
// An upstream that keeps the body open past drainBound, or sends more than
// drainMax after its end, loses the connection instead.
func drain(body io.Reader, cancel context.CancelCauseFunc) {
	t := time.AfterFunc(drainBound, func() { cancel(errDrain) })
	_, _ = io.CopyN(io.Discard, body, drainMax)
	t.Stop()
}

const (
	drainBound = 250 * time.Millisecond
	drainMax   = 4 << 10
)

var errDrain = errors.New("upstream kept its stream open after its end")

// errStreamIdle cancels an attempt whose stream stalled past
// STREAM_IDLE_TIMEOUT.
var errStreamIdle = errors.New("upstream stream idle past STREAM_IDLE_TIMEOUT")

// idleBody re-arms the idle timer whenever the upstream sends bytes.
type idleBody struct {
	io.ReadCloser
	t *time.Timer
	d time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.t.Reset(b.d)
	}
	return n, err
}

// firstEvent waits for the upstream's first event, sending keep-alive
// comments every interval meanwhile. A client that leaves cancels the
// upstream call through its context, which ends the read.
func (r *Relay) firstEvent(rd adaptor.Frames, sw *sse.Writer, body io.Closer, interval time.Duration) (sse.Event, error) {
	if interval <= 0 {
		return rd.Next()
	}
	// The first event is read here, on the handler's goroutine; a timer
	// writes the keep-alives meanwhile. (A reader goroutine and a channel
	// cost every stream a hop on its time to first token.) mu keeps the
	// timer's writes off the stream once the first event is in.
	var mu sync.Mutex
	stopped, gone := false, false
	mu.Lock()
	var t *time.Timer
	t = time.AfterFunc(interval, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if !sw.Started() {
			sw.Start()
		}
		if werr := sw.KeepAlive(); werr != nil {
			// The client left: unblock the read.
			gone = true
			body.Close()
			return
		}
		t.Reset(interval)
	})
	mu.Unlock()
	ev, err := rd.Next()
	mu.Lock()
	stopped = true
	t.Stop()
	left := gone
	mu.Unlock()
	if left {
		return sse.Event{}, errClientLeft
	}
	return ev, err
}
