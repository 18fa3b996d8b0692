package openai

import (
	"encoding/json"
	"time"

	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/openai"
)

// completion is a whole chat completion as this front writes it.
type completion struct {
	ID                string      `json:"id"`
	Object            string      `json:"object"`
	Created           int64       `json:"created"`
	Model             string      `json:"model"`
	Choices           []choice    `json:"choices"`
	Usage             *wire.Usage `json:"usage,omitempty"`
	SystemFingerprint *string     `json:"system_fingerprint"`
}

type choice struct {
	Index        int      `json:"index"`
	Message      *message `json:"message,omitempty"`
	Text         *string  `json:"text,omitempty"`
	Logprobs     *string  `json:"logprobs"`
	FinishReason *string  `json:"finish_reason"`
}

type message struct {
	Role             string          `json:"role"`
	Content          *string         `json:"content"`
	ReasoningContent string          `json:"reasoning_content,omitempty"`
	ToolCalls        []wire.ToolCall `json:"tool_calls,omitempty"`
	Refusal          *string         `json:"refusal"`
}

// chatID is an answer's id in OpenAI's style.
func chatID(id string) string {
	if id == "" {
		return "chatcmpl-switchyard"
	}
	return "chatcmpl-" + id
}

func modelOf(req *adaptor.Request, m string) string {
	if m != "" {
		return m
	}
	return req.Model
}

// Render implements adaptor.Front.
func (Front) Render(req *adaptor.Request, resp *adaptor.Response) ([]byte, error) {
	if req.Mode == adaptor.ModeEmbeddings {
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		}
		out := struct {
			Object string      `json:"object"`
			Data   []item      `json:"data"`
			Model  string      `json:"model"`
			Usage  *wire.Usage `json:"usage,omitempty"`
		}{Object: "list", Data: make([]item, len(resp.Embeddings)), Model: modelOf(req, resp.Model), Usage: wire.FromNeutral(resp.Usage)}
		for i, e := range resp.Embeddings {
			out.Data[i] = item{Object: "embedding", Index: i, Embedding: e}
		}
		return json.Marshal(out)
	}
	m := &message{Role: "assistant"}
	text := resp.Text()
	if text != "" || len(resp.ToolCalls) == 0 {
		m.Content = &text
	}
	for _, p := range resp.Parts {
		if p.Type == adaptor.PartThinking {
			m.ReasoningContent += p.Text
		}
	}
	for i, tc := range resp.ToolCalls {
		args := tc.Args
		if args == "" {
			args = "{}"
		}
		_ = i
		m.ToolCalls = append(m.ToolCalls, wire.ToolCall{ID: tc.ID, Type: "function", Function: wire.Function{Name: tc.Name, Arguments: args}})
	}
	finish := resp.FinishReason
	if finish == "" {
		finish = adaptor.FinishStop
	}
	out := completion{
		ID: chatID(resp.ID), Object: "chat.completion", Created: time.Now().Unix(), Model: modelOf(req, resp.Model),
		Choices: []choice{{Index: 0, Message: m, FinishReason: &finish}}, Usage: wire.FromNeutral(resp.Usage),
	}
	return json.Marshal(out)
}
