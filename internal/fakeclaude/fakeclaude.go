// Package fakeclaude builds Anthropic Messages answers as Anthropic's API
// documents them (a whole message, or the message_start … message_stop
// event sequence), for the test upstreams that carry Claude inside another
// envelope: Vertex AI's rawPredict/streamRawPredict and Bedrock's
// InvokeModel/InvokeModelWithResponseStream.
package fakeclaude

import (
	"encoding/json"
	"fmt"
)

// Behavior shapes an answer.
type Behavior struct {
	// Reply is the answered text (default "Hello from fake Claude").
	Reply string
	// Chunks is how many text deltas a stream has (default 3).
	Chunks int
	// InputTokens is usage.input_tokens (default 9, cache tokens apart);
	// CacheRead and CacheCreation add the cache fields.
	InputTokens   int
	CacheRead     int
	CacheCreation int
}

// Request is what the fake reads of a Messages body.
type Request struct {
	AnthropicVersion string            `json:"anthropic_version"`
	Model            string            `json:"model"`
	MaxTokens        int               `json:"max_tokens"`
	Messages         []json.RawMessage `json:"messages"`
	System           json.RawMessage   `json:"system"`
	Stream           *bool             `json:"stream"`
	Tools            []struct {
		Name string `json:"name"`
	} `json:"tools"`
	lastHasToolResult bool
}

// Parse reads a Messages body and checks what Anthropic requires
// (max_tokens, at least one message); the message is "" when it is valid.
func Parse(body []byte) (*Request, string) {
	var q Request
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, "invalid JSON body: " + err.Error()
	}
	if q.MaxTokens <= 0 {
		return nil, "max_tokens: Field required"
	}
	if len(q.Messages) == 0 {
		return nil, "messages: at least one message is required"
	}
	var last struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	_ = json.Unmarshal(q.Messages[len(q.Messages)-1], &last)
	var blocks []struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(last.Content, &blocks)
	for _, b := range blocks {
		if b.Type == "tool_result" {
			q.lastHasToolResult = true
		}
	}
	return &q, ""
}

// tool is the tool the answer calls, "" for a text answer.
func (q *Request) tool() string {
	if len(q.Tools) > 0 && !q.lastHasToolResult {
		return q.Tools[0].Name
	}
	return ""
}

func (b *Behavior) defaults() {
	if b.Reply == "" {
		b.Reply = "Hello from fake Claude"
	}
	if b.Chunks <= 0 {
		b.Chunks = 3
	}
	if b.InputTokens <= 0 {
		b.InputTokens = 9
	}
}

// ToolInput is the input of the tool call the fake makes.
const ToolInput = `{"city": "Paris"}`

// Message is the whole answer to q.
func Message(b Behavior, model string, q *Request) map[string]any {
	b.defaults()
	content := []any{map[string]any{"type": "text", "text": b.Reply}}
	stop := "end_turn"
	if name := q.tool(); name != "" {
		var input map[string]any
		_ = json.Unmarshal([]byte(ToolInput), &input)
		content = []any{map[string]any{"type": "tool_use", "id": "toolu_fake01", "name": name, "input": input}}
		stop = "tool_use"
	}
	return map[string]any{
		"id": "msg_fake01", "type": "message", "role": "assistant", "model": model, "content": content,
		"stop_reason": stop, "stop_sequence": nil, "usage": usage(b, b.Chunks),
	}
}

func usage(b Behavior, output int) map[string]any {
	return map[string]any{"input_tokens": b.InputTokens, "output_tokens": output,
		"cache_creation_input_tokens": b.CacheCreation, "cache_read_input_tokens": b.CacheRead}
}

// Event is one streamed event: its name and its JSON data.
type Event struct {
	Name string
	Data []byte
}

// Events is the streamed answer to q, message_start to message_stop.
func Events(b Behavior, model string, q *Request) []Event {
	b.defaults()
	var out []Event
	add := func(v map[string]any) {
		raw, _ := json.Marshal(v)
		out = append(out, Event{Name: v["type"].(string), Data: raw})
	}
	add(map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake01", "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": usage(b, 1)}})
	stop := "end_turn"
	if name := q.tool(); name != "" {
		stop = "tool_use"
		add(map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "tool_use", "id": "toolu_fake01", "name": name, "input": map[string]any{}}})
		for _, p := range pieces(ToolInput, b.Chunks) {
			add(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "input_json_delta", "partial_json": p}})
		}
	} else {
		add(map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
		add(map[string]any{"type": "ping"})
		for _, p := range pieces(b.Reply, b.Chunks) {
			add(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": p}})
		}
	}
	add(map[string]any{"type": "content_block_stop", "index": 0})
	add(map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": b.Chunks}})
	add(map[string]any{"type": "message_stop"})
	return out
}

// ErrorBody is Anthropic's error body.
func ErrorBody(typ, message string) []byte {
	raw, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": message}})
	return raw
}

// SSE is an event in Anthropic's SSE framing.
func (e Event) SSE() []byte {
	return []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", e.Name, e.Data))
}

func pieces(s string, n int) []string {
	r := []rune(s)
	out := make([]string, n)
	for i := range out {
		out[i] = string(r[i*len(r)/n : (i+1)*len(r)/n])
	}
	return out
}
