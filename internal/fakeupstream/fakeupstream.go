// Package fakeupstream is a test upstream that speaks a provider's wire
// format exactly. Start speaks OpenAI's: JSON bodies, SSE framing with a
// final "data: [DONE]", tool-call deltas, the usage chunk when
// stream_options.include_usage asks for it, and OpenAI's error bodies.
// StartAnthropic speaks Anthropic's Messages API (anthropic.go) and
// StartAzure Azure OpenAI's deployment paths (azure.go). Its behaviour
// (keys, failures, slowness, dropped connections) can be changed while it
// runs, and it counts calls.
package fakeupstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchyard/internal/fakekit"
)

// Behavior is how the server answers. The zero value answers every call
// at once, accepting any key.
type Behavior struct {
	// Key, when set, is the only API key accepted; others get 401
	// invalid_api_key as OpenAI sends it.
	Key string
	// Keys, when set, are further keys accepted (cache.go counts calls
	// per key).
	Keys []string
	// FailStatus, when set, answers every call with this status and an
	// OpenAI error body (429 rate_limit_exceeded, 500 server_error, ...).
	FailStatus int
	// FailCode overrides the error code of FailStatus (for example
	// "insufficient_quota" with 429).
	FailCode string
	// Delay waits before the response headers.
	Delay time.Duration
	// FirstChunkDelay waits after a stream's headers, before its first event.
	FirstChunkDelay time.Duration
	// ChunkDelay waits between stream events.
	ChunkDelay time.Duration
	// Chunks is how many content pieces an answer has (default 3).
	Chunks int
	// DropAfter cuts the connection after this many content events of a
	// stream (or, for a whole answer, after half its body) when > 0.
	DropAfter int
	// NoUsage leaves usage out of answers, as some compatible upstreams do.
	NoUsage bool
	// NoDone ends streams without "data: [DONE]".
	NoDone bool
	// AfterDone holds a stream's body open this long after its last
	// event, as an upstream busy finishing its side may: the chunked
	// body's terminator then reaches the relay on its own.
	AfterDone time.Duration
	// PromptTokens is the prompt_tokens reported (default 9).
	PromptTokens int
	// Reply is the text answered, split into Chunks pieces (default
	// "Hello from the fake upstream").
	Reply string
	// CachedTokens and CacheCreationTokens are the prompt tokens reported
	// as cache reads and cache writes (OpenAI's cached_tokens; Anthropic's
	// cache_read_input_tokens and cache_creation_input_tokens).
	CachedTokens        int
	CacheCreationTokens int
	// ReasoningTokens are reported in completion_tokens_details.
	ReasoningTokens int
	// StreamErrorAfter sends the provider's in-stream error event after
	// this many content events (Anthropic's "event: error").
	StreamErrorAfter int
	// Thinking adds a thinking block before the answer (Anthropic).
	Thinking bool
	// ContentFilter answers as Azure's content filter does.
	ContentFilter bool
	// Redirect answers every call with a 307 to this URL.
	Redirect string
	// NotJSON answers a whole call with a 200 whose body is not JSON.
	NotJSON bool
	// Responses tunes the Responses API (responses.go).
	Responses ResponsesBehavior
	// PromptCache reports cached prompt tokens as OpenAI's prompt caching
	// does (cache.go).
	PromptCache bool
}

// Server is a running fake upstream.
type Server struct {
	*httptest.Server
	// Current and Recorder give Set, Behavior, Calls, CallsTo (by path)
	// and Last.
	fakekit.Current[Behavior]
	fakekit.Recorder

	cancels atomic.Int64
	// responses keeps stored Responses answers (responses.go).
	responses responseStore
	flight    inflight
	cache     promptCache
	byKey     sync.Map // key → *atomic.Int64
	conns     atomic.Int64
}

// Start runs a fake OpenAI upstream on a loopback port.
func Start(b Behavior) *Server {
	s := &Server{}
	s.Set(b)
	s.Server = httptest.NewUnstartedServer(s.track(http.HandlerFunc(s.serve)))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	return s
}

// Conns is how many connections clients have opened to the server.
func (s *Server) Conns() int64 { return s.conns.Load() }

