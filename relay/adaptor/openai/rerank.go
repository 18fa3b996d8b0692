package openai

import (
	"encoding/json"
	"fmt"

	"switchyard/relay/adaptor"
)

// Rerank is the Cohere/Jina shape that OpenAI-compatible vendors serve at
// /v1/rerank (SiliconFlow, Jina) or /v2/rerank (Cohere): the request
// passes through; the answer is read only for its usage, which each vendor
// reports its own way.

// rerankAnswer holds the usage fields of the three vendors' answers.
type rerankAnswer struct {
	Results *[]struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevance_score"`
	} `json:"results"`
	// Jina: usage.total_tokens.
	Usage *struct {
		TotalTokens  int `json:"total_tokens"`
		PromptTokens int `json:"prompt_tokens"`
	} `json:"usage"`
	Meta *struct {
		// SiliconFlow: meta.tokens.
		Tokens *struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		} `json:"tokens"`
		// Cohere bills search units, not tokens: the relay counts the
		// tokens itself then.
		BilledUnits *struct {
			InputTokens int `json:"input_tokens"`
		} `json:"billed_units"`
	} `json:"meta"`
}

// RerankResponse reads a rerank answer: results must be there; usage is
// the vendor's token count, nil when it gives none (Cohere), so the
// engine counts the query and documents.
func RerankResponse(body []byte) (*adaptor.Response, error) {
	var a rerankAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Results == nil {
		return nil, fmt.Errorf("rerank answer has no results")
	}
	r := &adaptor.Response{}
	switch {
	case a.Usage != nil && a.Usage.TotalTokens > 0:
		p := a.Usage.PromptTokens
		if p == 0 {
			p = a.Usage.TotalTokens
		}
		r.Usage = &adaptor.Usage{PromptTokens: p, TotalTokens: a.Usage.TotalTokens}
	case a.Meta != nil && a.Meta.Tokens != nil && a.Meta.Tokens.InputTokens > 0:
		t := a.Meta.Tokens
		r.Usage = &adaptor.Usage{PromptTokens: t.InputTokens, CompletionTokens: t.OutputTokens, TotalTokens: t.InputTokens + t.OutputTokens}
	case a.Meta != nil && a.Meta.BilledUnits != nil && a.Meta.BilledUnits.InputTokens > 0:
		r.Usage = &adaptor.Usage{PromptTokens: a.Meta.BilledUnits.InputTokens, TotalTokens: a.Meta.BilledUnits.InputTokens}
	}
	return r, nil
}
