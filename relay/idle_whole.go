package relay

import (
	"context"
	"net/http"
	"time"
)

// idleBound bounds the read of a body that is not a stream (an error
// body, a whole answer, speech) as a stream's silence is bounded: RELAY_TIMEOUT
// ends at the headers, so an upstream that sent its headers and then
// stalled held the client and its reservation for ever (issue 13, defect
// 5). With STREAM_IDLE_TIMEOUT set, a body that yields no byte for that
// long is cut (the attempt's context is cancelled with errStreamIdle): a
// failed attempt, retried elsewhere and not billed. The returned func
// stops the timer.
func (r *Relay) idleBound(cancel context.CancelCauseFunc, resp *http.Response) func() {
	if r.idle <= 0 {
		return func() {}
	}
	t := time.AfterFunc(r.idle, func() { cancel(errStreamIdle) })
	resp.Body = &idleBody{ReadCloser: resp.Body, t: t, d: r.idle}
	return func() { t.Stop() }
}
