package bedrock

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
)

var _ adaptor.Counter = (*Adaptor)(nil)

// countBody is CountTokens' body for a Claude model: the InvokeModel body
// the call would send, as a blob (JSON encodes it in base64).
type countBody struct {
	Input struct {
		InvokeModel struct {
			Body []byte `json:"body"`
		} `json:"invokeModel"`
	} `json:"input"`
}

// NewCountRequest implements adaptor.Counter: CountTokens (POST
// /model/{id}/count-tokens) with the InvokeModel body the call would
// send. Bedrock counts for Anthropic's models only, and by the bare
// foundation model id: a cross-region inference profile ("us.anthropic.…")
// counts as its model. Other models are not asked (the relay counts them
// locally).
func (a *Adaptor) NewCountRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	id := ModelID(req.UpstreamModel)
	if req.Chat == nil || !IsClaude(id) {
		return nil, adaptor.Unsupported("Bedrock", adaptor.ModeCountTokens)
	}
	creds, region, err := credentials(up)
	if err != nil {
		return nil, err
	}
	var q countBody
	if q.Input.InvokeModel.Body, err = invokeBody(req); err != nil {
		return nil, err
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	return a.signed(ctx, up.BaseURL, creds, region, id[strings.Index(id, "anthropic."):], "count-tokens", body, false)
}

// ParseCount implements adaptor.Counter: {"inputTokens": N}.
func (*Adaptor) ParseCount(body []byte) (int, error) { return adaptor.CountOf(body, "inputTokens") }
