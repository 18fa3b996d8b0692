package anthropic

import (
	"encoding/json"
)

// Event is one Anthropic SSE event: its name and JSON data.
type Event struct {
	Name string
	Data []byte
}

// Stream turns OpenAI chat chunks into Anthropic's stream events:
// message_start, content blocks opened, filled by deltas and stopped,
// message_delta with the stop reason and usage, and message_stop.
type Stream struct {
	model      string
	started    bool
	open       bool // a content block is open
	openTool   bool // the open block is a tool_use
	index      int  // index of the open block, or of the next one
	toolIndex  int  // OpenAI tool_call index of the open tool block
	stopReason string
}

// NewStream translates a stream for model (the name the client asked for).
func NewStream(model string) *Stream { return &Stream{model: model, toolIndex: -1} }

type oaChunk struct {
	ID      string `json:"id"`
	Choices []struct {
		Delta struct {
			Content   string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

func ev(name string, v any) Event {
	b, _ := json.Marshal(v)
	return Event{Name: name, Data: b}
}

// Chunk translates one OpenAI chunk (the data of one SSE event).
func (s *Stream) Chunk(data []byte) []Event {
	var c oaChunk
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	var out []Event
	if !s.started {
		s.started = true
		out = append(out, ev("message_start", map[string]any{"type": "message_start", "message": map[string]any{
			"id": messageID(c.ID), "type": "message", "role": "assistant", "model": s.model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil, "usage": Usage{},
		}}))
	}
	for _, ch := range c.Choices {
		d := ch.Delta
		if d.Content != "" {
			if s.open && s.openTool {
				out = append(out, s.stop())
			}
			if !s.open {
				s.open, s.openTool = true, false
				out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": s.index, "content_block": map[string]any{"type": "text", "text": ""}}))
			}
			out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": s.index, "delta": map[string]any{"type": "text_delta", "text": d.Content}}))
		}
		for _, tc := range d.ToolCalls {
			if tc.ID != "" || !s.open || !s.openTool || tc.Index != s.toolIndex {
				if s.open {
					out = append(out, s.stop())
				}
				s.open, s.openTool, s.toolIndex = true, true, tc.Index
				out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": s.index, "content_block": map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": map[string]any{}}}))
			}
			if tc.Function.Arguments != "" {
				out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": s.index, "delta": map[string]any{"type": "input_json_delta", "partial_json": tc.Function.Arguments}}))
			}
		}
		if r := stopReason(ch.FinishReason); r != "" {
			s.stopReason = r
		}
	}
	return out
}

func (s *Stream) stop() Event {
	e := ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": s.index})
	s.open = false
	s.index++
	return e
}

// Finish ends the stream with the call's usage.
func (s *Stream) Finish(usage Usage) []Event {
	var out []Event
	if !s.started {
		out = append(out, s.Chunk([]byte(`{}`))...)
	}
	if s.open {
		out = append(out, s.stop())
	}
	reason := s.stopReason
	if reason == "" {
		reason = "end_turn"
	}
	out = append(out,
		ev("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": reason, "stop_sequence": nil}, "usage": usage}),
		ev("message_stop", map[string]any{"type": "message_stop"}),
	)
	return out
}
