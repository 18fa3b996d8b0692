package fakeupstream

// This file is the fake's OpenAI Responses API (platform.openai.com
// /docs/api-reference/responses), as openai-go's types spell it:
// POST /v1/responses whole and streamed (named events, each with its
// sequence_number), GET and DELETE /v1/responses/{id} for stored answers,
// GET /v1/responses/{id}/input_items (a cursor page of the input items,
// newest first unless order=asc, with limit and after), POST
// /v1/responses/{id}/cancel (refused: the fake makes no background
// responses, so every stored one is synchronous),
// function calls, reasoning and cached-token usage, OpenAI's error bodies,
// the in-stream "error" + "response.failed" pair, and "response.incomplete"
// when max_output_tokens cuts the answer.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ResponsesBehavior is how /v1/responses answers, beside Behavior's
// shared knobs (Key, FailStatus, Delay, ChunkDelay, Chunks, DropAfter,
// NoUsage, PromptTokens, Reply, and CachedTokens and ReasoningTokens,
// reported as input_tokens_details.cached_tokens, part of input_tokens,
// and output_tokens_details.reasoning_tokens, part of output_tokens; with
// reasoning tokens the output starts with a reasoning item). The zero
// value answers plainly.
type ResponsesBehavior struct {
	// Unsupported answers every /v1/responses path with 404, as an
	// OpenAI-compatible vendor that lacks the API does.
	Unsupported bool
	// FailMidStream sends, after the first text delta, an "error" event
	// and then "response.failed", and ends the stream there.
	FailMidStream bool
}

// responseStore keeps the answers of calls made with store (the default).
type responseStore struct {
	mu     sync.Mutex
	byID   map[string]json.RawMessage
	inputs map[string][]map[string]any
}

