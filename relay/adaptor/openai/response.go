package openai

import (
	"encoding/json"
	"errors"
	"strings"

	"switchyard/relay/adaptor"
)

// errNotAnswer means a 2xx body is not an answer in OpenAI's format.
var errNotAnswer = errors.New("the upstream's answer is not OpenAI JSON")

// ParseResponse implements adaptor.Adaptor.
func (Adaptor) ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	if req.Format == adaptor.FormatResponses {
		return ParseResponses(body)
	}
	switch req.Mode {
	case adaptor.ModeRerank:
		return RerankResponse(body)
	case adaptor.ModeTranscription, adaptor.ModeTranslation:
		// response_format may be text, srt or vtt: the answer is its own
		// text. JSON answers may carry usage (gpt-4o-transcribe).
		var v struct {
			Text  string `json:"text"`
			Usage *struct {
				InputTokens  int `json:"input_tokens"`
				OutputTokens int `json:"output_tokens"`
				TotalTokens  int `json:"total_tokens"`
			} `json:"usage"`
		}
		resp := &adaptor.Response{}
		if json.Unmarshal(body, &v) == nil {
			resp.Parts = []adaptor.Part{{Type: adaptor.PartText, Text: v.Text}}
			if u := v.Usage; u != nil && u.TotalTokens > 0 {
				resp.Usage = &adaptor.Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.TotalTokens}
			}
		} else {
			resp.Parts = []adaptor.Part{{Type: adaptor.PartText, Text: string(body)}}
		}
		return resp, nil
	case adaptor.ModeEmbeddings:
		var e EmbeddingResponse
		if err := json.Unmarshal(body, &e); err != nil || e.Data == nil {
			return nil, errNotAnswer
		}
		resp := &adaptor.Response{Model: e.Model, Usage: e.Usage.Neutral(), Embeddings: make([][]float64, len(e.Data))}
		for i, d := range e.Data {
			if d.Index >= 0 && d.Index < len(e.Data) {
				resp.Embeddings[d.Index] = d.Embedding
			} else {
				resp.Embeddings[i] = d.Embedding
			}
		}
		return resp, nil
	case adaptor.ModeModerations, adaptor.ModeImages, adaptor.ModeImageEdit:
		var v map[string]json.RawMessage
		if err := json.Unmarshal(body, &v); err != nil || v == nil {
			return nil, errNotAnswer
		}
		return &adaptor.Response{}, nil
	}
	var a ChatResponse
	if err := json.Unmarshal(body, &a); err != nil || (a.Choices == nil && a.Usage == nil) {
		return nil, errNotAnswer
	}
	return ResponseOf(&a), nil
}

// ResponseOf is a whole chat or text completion in neutral terms. Every
// choice's text is kept (for counting); the first choice's finish reason
// and tool calls are the answer's.
func ResponseOf(a *ChatResponse) *adaptor.Response {
	resp := &adaptor.Response{ID: a.ID, Model: a.Model, Usage: a.Usage.Neutral()}
	var text strings.Builder
	for i, c := range a.Choices {
		text.WriteString(c.Text)
		if m := c.Message; m != nil {
			if m.ReasoningContent != "" {
				resp.Parts = append(resp.Parts, adaptor.Part{Type: adaptor.PartThinking, Text: m.ReasoningContent})
			}
			text.WriteString(StringContent(m.Content))
			if i == 0 {
				for _, tc := range m.ToolCalls {
					resp.ToolCalls = append(resp.ToolCalls, adaptor.ToolCall{ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
				}
			}
		}
		if i == 0 && c.FinishReason != nil {
			resp.FinishReason = finishOf(*c.FinishReason)
		}
	}
	if text.Len() > 0 {
		resp.Parts = append(resp.Parts, adaptor.Part{Type: adaptor.PartText, Text: text.String()})
	}
	return resp
}

func finishOf(r string) string {
	if r == "function_call" {
		return adaptor.FinishToolCalls
	}
	return r
}