// LastHeader is the headers of the last call.
func (s *Server) LastHeader() http.Header { return s.Last().Header }

// LastQuery is the query string of the last call.
func (s *Server) LastQuery() string { return s.Last().Query }

// LastBody is the body of the last call, as received.
func (s *Server) LastBody() []byte { return s.Last().Body }

// record counts a call by its path and keeps it.
func (s *Server) record(r *http.Request) []byte {
	s.Count(r.URL.Path)
	return s.Keep(r, r.URL.Path)
}

// Cancelled is the number of calls whose client went away mid-answer.
func (s *Server) Cancelled() int64 { return s.cancels.Load() }

// Error writes OpenAI's error body.
func Error(w http.ResponseWriter, status int, typ, code, msg string) {
	ErrorParam(w, status, typ, code, "", msg)
}

// ErrorParam writes OpenAI's error body naming the offending parameter.
func ErrorParam(w http.ResponseWriter, status int, typ, code, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	orNull := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": orNull(param), "code": orNull(code)}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	b := s.Behavior()
	body := s.record(r)
	s.openAI(w, r, b, body, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r.URL.Path)
}

// openAI answers an OpenAI call on path, authenticated with key.
func (s *Server) openAI(w http.ResponseWriter, r *http.Request, b Behavior, body []byte, key, path string) {
	if b.Redirect != "" {
		http.Redirect(w, r, b.Redirect, http.StatusTemporaryRedirect)
		return
	}
	if b.Key != "" || len(b.Keys) > 0 {
		got := key
		if !b.accepts(got) {
			masked := got
			if len(masked) > 8 {
				masked = masked[:3] + "***" + masked[len(masked)-4:]
			}
			Error(w, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+masked+". You can find your API key at https://platform.openai.com/account/api-keys.")
			return
		}
	}
	if b.Delay > 0 && !sleep(r, b.Delay) {
		s.cancels.Add(1)
		return
	}
	if b.FailStatus != 0 {
		typ, code, msg := "server_error", "", "The server had an error while processing your request."
		switch b.FailStatus {
		case 429:
			typ, code, msg = "requests", "rate_limit_exceeded", "Rate limit reached for requests"
		case 400:
			typ, msg = "invalid_request_error", "Invalid request"
		case 401:
			typ, code, msg = "invalid_request_error", "invalid_api_key", "Incorrect API key provided."
		}
		if b.FailCode != "" {
			code = b.FailCode
			if code == "insufficient_quota" {
				typ, msg = "insufficient_quota", "You exceeded your current quota, please check your plan and billing details."
			}
		}
		Error(w, b.FailStatus, typ, code, msg)
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
	var req map[string]json.RawMessage
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &req); err != nil {
			Error(w, 400, "invalid_request_error", "", "We could not parse the JSON body of your request.")
			return
		}
	}
	if b.NotJSON && !stream(req) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "<html>502 Bad Gateway</html>")
		return
	}
	if strings.HasPrefix(path, "/v1/responses") {
		s.ServeResponses(w, r, b, body)
		return
	}
	switch path {
	case "/v1/chat/completions":
		s.chat(w, r, b, req, false)
	case "/v1/completions":
		s.chat(w, r, b, req, true)
	case "/v1/embeddings":
		s.embeddings(w, b, req)
	case "/v1/moderations":
		writeJSON(w, map[string]any{"id": "modr-fake", "model": str(req["model"]), "results": []any{map[string]any{"flagged": false, "categories": map[string]bool{}, "category_scores": map[string]float64{}}}})
	case "/v1/images/generations":
		writeJSON(w, map[string]any{"created": time.Now().Unix(), "data": []any{map[string]any{"url": "https://example.invalid/image.png", "revised_prompt": "a picture"}}})
	case "/v1/images/edits":
		imageEdit(w, r, body)
	case "/v1/audio/speech":
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = w.Write([]byte("ID3fake-mp3-bytes"))
	case "/v1/audio/transcriptions", "/v1/audio/translations":
		if err := r.ParseMultipartForm(8 << 20); err != nil && !strings.Contains(r.Header.Get("Content-Type"), "multipart") {
			Error(w, 400, "invalid_request_error", "", "multipart form expected")
			return
		}
		writeJSON(w, map[string]any{"text": b.Reply})
	case "/v1/models":
		writeJSON(w, map[string]any{"object": "list", "data": []any{map[string]any{"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"}}})
	case "/v1/dashboard/billing/subscription", "/dashboard/billing/subscription":
		writeJSON(w, map[string]any{"object": "billing_subscription", "has_payment_method": true, "hard_limit_usd": 100.0, "access_until": time.Now().Add(24 * time.Hour).Unix()})
	case "/v1/dashboard/billing/usage", "/dashboard/billing/usage":
		writeJSON(w, map[string]any{"object": "list", "total_usage": 1234.0})
	default:
		Error(w, 404, "invalid_request_error", "", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
	}
}

