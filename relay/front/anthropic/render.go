package anthropic

import (
	"encoding/json"
	"strings"

	"switchyard/relay/adaptor"
	wire "switchyard/relay/adaptor/anthropic"
)

// outBlock is a content block as this front writes it.
type outBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
}

type outMessage struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Role         string     `json:"role"`
	Model        string     `json:"model"`
	Content      []outBlock `json:"content"`
	StopReason   *string    `json:"stop_reason"`
	StopSequence *string    `json:"stop_sequence"`
	Usage        wire.Usage `json:"usage"`
}

// MessageID is an answer's id in Anthropic's style.
func MessageID(id string) string {
	if strings.HasPrefix(id, "msg_") {
		return id
	}
	if id == "" {
		return "msg_switchyard"
	}
	return "msg_" + strings.TrimPrefix(id, "chatcmpl-")
}

// Render implements adaptor.Front. Thinking without a signature (another
// provider's reasoning) is left out: sent back to Anthropic it would be
// refused.
func (Front) Render(req *adaptor.Request, resp *adaptor.Response) ([]byte, error) {
	m := outMessage{ID: MessageID(resp.ID), Type: "message", Role: "assistant", Model: req.Model, Content: []outBlock{}, Usage: wire.UsageOf(resp.Usage)}
	for _, p := range resp.Parts {
		switch p.Type {
		case adaptor.PartText:
			if p.Text != "" {
				t := p.Text
				m.Content = append(m.Content, outBlock{Type: "text", Text: &t})
			}
		case adaptor.PartThinking:
			if p.Signature != "" {
				t, s := p.Text, p.Signature
				m.Content = append(m.Content, outBlock{Type: "thinking", Thinking: &t, Signature: &s})
			}
		}
	}
	for _, tc := range resp.ToolCalls {
		input := json.RawMessage(tc.Args)
		if !json.Valid(input) {
			input = json.RawMessage(`{}`)
		}
		m.Content = append(m.Content, outBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
	}
	r := wire.StopReasonOf(resp.FinishReason, resp.StopSequence)
	m.StopReason = &r
	if resp.StopSequence != "" {
		s := resp.StopSequence
		m.StopSequence = &s
	}
	return json.Marshal(m)
}
