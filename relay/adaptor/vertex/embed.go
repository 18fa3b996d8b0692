package vertex

import (
	"encoding/json"
	"fmt"
	"net/http"

	"switchyard/relay/adaptor"
)

// Embeddings on Vertex AI are the publisher model's predict method:
//
//	POST …/publishers/google/models/{model}:predict
//	{"instances":[{"content":"…"}],"parameters":{"outputDimensionality":N}}
//
// answered {"predictions":[{"embeddings":{"values":[…],
// "statistics":{"token_count":N,"truncated":false}}}]}. The token counts
// are the call's usage. Vertex decides how many instances one call may
// hold (gemini-embedding-001 takes one, text-embedding-005 up to 250);
// its 400 reaches the client as the request's own error.

type predictRequest struct {
	Instances  []embedInstance `json:"instances"`
	Parameters *embedParams    `json:"parameters,omitempty"`
}

type embedInstance struct {
	Content string `json:"content"`
}

type embedParams struct {
	OutputDimensionality int `json:"outputDimensionality,omitempty"`
}

type predictResponse struct {
	Predictions []struct {
		Embeddings struct {
			Values     []float64 `json:"values"`
			Statistics struct {
				TokenCount float64 `json:"token_count"`
				Truncated  bool    `json:"truncated"`
			} `json:"statistics"`
		} `json:"embeddings"`
	} `json:"predictions"`
}

// embedBody is predict's body for the neutral inputs; OpenAI's dimensions
// becomes outputDimensionality.
func embedBody(req *adaptor.Request) ([]byte, error) {
	var dims int
	if raw, ok := req.Fields["dimensions"]; ok {
		if err := json.Unmarshal(raw, &dims); err != nil || dims < 0 {
			return nil, &adaptor.UpstreamError{Status: http.StatusBadRequest, Class: adaptor.ClassRequest, Type: "invalid_request_error", Param: "dimensions", Message: "dimensions must be a positive integer"}
		}
	}
	p := predictRequest{Instances: make([]embedInstance, len(req.Input))}
	for i, in := range req.Input {
		p.Instances[i] = embedInstance{Content: in}
	}
	if dims > 0 {
		p.Parameters = &embedParams{OutputDimensionality: dims}
	}
	return json.Marshal(p)
}

// embedResponse reads predict's answer: one vector per input, and the
// tokens Vertex counted as the prompt.
func embedResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	var p predictResponse
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("vertex embeddings answer: %w", err)
	}
	if len(p.Predictions) != len(req.Input) {
		return nil, fmt.Errorf("vertex answered %d embeddings for %d inputs", len(p.Predictions), len(req.Input))
	}
	r := &adaptor.Response{Model: req.Model, Embeddings: make([][]float64, len(p.Predictions))}
	tokens := 0
	for i, pr := range p.Predictions {
		if len(pr.Embeddings.Values) == 0 {
			return nil, fmt.Errorf("vertex embedding %d has no values", i)
		}
		r.Embeddings[i] = pr.Embeddings.Values
		tokens += int(pr.Embeddings.Statistics.TokenCount)
	}
	if tokens > 0 {
		r.Usage = &adaptor.Usage{PromptTokens: tokens, TotalTokens: tokens}
	}
	return r, nil
}
