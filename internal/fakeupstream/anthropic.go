package fakeupstream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// StartAnthropic runs a fake Anthropic Messages upstream
// (https://docs.anthropic.com/en/api/messages): x-api-key and
// anthropic-version required, Anthropic's error bodies, whole messages
// with cache usage, and streams of named events (message_start, ping,
// content_block_start/delta/stop, message_delta, message_stop), with an
// in-stream error event or a dropped connection on demand.
func StartAnthropic(b Behavior) *Server {
	s := &Server{}
	s.Set(b)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serveAnthropic))
	return s
}

// AnthropicError writes Anthropic's error body.
func AnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_fake")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}, "request_id": "req_fake"})
}

// anthropicTypes are Anthropic's error types by HTTP status.
var anthropicTypes = map[int]struct{ typ, msg string }{
	400: {"invalid_request_error", "messages: Input should be a valid list"},
	401: {"authentication_error", "invalid x-api-key"},
	403: {"permission_error", "Your API key does not have permission to use the specified resource."},
	404: {"not_found_error", "model: claude-nonexistent"},
	413: {"request_too_large", "Request exceeds the maximum allowed number of bytes."},
	429: {"rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"},
	500: {"api_error", "Internal server error"},
	529: {"overloaded_error", "Overloaded"},
}

type anthropicRequest struct {
	Model     string `json:"model"`
	MaxTokens *int   `json:"max_tokens"`
	Stream    bool   `json:"stream"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []json.RawMessage `json:"tools"`
}

func (s *Server) serveAnthropic(w http.ResponseWriter, r *http.Request) {
	b := s.Behavior()
	body := s.record(r)
	if b.Redirect != "" {
		http.Redirect(w, r, b.Redirect, http.StatusTemporaryRedirect)
		return
	}
	if b.Key != "" && r.Header.Get("x-api-key") != b.Key {
		AnthropicError(w, 401, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		AnthropicError(w, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/v1/models" {
		serveAnthropicModels(w, r)
		return
	}
	if b.Delay > 0 && !sleep(r, b.Delay) {
		s.cancels.Add(1)
		return
	}
	if b.FailStatus != 0 {
		e, ok := anthropicTypes[b.FailStatus]
		if !ok {
			e = anthropicTypes[500]
		}
		if b.FailCode == "credit" {
			e.msg = "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."
		}
		if b.FailStatus == 429 {
			w.Header().Set("retry-after", "7")
		}
		AnthropicError(w, b.FailStatus, e.typ, e.msg)
		return
	}
	var req anthropicRequest
	if err := json.Unmarshal(body, &req); err != nil {
		AnthropicError(w, 400, "invalid_request_error", "There was an issue with your request: the body is not valid JSON")
		return
	}
	switch {
	case r.URL.Path == "/v1/messages/count_tokens":
		s.ServeCountTokens(w, r, body)
		return
	case r.URL.Path != "/v1/messages":
		AnthropicError(w, 404, "not_found_error", "Not Found")
		return
	case req.Model == "":
		AnthropicError(w, 400, "invalid_request_error", "model: Field required")
		return
	case req.MaxTokens == nil:
		AnthropicError(w, 400, "invalid_request_error", "max_tokens: Field required")
		return
	case *req.MaxTokens < 1:
		AnthropicError(w, 400, "invalid_request_error", "max_tokens: Input should be greater than or equal to 1")
		return
	case len(req.Messages) == 0:
		AnthropicError(w, 400, "invalid_request_error", "messages: at least one message is required")
		return
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			AnthropicError(w, 400, "invalid_request_error", fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
			return
		}
	}
	if b.NotJSON && !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("upstream connect error or disconnect/reset before headers"))
		return
	}
	if b.Chunks <= 0 {
		b.Chunks = 3
	}
	if b.PromptTokens <= 0 {
		b.PromptTokens = 9
	}
	if b.Reply == "" {
		b.Reply = "Hello from the fake upstream"
	}
	// With tools, the model calls one, unless the last turn brings the
	// tool's result back.
	useTool := len(req.Tools) > 0 && !strings.Contains(string(req.Messages[len(req.Messages)-1].Content), `"tool_result"`)
	usage := map[string]any{"input_tokens": b.PromptTokens, "output_tokens": b.Chunks,
		"cache_creation_input_tokens": b.CacheCreationTokens, "cache_read_input_tokens": b.CachedTokens, "service_tier": "standard"}
	id := "msg_01FakeUpstream"
	if !req.Stream {
		var content []any
		if b.Thinking {
			content = append(content, map[string]any{"type": "thinking", "thinking": "Let me think.", "signature": "sig-fake"})
		}
		stop := "end_turn"
		if useTool {
			content = append(content, map[string]any{"type": "tool_use", "id": "toolu_01Fake", "name": "get_weather", "input": map[string]any{"city": "Paris"}})
			stop = "tool_use"
		} else {
			content = append(content, map[string]any{"type": "text", "text": b.Reply})
		}
		writeJSON(w, map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": content,
			"stop_reason": stop, "stop_sequence": nil, "usage": usage})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if b.FirstChunkDelay > 0 && !sleep(r, b.FirstChunkDelay) {
		s.cancels.Add(1)
		return
	}
	send := func(name string, v any) bool {
		raw, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, raw); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	startUsage := map[string]any{"input_tokens": b.PromptTokens, "output_tokens": 1,
		"cache_creation_input_tokens": b.CacheCreationTokens, "cache_read_input_tokens": b.CachedTokens, "service_tier": "standard"}
	if !send("message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": id, "type": "message", "role": "assistant",
		"model": req.Model, "content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": startUsage}}) {
		return
	}
	send("ping", map[string]any{"type": "ping"})
	type named struct {
		name string
		v    map[string]any
	}
	var content []named // events counted for DropAfter and StreamErrorAfter
	index := 0
	if b.Thinking {
		content = append(content,
			named{"content_block_start", map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "thinking", "thinking": "", "signature": ""}}},
			named{"content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "thinking_delta", "thinking": "Let me think."}}},
			named{"content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "signature_delta", "signature": "sig-fake"}}},
			named{"content_block_stop", map[string]any{"type": "content_block_stop", "index": index}})
		index++
	}
	stop := "end_turn"
	if useTool {
		stop = "tool_use"
		content = append(content, named{"content_block_start", map[string]any{"type": "content_block_start", "index": index,
			"content_block": map[string]any{"type": "tool_use", "id": "toolu_01Fake", "name": "get_weather", "input": map[string]any{}}}})
		for _, p := range pieces(`{"city": "Paris"}`, b.Chunks) {
			content = append(content, named{"content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "input_json_delta", "partial_json": p}}})
		}
	} else {
		content = append(content, named{"content_block_start", map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "text", "text": ""}}})
		for _, p := range pieces(b.Reply, b.Chunks) {
			content = append(content, named{"content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "text_delta", "text": p}}})
		}
	}
	content = append(content, named{"content_block_stop", map[string]any{"type": "content_block_stop", "index": index}})
	for i, ev := range content {
		if b.DropAfter > 0 && i >= b.DropAfter {
			panic(http.ErrAbortHandler)
		}
		if b.StreamErrorAfter > 0 && i >= b.StreamErrorAfter {
			send("error", map[string]any{"type": "error", "error": map[string]any{"type": "overloaded_error", "message": "Overloaded"}})
			return
		}
		if i > 0 && b.ChunkDelay > 0 && !sleep(r, b.ChunkDelay) {
			s.cancels.Add(1)
			return
		}
		if !send(ev.name, ev.v) {
			s.cancels.Add(1)
			return
		}
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": b.Chunks}})
	if !b.NoDone {
		send("message_stop", map[string]any{"type": "message_stop"})
	}
}

// AnthropicModels are what GET /v1/models lists, newest first as
// Anthropic orders them.
var AnthropicModels = []string{"claude-opus-4-1", "claude-sonnet-4-5", "claude-3-5-haiku-20241022"}

// serveAnthropicModels answers Anthropic's models list: {"data": [{"type":
// "model", "id", "display_name", "created_at"}], "has_more", "first_id",
// "last_id"}, paged by after_id, in pages of at most two whatever limit
// asks (the real API's go to 1000), so a client's paging is exercised.
func serveAnthropicModels(w http.ResponseWriter, r *http.Request) {
	start := 0
	if after := r.URL.Query().Get("after_id"); after != "" {
		start = -1
		for i, m := range AnthropicModels {
			if m == after {
				start = i + 1
			}
		}
		if start < 0 {
			AnthropicError(w, 400, "invalid_request_error", "after_id: no model with that id")
			return
		}
	}
	end := min(start+2, len(AnthropicModels))
	data := []any{}
	for _, m := range AnthropicModels[start:end] {
		data = append(data, map[string]any{"type": "model", "id": m, "display_name": m, "created_at": "2025-09-29T00:00:00Z"})
	}
	out := map[string]any{"data": data, "has_more": end < len(AnthropicModels), "first_id": nil, "last_id": nil}
	if end > start {
		out["first_id"], out["last_id"] = AnthropicModels[start], AnthropicModels[end-1]
	}
	writeJSON(w, out)
}