// putInput keeps a stored response's input as the API lists it: each
// item with an id, a message's string content as one input_text part.
func (rs *responseStore) putInput(id string, raw json.RawMessage) {
	var items []map[string]any
	var text string
	if json.Unmarshal(raw, &text) == nil {
		items = []map[string]any{{"role": "user", "content": text}}
	} else {
		_ = json.Unmarshal(raw, &items)
	}
	for _, it := range items {
		typ, _ := it["type"].(string)
		if typ == "" {
			typ = "message"
			it["type"] = typ
		}
		if c, ok := it["content"].(string); ok {
			it["content"] = []map[string]any{{"type": "input_text", "text": c}}
		}
		if _, ok := it["id"]; !ok {
			prefix := map[string]string{"message": "msg_", "function_call": "fc_", "function_call_output": "fco_"}[typ]
			if prefix == "" {
				prefix = "item_"
			}
			it["id"] = newID(prefix)
		}
		if _, ok := it["status"]; !ok && typ != "reasoning" {
			it["status"] = "completed"
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.inputs == nil {
		rs.inputs = map[string][]map[string]any{}
	}
	rs.inputs[id] = items
}

// inputPage is GET /v1/responses/{id}/input_items: OpenAI's cursor page.
func (rs *responseStore) inputPage(id string, r *http.Request) (map[string]any, bool) {
	rs.mu.Lock()
	items, ok := rs.inputs[id]
	items = append([]map[string]any(nil), items...)
	rs.mu.Unlock()
	if !ok {
		return nil, false
	}
	q := r.URL.Query()
	if q.Get("order") != "asc" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	if after := q.Get("after"); after != "" {
		for i, it := range items {
			if it["id"] == after {
				items = items[i+1:]
				break
			}
		}
	}
	limit := 20
	if n, err := fmt.Sscan(q.Get("limit"), &limit); n != 1 || err != nil || limit < 1 || limit > 100 {
		limit = 20
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	page := map[string]any{"object": "list", "data": items, "has_more": more, "first_id": nil, "last_id": nil}
	if len(items) > 0 {
		page["first_id"], page["last_id"] = items[0]["id"], items[len(items)-1]["id"]
	}
	return page, true
}

func (rs *responseStore) put(id string, v any) {
	raw, _ := json.Marshal(v)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.byID == nil {
		rs.byID = map[string]json.RawMessage{}
	}
	rs.byID[id] = raw
}

func (rs *responseStore) get(id string) (json.RawMessage, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	raw, ok := rs.byID[id]
	return raw, ok
}

func (rs *responseStore) remove(id string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	_, ok := rs.byID[id]
	delete(rs.byID, id)
	delete(rs.inputs, id)
	return ok
}

// StoredResponses is how many answers the fake keeps for GET.
func (s *Server) StoredResponses() int {
	s.responses.mu.Lock()
	defer s.responses.mu.Unlock()
	return len(s.responses.byID)
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// responsesError writes OpenAI's error body with a param.
func responsesError(w http.ResponseWriter, status int, code, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var c, p any
	if code != "" {
		c = code
	}
	if param != "" {
		p = param
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": p, "code": c}})
}

// ServeResponses answers a Responses API call on any path whose tail is
// /responses or /responses/{id}, so the Azure fake can mount it under
// /openai/... too. body is the request body as read.
func (s *Server) ServeResponses(w http.ResponseWriter, r *http.Request, b Behavior, body []byte) {
	if b.Responses.Unsupported {
		Error(w, 404, "invalid_request_error", "", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
		return
	}
	_, tail, _ := strings.Cut(r.URL.Path, "/responses")
	id := strings.TrimPrefix(tail, "/")
	switch {
	case tail == "" && r.Method == http.MethodPost:
		s.createResponse(w, r, b, body)
	case id != "" && !strings.Contains(id, "/") && r.Method == http.MethodGet:
		raw, ok := s.responses.get(id)
		if !ok {
			responsesError(w, 404, "", "", "Response with id '"+id+"' not found.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(raw)
	case id != "" && !strings.Contains(id, "/") && r.Method == http.MethodDelete:
		if !s.responses.remove(id) {
			responsesError(w, 404, "", "", "Response with id '"+id+"' not found.")
			return
		}
		writeJSON(w, map[string]any{"id": id, "object": "response", "deleted": true})
	case strings.HasSuffix(id, "/input_items") && r.Method == http.MethodGet:
		id = strings.TrimSuffix(id, "/input_items")
		page, ok := s.responses.inputPage(id, r)
		if !ok {
			responsesError(w, 404, "", "", "Response with id '"+id+"' not found.")
			return
		}
		writeJSON(w, page)
	case strings.HasSuffix(id, "/cancel") && r.Method == http.MethodPost:
		id = strings.TrimSuffix(id, "/cancel")
		if _, ok := s.responses.get(id); !ok {
			responsesError(w, 404, "", "", "Response with id '"+id+"' not found.")
			return
		}
		responsesError(w, 400, "", "", "Only responses created with background=true can be cancelled.")
	default:
		Error(w, 404, "invalid_request_error", "", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
	}
}

// responsesRequest is what the fake reads of a create call.
type responsesRequest struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       *string           `json:"instructions"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	Reasoning          json.RawMessage   `json:"reasoning"`
	Text               json.RawMessage   `json:"text"`
	Stream             bool              `json:"stream"`
	Store              *bool             `json:"store"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Metadata           json.RawMessage   `json:"metadata"`
	User               *string           `json:"user"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
}

// validInput checks input as the API does: a string, or an array of items
// that are messages (role + content) or typed items.
func validInput(raw json.RawMessage) (param, msg string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "", ""
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return "input", "Invalid type for 'input': expected one of a string or array of input items."
	}
	for i, it := range items {
		var typ, role string
		_ = json.Unmarshal(it["type"], &typ)
		_ = json.Unmarshal(it["role"], &role)
		switch {
		case typ == "function_call":
			var call, name string
			if json.Unmarshal(it["call_id"], &call) != nil || call == "" || json.Unmarshal(it["name"], &name) != nil || name == "" {
				return fmt.Sprintf("input[%d]", i), fmt.Sprintf("Missing required parameter: 'input[%d].call_id'.", i)
			}
		case typ == "function_call_output":
			var call string
			if json.Unmarshal(it["call_id"], &call) != nil || call == "" {
				return fmt.Sprintf("input[%d].call_id", i), fmt.Sprintf("Missing required parameter: 'input[%d].call_id'.", i)
			}
		case typ == "reasoning", typ == "item_reference":
		case typ == "" || typ == "message":
			switch role {
			case "user", "assistant", "system", "developer":
			default:
				return fmt.Sprintf("input[%d].role", i), fmt.Sprintf("Invalid value: '%s'. Supported values are: 'assistant', 'system', 'developer', and 'user'.", role)
			}
			if _, ok := it["content"]; !ok {
				return fmt.Sprintf("input[%d].content", i), fmt.Sprintf("Missing required parameter: 'input[%d].content'.", i)
			}
		default:
			return fmt.Sprintf("input[%d].type", i), fmt.Sprintf("Invalid value: '%s'.", typ)
		}
	}
	return "", ""
}

func (s *Server) createResponse(w http.ResponseWriter, r *http.Request, b Behavior, body []byte) {
	var req responsesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		responsesError(w, 400, "", "", "We could not parse the JSON body of your request.")
		return
	}
	if req.Model == "" {
		responsesError(w, 400, "missing_required_parameter", "model", "Missing required parameter: 'model'.")
		return
	}
	if param, msg := validInput(req.Input); msg != "" {
		responsesError(w, 400, "invalid_value", param, msg)
		return
	}
	if req.PreviousResponseID != nil {
		if _, ok := s.responses.get(*req.PreviousResponseID); !ok {
			responsesError(w, 400, "previous_response_not_found", "previous_response_id", "Previous response with id '"+*req.PreviousResponseID+"' not found.")
			return
		}
	}
	wantTools := false
	for i, t := range req.Tools {
		var tool struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		if json.Unmarshal(t, &tool) != nil || tool.Type == "" {
			responsesError(w, 400, "missing_required_parameter", fmt.Sprintf("tools[%d].type", i), fmt.Sprintf("Missing required parameter: 'tools[%d].type'.", i))
			return
		}
		if tool.Type == "function" {
			if tool.Name == "" {
				responsesError(w, 400, "missing_required_parameter", fmt.Sprintf("tools[%d].name", i), fmt.Sprintf("Missing required parameter: 'tools[%d].name'.", i))
				return
			}
			wantTools = true
		}
	}
	if string(req.ToolChoice) == `"none"` {
		wantTools = false
	}
	a := newAnswer(b, &req, wantTools)
	if (req.Store == nil || *req.Store) && !b.Responses.FailMidStream {
		// Stored before the answer goes out, so a GET right after it
		// finds it.
		s.responses.put(a.id, a.response(a.finalStatus(), true))
		s.responses.putInput(a.id, req.Input)
	}
	if !req.Stream {
		out := a.response(a.finalStatus(), true)
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
	s.streamResponse(w, r, b, a)
}

// answer is one generated Responses answer, built before it is sent.
type answer struct {
	b         Behavior
	req       *responsesRequest
	id        string
	created   int64
	tools     bool
	pieces    []string // text deltas, or argument deltas for a tool call
	incomplet bool
	msgID     string
	fcID      string
	callID    string
	rsID      string
}

const fakeArguments = `{"city": "Paris"}`

func newAnswer(b Behavior, req *responsesRequest, tools bool) *answer {
	if b.Chunks <= 0 {
		b.Chunks = 3
	}
	if b.PromptTokens <= 0 {
		b.PromptTokens = 9
	}
	if b.Reply == "" {
		b.Reply = "Hello from the fake upstream"
	}
	a := &answer{b: b, req: req, id: newID("resp_"), created: time.Now().Unix(), tools: tools,
		msgID: newID("msg_"), fcID: newID("fc_"), callID: newID("call_"), rsID: newID("rs_")}
	if tools {
		a.pieces = pieces(fakeArguments, b.Chunks)
	} else {
		a.pieces = pieces(b.Reply, b.Chunks)
		// One output token per piece: a budget below that cuts the answer.
		if m := req.MaxOutputTokens; m != nil && *m > 0 && *m < len(a.pieces) {
			a.pieces, a.incomplet = a.pieces[:*m], true
		}
	}
	return a
}

func (a *answer) finalStatus() string {
	if a.incomplet {
		return "incomplete"
	}
	return "completed"
}

func (a *answer) text() string { return strings.Join(a.pieces, "") }

func (a *answer) reasoningItem() map[string]any {
	return map[string]any{"id": a.rsID, "type": "reasoning", "summary": []any{}}
}

func (a *answer) messageItem(status string, content []any) map[string]any {
	return map[string]any{"id": a.msgID, "type": "message", "status": status, "role": "assistant", "content": content}
}

func outputText(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
}

func (a *answer) callItem(status, args string) map[string]any {
	return map[string]any{"id": a.fcID, "type": "function_call", "status": status, "arguments": args, "call_id": a.callID, "name": "get_weather"}
}

// output is the answer's finished output items.
func (a *answer) output() []any {
	var out []any
	if a.b.ReasoningTokens > 0 {
		out = append(out, a.reasoningItem())
	}
	if a.tools {
		return append(out, a.callItem("completed", fakeArguments))
	}
	status := "completed"
	if a.incomplet {
		status = "incomplete"
	}
	return append(out, a.messageItem(status, []any{outputText(a.text())}))
}

func (a *answer) usage() map[string]any {
	out := len(a.pieces) + a.b.ReasoningTokens
	return map[string]any{
		"input_tokens":          a.b.PromptTokens,
		"input_tokens_details":  map[string]int{"cached_tokens": a.b.CachedTokens},
		"output_tokens":         out,
		"output_tokens_details": map[string]int{"reasoning_tokens": a.b.ReasoningTokens},
		"total_tokens":          a.b.PromptTokens + out,
	}
}

// response is the Response object in a given status; final ones carry the
// output and usage.
func (a *answer) response(status string, final bool) map[string]any {
	raw := func(v json.RawMessage, def any) any {
		if len(v) == 0 {
			return def
		}
		return v
	}
	tools := any([]any{})
	if len(a.req.Tools) > 0 {
		tools = a.req.Tools
	}
	temperature, topP := 1.0, 1.0
	if a.req.Temperature != nil {
		temperature = *a.req.Temperature
	}
	if a.req.TopP != nil {
		topP = *a.req.TopP
	}
	store := a.req.Store == nil || *a.req.Store
	out := map[string]any{
		"id": a.id, "object": "response", "created_at": a.created, "status": status,
		"background": false, "error": nil, "incomplete_details": nil,
		"instructions": a.req.Instructions, "max_output_tokens": a.req.MaxOutputTokens, "max_tool_calls": nil,
		"model": a.req.Model, "output": []any{}, "parallel_tool_calls": a.req.ParallelToolCalls == nil || *a.req.ParallelToolCalls,
		"previous_response_id": a.req.PreviousResponseID,
		"reasoning":            raw(a.req.Reasoning, map[string]any{"effort": nil, "summary": nil}),
		"service_tier":         "default", "store": store, "temperature": temperature,
		"text":        raw(a.req.Text, map[string]any{"format": map[string]string{"type": "text"}}),
		"tool_choice": raw(a.req.ToolChoice, "auto"), "tools": tools, "top_logprobs": 0, "top_p": topP,
		"truncation": "disabled", "usage": nil, "user": a.req.User, "metadata": raw(a.req.Metadata, map[string]any{}),
	}
	if final {
		out["output"] = a.output()
		if !a.b.NoUsage {
			out["usage"] = a.usage()
		}
		if a.incomplet {
			out["incomplete_details"] = map[string]string{"reason": "max_output_tokens"}
		}
	}
	return out
}

func (s *Server) streamResponse(w http.ResponseWriter, r *http.Request, b Behavior, a *answer) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if b.FirstChunkDelay > 0 && !sleep(r, b.FirstChunkDelay) {
		s.cancels.Add(1)
		return
	}
	seq := 0
	content := 0 // content events sent, for DropAfter
	send := func(typ string, v map[string]any) bool {
		v["type"], v["sequence_number"] = typ, seq
		seq++
		raw, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, raw); err != nil {
			s.cancels.Add(1)
			return false
		}
		if rc.Flush() != nil {
			s.cancels.Add(1)
			return false
		}
		return true
	}
	// delta paces and sends one content event, honouring DropAfter and
	// ChunkDelay as the chat stream does.
	delta := func(typ string, v map[string]any) bool {
		if b.DropAfter > 0 && content >= b.DropAfter {
			panic(http.ErrAbortHandler)
		}
		if content > 0 && b.ChunkDelay > 0 && !sleep(r, b.ChunkDelay) {
			s.cancels.Add(1)
			return false
		}
		content++
		return send(typ, v)
	}
	if !send("response.created", map[string]any{"response": a.response("in_progress", false)}) ||
		!send("response.in_progress", map[string]any{"response": a.response("in_progress", false)}) {
		return
	}
	idx := 0
	if b.ReasoningTokens > 0 {
		if !send("response.output_item.added", map[string]any{"output_index": idx, "item": a.reasoningItem()}) ||
			!send("response.output_item.done", map[string]any{"output_index": idx, "item": a.reasoningItem()}) {
			return
		}
		idx++
	}
	if a.tools {
		if !send("response.output_item.added", map[string]any{"output_index": idx, "item": a.callItem("in_progress", "")}) {
			return
		}
		for _, p := range a.pieces {
			if !delta("response.function_call_arguments.delta", map[string]any{"item_id": a.fcID, "output_index": idx, "delta": p}) {
				return
			}
		}
		if !send("response.function_call_arguments.done", map[string]any{"item_id": a.fcID, "output_index": idx, "arguments": fakeArguments}) ||
			!send("response.output_item.done", map[string]any{"output_index": idx, "item": a.callItem("completed", fakeArguments)}) {
			return
		}
	} else {
		at := map[string]any{"item_id": a.msgID, "output_index": idx, "content_index": 0}
		with := func(k string, v any) map[string]any {
			m := map[string]any{k: v}
			for k, v := range at {
				m[k] = v
			}
			return m
		}
		if !send("response.output_item.added", map[string]any{"output_index": idx, "item": a.messageItem("in_progress", []any{})}) ||
			!send("response.content_part.added", with("part", map[string]any{"type": "output_text", "text": "", "annotations": []any{}})) {
			return
		}
		for i, p := range a.pieces {
			ev := with("delta", p)
			ev["logprobs"] = []any{}
			if !delta("response.output_text.delta", ev) {
				return
			}
			if i == 0 && b.Responses.FailMidStream {
				failed := a.response("failed", false)
				failed["error"] = map[string]string{"code": "server_error", "message": "The model produced invalid content."}
				if send("error", map[string]any{"code": "server_error", "message": "The model produced invalid content.", "param": nil}) {
					send("response.failed", map[string]any{"response": failed})
				}
				return
			}
		}
		done := with("text", a.text())
		done["logprobs"] = []any{}
		status := "completed"
		if a.incomplet {
			status = "incomplete"
		}
		if !send("response.output_text.done", done) ||
			!send("response.content_part.done", with("part", outputText(a.text()))) ||
			!send("response.output_item.done", map[string]any{"output_index": idx, "item": a.messageItem(status, []any{outputText(a.text())})}) {
			return
		}
	}
	if a.incomplet {
		send("response.incomplete", map[string]any{"response": a.response("incomplete", true)})
		return
	}
	send("response.completed", map[string]any{"response": a.response("completed", true)})
}

// azureResponses answers Azure's v1 surface, /openai/v1/responses[/{id}]:
// no api-version, the key in api-key, the deployment as the body's model
// (404 DeploymentNotFound when deployments are listed and it is not one).
func (s *Server) azureResponses(w http.ResponseWriter, r *http.Request, b Behavior, body []byte, deployments []string, path string) {
	if b.Key != "" && r.Header.Get("api-key") != b.Key {
		azureError(w, 401, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.", nil)
		return
	}
	if r.Method == http.MethodPost && len(deployments) > 0 {
		var req struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(body, &req)
		found := false
		for _, d := range deployments {
			found = found || d == req.Model
		}
		if !found {
			azureError(w, 404, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.", nil)
			return
		}
	}
	s.openAI(w, r, b, body, r.Header.Get("api-key"), path)
}
