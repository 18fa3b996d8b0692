package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/adaptor"
)

// countAttempts bounds the counting channels one count call tries before
// it counts locally.
const countAttempts = 2

// Count is a count_tokens answer: the input tokens and whether a
// channel's own endpoint counted them (false: the local tokenizer did).
type Count struct {
	InputTokens int
	Exact       bool
}

// CountTokens counts the input tokens of req (a chat call in any format,
// Mode ModeCountTokens) for caller. A channel serving the model whose
// adaptor has a counting endpoint (adaptor.Counter) counts
// exactly, highest priority first; when none does, or the ones tried fail,
// the local tokenizer counts. Nothing is reserved or billed: the call
// generates nothing, and Anthropic does not charge for it either.
func (r *Relay) CountTokens(ctx context.Context, caller Caller, req *adaptor.Request) (Count, error) {
	if caller.AllowsModel != nil && !caller.AllowsModel(req.Model) {
		return Count{}, errs.Forbidden("this token may not use model %s", req.Model).WithCode("model_not_allowed")
	}
	var chans []*model.RelayChannel
	if caller.PinnedChannel > 0 {
		ch := r.store.Channels.ByID(caller.PinnedChannel)
		if ch == nil || ch.Status != model.ChannelEnabled {
			return Count{}, errs.NotFound("channel %d does not exist or is disabled", caller.PinnedChannel)
		}
		chans = append(chans, ch)
	} else {
		tiers := r.store.Channels.Tiers(caller.Group, req.Model)
		if len(tiers) == 0 {
			return Count{}, errs.NotFound("no channel serves model %s to group %s", req.Model, caller.Group).WithCode("model_not_found").WithParam("model")
		}
		for _, t := range tiers {
			chans = append(chans, t.Channels...)
		}
	}
	tried := 0
	now := time.Now()
	for _, ch := range chans {
		if tried >= countAttempts {
			break
		}
		counter, ok := adaptorFor(ch).(adaptor.Counter)
		if !ok || ch.Health.Cooling(now) {
			continue
		}
		n, err := r.countOn(ctx, ch, counter, req)
		var ue *adaptor.UpstreamError
		if errors.As(err, &ue) && ue.Class == adaptor.ClassUnsupported {
			// The channel cannot count this model (Bedrock counts
			// Anthropic's only); it was not asked.
			continue
		}
		tried++
		if err == nil {
			return Count{InputTokens: n, Exact: true}, nil
		}
		if ctx.Err() != nil {
			return Count{}, clientGone().err
		}
		slog.Info("count_tokens counted locally after a channel failed", "request_id", caller.RequestID, "channel_id", ch.ID, "err", scrub(err.Error(), ch.Key))
	}
	return Count{InputTokens: r.tok.Count(req.Model, req.PromptText) + req.PromptExtra}, nil
}

// countOn asks ch's counting endpoint.
func (r *Relay) countOn(ctx context.Context, ch *model.RelayChannel, counter adaptor.Counter, req *adaptor.Request) (int, error) {
	req.UpstreamModel = ch.UpstreamModel(req.Model)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	up := upstreamOf(ch)
	hreq, err := counter.NewCountRequest(actx, up, req)
	if err != nil {
		return 0, err
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
		return 0, err
	}
	defer resp.Body.Close()
	defer r.idleBound(cancel, resp)()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, errCountFailed{status: resp.StatusCode}
	}
	return counter.ParseCount(body)
}

type errCountFailed struct{ status int }

func (e errCountFailed) Error() string {
	return "count_tokens answered " + http.StatusText(e.status)
}
