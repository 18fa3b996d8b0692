package relay

import (
	"context"
	"errors"
	"io"
	"net/http"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/adaptor"
)

// UpstreamModels asks channel id's provider which models its key may use
// (adaptor.ModelLister), through the channel's proxy and headers, for the
// console to fill the channel's model list; nothing is stored.
func (r *Relay) UpstreamModels(ctx context.Context, id int) ([]string, error) {
	ch := r.store.Channels.ByID(id)
	if ch == nil {
		return nil, model.ErrChannelNotFound
	}
	return r.ModelsOf(ctx, ch)
}

// ModelsOf asks ch's provider which models its live key may use; ch may
// be a saved channel or one a form describes (model.ChannelPreview).
func (r *Relay) ModelsOf(ctx context.Context, ch *model.RelayChannel) ([]string, error) {
	ml, ok := adaptorFor(ch).(adaptor.ModelLister)
	if !ok {
		return nil, errs.BadRequest("this channel's provider does not list its models: type them in").WithCode("models_not_listed")
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	up := upstreamOf(ch.WithKey(ch.LiveKey()))
	models, err := ml.ListModels(ctx, r.client, up)
	if err != nil {
		return nil, sideCallError(ctx, err, up.Key, adaptor.ErrBadModelList)
	}
	return models, nil
}

// sideCallError is the error of a call made beside the relay (a balance,
// a model list) for the API to answer: the provider's refusal judged as
// an attempt's would be, an answer that is not what was asked (bad) or cut
// short a 502 saying so, anything else an unreachable upstream, key
// scrubbed.
func sideCallError(ctx context.Context, err error, key string, bad error) error {
	var ue *adaptor.UpstreamError
	switch {
	case errors.As(err, &ue):
		return classifyUpstream(ue, key).err
	case errors.Is(err, bad):
		return errs.New(http.StatusBadGateway, errs.KindUpstream, "%s", err.Error())
	case ctx.Err() == nil && errors.Is(err, io.ErrUnexpectedEOF):
		return streamCut(err).err
	}
	return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "the upstream could not be reached", Err: errors.New(scrub(err.Error(), key))}
}