func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// pieces splits reply into n parts, by characters, that join back to it
// exactly (parts are empty only when reply is shorter than n).
func pieces(reply string, n int) []string {
	r := []rune(reply)
	out := make([]string, n)
	for i := range out {
		out[i] = string(r[i*len(r)/n : (i+1)*len(r)/n])
	}
	return out
}

// stream reports whether a JSON request asks for a stream.
func stream(req map[string]json.RawMessage) bool {
	var v bool
	_ = json.Unmarshal(req["stream"], &v)
	return v
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, b Behavior, req map[string]json.RawMessage, legacy bool) {
	model := str(req["model"])
	stream := stream(req)
	var so struct {
		IncludeUsage bool `json:"include_usage"`
	}
	_ = json.Unmarshal(req["stream_options"], &so)
	_, wantTools := req["tools"]
	parts := pieces(b.Reply, b.Chunks)
	usage := s.usageOf(r, b, req)
	if b.CachedTokens > 0 {
		usage["prompt_tokens_details"] = map[string]int{"cached_tokens": b.CachedTokens, "audio_tokens": 0}
	}
	if b.ReasoningTokens > 0 {
		usage["completion_tokens_details"] = map[string]int{"reasoning_tokens": b.ReasoningTokens, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
	}
	id, created := "chatcmpl-fake", time.Now().Unix()
	object := "chat.completion"
	if legacy {
		id, object = "cmpl-fake", "text_completion"
	}
	if !stream {
		var choice map[string]any
		switch {
		case legacy:
			choice = map[string]any{"index": 0, "text": b.Reply, "logprobs": nil, "finish_reason": "stop"}
		case wantTools:
			choice = map[string]any{"index": 0, "finish_reason": "tool_calls", "logprobs": nil, "message": map[string]any{
				"role": "assistant", "content": nil, "refusal": nil,
				"tool_calls": []any{map[string]any{"id": "call_fake", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}},
			}}
		default:
			choice = map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil, "message": map[string]any{"role": "assistant", "content": b.Reply, "refusal": nil}}
		}
		out := map[string]any{"id": id, "object": object, "created": created, "model": model, "choices": []any{choice}, "system_fingerprint": "fp_fake"}
		if !b.NoUsage {
			out["usage"] = usage
		}
		if b.DropAfter > 0 {
			raw, _ := json.Marshal(out)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(raw)))
			w.WriteHeader(200)
			_, _ = w.Write(raw[:len(raw)/2])
			http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}
		writeJSON(w, out)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if b.FirstChunkDelay > 0 && !sleep(r, b.FirstChunkDelay) {
		s.cancels.Add(1)
		return
	}
	object += ".chunk"
	if legacy {
		object = "text_completion"
	}
	send := func(v map[string]any) bool {
		v["id"], v["object"], v["created"], v["model"], v["system_fingerprint"] = id, object, created, model, "fp_fake"
		if so.IncludeUsage && !b.NoUsage {
			if _, ok := v["usage"]; !ok {
				v["usage"] = nil
			}
		}
		raw, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", raw); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	events := make([]map[string]any, 0, b.Chunks+2)
	switch {
	case legacy:
		for _, p := range parts {
			events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "text": p, "logprobs": nil, "finish_reason": nil}}})
		}
		events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "text": "", "logprobs": nil, "finish_reason": "stop"}}})
	case wantTools:
		events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": nil,
			"tool_calls": []any{map[string]any{"index": 0, "id": "call_fake", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": ""}}}}, "logprobs": nil, "finish_reason": nil}}})
		for _, a := range pieces(`{"city": "Paris"}`, b.Chunks) {
			events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{
				"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": a}}}}, "logprobs": nil, "finish_reason": nil}}})
		}
		events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "logprobs": nil, "finish_reason": "tool_calls"}}})
	default:
		events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": "", "refusal": nil}, "logprobs": nil, "finish_reason": nil}}})
		for _, p := range parts {
			events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": p}, "logprobs": nil, "finish_reason": nil}}})
		}
		events = append(events, map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "logprobs": nil, "finish_reason": "stop"}}})
	}
	for i, ev := range events {
		if b.DropAfter > 0 && i >= b.DropAfter {
			// Cut the connection without ending the chunked body.
			panic(http.ErrAbortHandler)
		}
		if i > 0 && b.ChunkDelay > 0 && !sleep(r, b.ChunkDelay) {
			s.cancels.Add(1)
			return
		}
		if !send(ev) {
			s.cancels.Add(1)
			return
		}
	}
	if so.IncludeUsage && !b.NoUsage {
		if !send(map[string]any{"choices": []any{}, "usage": usage}) {
			return
		}
	}
	if !b.NoDone {
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
		_ = rc.Flush()
	}
	if b.AfterDone > 0 {
		sleep(r, b.AfterDone)
	}
}

