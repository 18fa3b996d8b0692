package gemini

import (
	"encoding/json"
	"net/http"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/front"
)

// CountMethod is the Gemini API's token counting method:
// POST /v1beta/models/{model}:countTokens.
const CountMethod = "countTokens"

// countBody is countTokens' body as Google documents it: contents alone,
// or a whole generateContentRequest (with its systemInstruction and
// tools), never both.
type countBody struct {
	Contents               json.RawMessage `json:"contents"`
	GenerateContentRequest json.RawMessage `json:"generateContentRequest"`
}

// ParseCount reads POST /v1beta/models/{model}:countTokens into a
// ModeCountTokens request: the neutral chat for channels that convert and
// for the local count, Raw kept as the client sent it for a Gemini
// channel's own countTokens.
func ParseCount(hr *http.Request) (*adaptor.Request, error) {
	model, method, ok := Call(hr.URL.Path)
	if !ok || method != CountMethod {
		return nil, errs.NotFound("the URL must name a model: /v1beta/models/{model}:countTokens")
	}
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	var b countBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, errs.BadRequest("Invalid JSON payload received: %v", err)
	}
	inner := raw
	switch hasContents, hasRequest := !isNull(b.Contents), !isNull(b.GenerateContentRequest); {
	case hasContents && hasRequest:
		return nil, errs.BadRequest("contents and generateContentRequest are mutually exclusive; set only one").WithParam("generateContentRequest")
	case hasRequest:
		inner = b.GenerateContentRequest
	}
	req, err := ParseRequest(inner, model, false)
	if err != nil {
		return nil, err
	}
	req.Mode, req.Raw, req.MaxTokens = adaptor.ModeCountTokens, raw, 0
	req.Chat.MaxTokens = 0
	return req, nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }
