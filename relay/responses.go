package relay

import (
	"context"
	"io"
	"net/http"
	"time"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/adaptor"
)

// maxStoredBytes caps a stored response read through the relay.
const maxStoredBytes = 64 << 20

// Stored is the memory of which channel keeps which stored Responses
// answer, and for whom.
func (r *Relay) Stored() *StoredResponses { return r.stored }

// keep remembers which channel keeps the answer c passed through, when
// the client's format is one whose answers an upstream keeps (a Keeper
// front, as Responses with store) and the channel's provider keeps them
// (a StoredResponder). A converted answer is kept nowhere.
func (r *Relay) keep(ctx context.Context, c *call) {
	k, ok := c.front.(adaptor.Keeper)
	if !ok || c.answerID == "" || c.channel == nil || !k.Keeps(c.req) {
		return
	}
	ad := adaptorFor(c.channel)
	if _, ok := ad.(adaptor.StoredResponder); !ok || !adaptor.Native(ad, c.req.Format) {
		return
	}
	r.stored.Remember(ctx, c.answerID, StoredOwner{ChannelID: c.channel.ID, UserID: c.caller.UserID})
}

// continuing is the channel that keeps the answer c's call continues,
// when the channel still serves the model to the caller's group; nil
// leaves the pick to the tiers. The call then goes to that channel alone:
// the kept state is nowhere else. Continuing another user's answer is
// refused as OpenAI refuses an unknown one: the channel key is shared, so
// the upstream would continue anyone's conversation.
func (r *Relay) continuing(ctx context.Context, c *call, tiers []model.Tier) (*model.RelayChannel, error) {
	k, ok := c.front.(adaptor.Continuer)
	if !ok {
		return nil, nil
	}
	id := k.Continues(c.req)
	if id == "" {
		return nil, nil
	}
	owner, ok, err := r.stored.Lookup(ctx, id)
	if err != nil || !ok {
		return nil, nil
	}
	if owner.UserID != c.caller.UserID {
		return nil, errs.BadRequest("Previous response with id '%s' not found.", id).WithParam("previous_response_id").WithCode("previous_response_not_found")
	}
	for _, t := range tiers {
		for _, ch := range t.Channels {
			if ch.ID == owner.ChannelID {
				return ch, nil
			}
		}
	}
	return nil, nil
}

// notStored is OpenAI's answer for an id it does not know, and the
// relay's for one made by someone else: whether another user's id exists
// is not told.
func notStored(id string) *errs.Error {
	return errs.NotFound("Response with id '%s' not found.", id)
}

// StoredResponse passes GET or DELETE /v1/responses/{id}, GET
// /v1/responses/{id}/input_items and POST /v1/responses/{id}/cancel (sub
// names the sub-resource, "" for the response) through to the channel
// that made the answer, for the user whose call made it. Nothing is
// billed. It returns an error only when nothing was written to w.
func (r *Relay) StoredResponse(w http.ResponseWriter, hr *http.Request, caller Caller, id, sub string) error {
	ctx := hr.Context()
	owner, ok, err := r.stored.Lookup(ctx, id)
	if err != nil {
		return errs.New(http.StatusServiceUnavailable, errs.KindUnavailable, "stored responses cannot be looked up right now")
	}
	if !ok || owner.UserID != caller.UserID {
		return notStored(id)
	}
	ch := r.store.Channels.ByID(owner.ChannelID)
	if ch == nil {
		return notStored(id)
	}
	if ch.Status != model.ChannelEnabled {
		return errs.New(http.StatusServiceUnavailable, errs.KindUnavailable, "the channel that keeps response %s is disabled", id).WithCode("channel_disabled")
	}
	ad := adaptorFor(ch)
	sr, ok := ad.(adaptor.StoredResponder)
	if !ok {
		return notStored(id)
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	up := upstreamOf(ch)
	hreq, err := sr.NewStoredRequest(actx, up, hr.Method, id, sub, hr.URL.RawQuery)
	if err != nil {
		return errs.Internal(err)
	}
	hreq = adaptor.ForChannel(hreq, up)
	var timer *time.Timer
	if r.timeout > 0 {
		timer = time.AfterFunc(r.timeout, func() { cancel(errAttemptTimeout) })
	}
	resp, err := r.client.Do(hreq)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		return classifyTransport(ctx, actx, err).err
	}
	defer resp.Body.Close()
	defer r.idleBound(cancel, resp)()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode == http.StatusNotFound {
			return notStored(id)
		}
		return classifyUpstream(ad.ParseError(resp.StatusCode, resp.Header, body), ch.Key).err
	}
	if hr.Method == http.MethodDelete && sub == "" {
		r.stored.Forget(ctx, id)
	}
	for _, k := range []string{"Content-Type", "Cache-Control"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	// A GET with stream=true replays the answer as events: copy as it
	// comes, flushing each read.
	rc := http.NewResponseController(w)
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	rd := io.LimitReader(resp.Body, maxStoredBytes)
	for {
		n, err := rd.Read(*buf)
		if n > 0 {
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return nil
			}
			_ = rc.Flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// Bytes went out: cut the connection rather than end it
			// cleanly on half an answer.
			panic(http.ErrAbortHandler)
		}
	}
}
