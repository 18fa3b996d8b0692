package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"switchyard/relay/adaptor"
)

var _ adaptor.Counter = Adaptor{}

// countRequest is countTokens' body built from a neutral chat: contents
// alone when that is all the call has, else the whole
// generateContentRequest, which must name its model and is the only way
// to count a system instruction and tools.
type countRequest struct {
	Contents               []Content      `json:"contents,omitempty"`
	GenerateContentRequest *countGenerate `json:"generateContentRequest,omitempty"`
}

type countGenerate struct {
	Model string `json:"model"`
	*GenerateRequest
}

// NewCountRequest implements adaptor.Counter: POST
// /v1beta/models/{model}:countTokens. A Gemini client's body goes as it
// came (only a generateContentRequest's model is renamed when the channel
// maps it); any other client's is built from the neutral chat.
func (Adaptor) NewCountRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	model := ModelName(req.UpstreamModel)
	var body []byte
	var err error
	switch {
	case req.Format == adaptor.FormatGemini && req.Raw != nil:
		body, err = renameCountModel(req.Raw, model)
	case req.Chat != nil:
		var g *GenerateRequest
		if g, err = ToRequest(req.Chat); err != nil {
			return nil, &adaptor.UpstreamError{Status: http.StatusBadRequest, Class: adaptor.ClassRequest, Type: "invalid_request_error", Message: err.Error()}
		}
		// Generation settings do not change a prompt's count.
		g.GenerationConfig = nil
		c := countRequest{Contents: g.Contents}
		if g.SystemInstruction != nil || len(g.Tools) > 0 || g.ToolConfig != nil {
			c = countRequest{GenerateContentRequest: &countGenerate{Model: "models/" + model, GenerateRequest: g}}
		}
		body, err = json.Marshal(c)
	default:
		return nil, adaptor.Unsupported("Gemini", adaptor.ModeCountTokens)
	}
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, apiBase(up)+"/v1beta/models/"+model+":countTokens", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("x-goog-api-key", up.Key)
	return hr, nil
}

// renameCountModel sets a client's generateContentRequest.model to the
// upstream's name; a body of contents alone names no model and is kept
// byte for byte.
func renameCountModel(raw []byte, model string) ([]byte, error) {
	var b struct {
		GenerateContentRequest json.RawMessage `json:"generateContentRequest"`
	}
	if json.Unmarshal(raw, &b) != nil || len(b.GenerateContentRequest) == 0 || b.GenerateContentRequest[0] != '{' {
		return raw, nil
	}
	name, _ := json.Marshal("models/" + model)
	inner, err := adaptor.SetField(b.GenerateContentRequest, "model", name)
	if err != nil {
		return nil, err
	}
	return adaptor.SetField(raw, "generateContentRequest", inner)
}

// ParseCount implements adaptor.Counter: countTokens answers
// {"totalTokens": N, ...}.
func (Adaptor) ParseCount(body []byte) (int, error) { return adaptor.CountOf(body, "totalTokens") }