func (s *Server) embeddings(w http.ResponseWriter, b Behavior, req map[string]json.RawMessage) {
	n := 1
	var many []json.RawMessage
	if json.Unmarshal(req["input"], &many) == nil && len(many) > 0 && many[0][0] == '"' {
		n = len(many)
	}
	data := make([]any, n)
	for i := range data {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": []float64{0.1, -0.2, 0.3}}
	}
	out := map[string]any{"object": "list", "data": data, "model": str(req["model"])}
	if !b.NoUsage {
		out["usage"] = map[string]int{"prompt_tokens": b.PromptTokens, "total_tokens": b.PromptTokens}
	}
	writeJSON(w, out)
}

// imageEdit answers /v1/images/edits as gpt-image-1 does: a multipart form
// with one or more images ("image" or "image[]", each PNG, JPEG or WebP by
// its part's Content-Type, as OpenAI checks) and a prompt; n images back
// as b64_json, with the call's token usage.
func imageEdit(w http.ResponseWriter, r *http.Request, body []byte) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		Error(w, 400, "invalid_request_error", "", "Invalid Content-Type header, expected multipart/form-data.")
		return
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(8 << 20)
	if err != nil {
		Error(w, 400, "invalid_request_error", "", "Could not parse multipart form.")
		return
	}
	images := append(form.File["image"], form.File["image[]"]...)
	if len(images) == 0 {
		ErrorParam(w, 400, "invalid_request_error", "", "image", "Missing required parameter: 'image'.")
		return
	}
	for _, fh := range images {
		switch ct := fh.Header.Get("Content-Type"); ct {
		case "image/png", "image/jpeg", "image/webp":
		default:
			ErrorParam(w, 400, "invalid_request_error", "invalid_image_format", "image",
				fmt.Sprintf("Invalid file 'image': unsupported mimetype ('%s'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.", ct))
			return
		}
	}
	if len(form.Value["prompt"]) == 0 || form.Value["prompt"][0] == "" {
		ErrorParam(w, 400, "invalid_request_error", "", "prompt", "Missing required parameter: 'prompt'.")
		return
	}
	n := 1
	if v := form.Value["n"]; len(v) > 0 {
		fmt.Sscan(v[0], &n)
	}
	data := make([]any, n)
	for i := range data {
		data[i] = map[string]any{"b64_json": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}
	}
	writeJSON(w, map[string]any{"created": time.Now().Unix(), "data": data,
		"usage": map[string]any{"input_tokens": 50, "output_tokens": 272 * n, "total_tokens": 50 + 272*n,
			"input_tokens_details": map[string]int{"text_tokens": 10, "image_tokens": 40}}})
}
