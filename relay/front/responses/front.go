package responses

import (
	"encoding/json"
	"net/http"

	"switchyard/relay/adaptor"
	"switchyard/relay/front"
	"switchyard/relay/sse"
)

// Front is the Responses client format. The zero value is ready.
//
// A call goes through untouched (model aside) to a channel whose adaptor
// speaks Responses (OpenAI and Azure); any other channel gets the neutral
// chat (Request.Chat) and the answer is rendered back here. A call that
// needs the upstream's own state or hosted tools has no neutral chat
// (Chat is nil): only a Responses channel can serve it, and the others
// refuse it as unsupported before anything goes upstream.
type Front struct{}

var _ adaptor.Front = Front{}

// Format implements adaptor.Front.
func (Front) Format() adaptor.Format { return adaptor.FormatResponses }

// Parse implements adaptor.Front: it reads POST /v1/responses.
func (Front) Parse(hr *http.Request, mode adaptor.Mode) (*adaptor.Request, error) {
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields) // Parse checked it is an object
	return &adaptor.Request{
		Mode: adaptor.ModeChat, Format: adaptor.FormatResponses,
		Model: p.Model, Stream: p.Stream, MaxTokens: p.MaxTokens,
		Raw: raw, Fields: fields, Chat: p.Chat,
		PromptText: p.PromptText, PromptExtra: p.PromptExtra,
	}, nil
}

// Render implements adaptor.Front: a converted whole answer as a Response
// object.
func (Front) Render(req *adaptor.Request, resp *adaptor.Response) ([]byte, error) {
	return Render(req.Raw, req.Model, resp)
}

// NewEncoder implements adaptor.Front.
func (Front) NewEncoder(req *adaptor.Request, w *sse.Writer) adaptor.StreamEncoder {
	return NewEncoder(req.Raw, req.Model, w)
}

var _ adaptor.Keeper = Front{}

// Keeps implements adaptor.Keeper: OpenAI stores a response unless the
// call sets store to false.
func (Front) Keeps(req *adaptor.Request) bool {
	raw, ok := req.Fields["store"]
	return !ok || string(raw) != "false"
}

var _ adaptor.Continuer = Front{}

// Continues implements adaptor.Continuer: previous_response_id.
func (Front) Continues(req *adaptor.Request) string {
	var id string
	if raw, ok := req.Fields["previous_response_id"]; ok {
		_ = json.Unmarshal(raw, &id)
	}
	return id
}
