// Package fakegemini is a test upstream that speaks the Gemini API's wire
// format as ai.google.dev documents it: generateContent,
// streamGenerateContent?alt=sse (each chunk a whole GenerateContentResponse
// with cumulative usageMetadata, frames ended by "\r\n\r\n", no end marker),
// batchEmbedContents, function calls, thought parts, safety blocks
// (promptFeedback.blockReason, finishReason SAFETY), countTokens (contents
// or a generateContentRequest, answered totalTokens) and Google's error body
// {"error":{"code","message","status","details"}}. Unknown request fields
// are refused as the real API refuses them, so an adaptor that sends
// OpenAI field names fails here as it would there.
//
// Serve is exported so that the Vertex AI fake can answer its
// publishers/google paths with the same generator.
package fakegemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"switchyard/internal/fakekit"
)

// Behavior is how the server answers. The zero value answers every call,
// accepting any key.
type Behavior struct {
	// Key, when set, is the only API key accepted (x-goog-api-key or
	// ?key=); others get 400 API_KEY_INVALID, as the Gemini API answers.
	Key string
	// FailStatus answers every call with this status in Google's error
	// shape: 429 RESOURCE_EXHAUSTED (with a RetryInfo of RetryDelay),
	// 500 INTERNAL, 503 UNAVAILABLE, 403 PERMISSION_DENIED, 400
	// INVALID_ARGUMENT, 404 NOT_FOUND.
	FailStatus int
	// FailMessage overrides the message of FailStatus.
	FailMessage string
	// RetryDelay is the RetryInfo.retryDelay of a 429 ("17s" by default).
	RetryDelay string
	// Models, when set, are the only models served; others get 404.
	Models []string
	// Chunks is how many pieces a streamed answer has (default 3).
	Chunks int
	// Reply is the answered text (default "Hello from fake Gemini").
	Reply string
	// Thought, when set, is sent first as a thought part (thought: true).
	Thought string
	// PromptTokens is promptTokenCount (default 9); CachedTokens and
	// ThoughtsTokens add cachedContentTokenCount and thoughtsTokenCount.
	PromptTokens   int
	CachedTokens   int
	ThoughtsTokens int
	// BlockPrompt answers with promptFeedback.blockReason set (e.g.
	// "SAFETY") and no candidates.
	BlockPrompt string
	// FinishReason overrides the final candidate's finishReason (e.g.
	// "SAFETY", "MAX_TOKENS", "RECITATION"); with SAFETY the candidate has
	// no content, as the API sends it.
	FinishReason string
	// DropAfter cuts a stream after this many chunks when > 0.
	DropAfter int
}

// Server is a running fake Gemini API.
type Server struct {
	*httptest.Server
	// Current and Recorder give Set, Behavior, Calls, CallsTo (by
	// method: generateContent, streamGenerateContent, batchEmbedContents)
	// and Last.
	fakekit.Current[Behavior]
	fakekit.Recorder
}

// Call is a request received.
type Call = fakekit.Call

// Start runs a fake Gemini API on a loopback port.
func Start(b Behavior) *Server {
	s := &Server{}
	s.Set(b)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Keep(r, r.URL.Path)
	b := s.Behavior()
	if r.Method == http.MethodGet && r.URL.Path == "/v1beta/models" {
		s.Count("list")
		if authorized(w, r, b) {
			serveModelList(w, r)
		}
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
	if !ok {
		rest, ok = strings.CutPrefix(r.URL.Path, "/v1/models/")
	}
	model, method, found := strings.Cut(rest, ":")
	if !ok || !found {
		Error(w, 404, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.")
		return
	}
	s.Count(method)
	if authorized(w, r, b) {
		Serve(w, r, b, model, method, body)
	}
}

// authorized checks the API key as the Gemini API does (x-goog-api-key
// or ?key=), answering its refusal when it fails.
func authorized(w http.ResponseWriter, r *http.Request, b Behavior) bool {
	if b.Key == "" {
		return true
	}
	key := r.Header.Get("x-goog-api-key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" {
		Error(w, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		return false
	}
	if key != b.Key {
		ErrorWithDetails(w, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
			"metadata": map[string]string{"service": "generativelanguage.googleapis.com"},
		}})
		return false
	}
	return true
}

// ListedModels are what GET /v1beta/models lists, in order.
var ListedModels = []string{"gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001"}

// serveModelList answers models.list: {"models": [...], "nextPageToken"},
// in pages of two (pageSize asks for at most that many; the real API's
// pages are larger), so a client's paging is exercised.
func serveModelList(w http.ResponseWriter, r *http.Request) {
	start := 0
	if tok := r.URL.Query().Get("pageToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(ListedModels) {
			Error(w, 400, "INVALID_ARGUMENT", "Invalid page token.")
			return
		}
		start = n
	}
	end := min(start+2, len(ListedModels))
	models := []any{}
	for _, m := range ListedModels[start:end] {
		methods := []string{"generateContent", "countTokens"}
		if strings.Contains(m, "embedding") {
			methods = []string{"embedContent", "countTokens"}
		}
		models = append(models, map[string]any{"name": "models/" + m, "version": "001", "displayName": m,
			"inputTokenLimit": 1048576, "outputTokenLimit": 65536, "supportedGenerationMethods": methods})
	}
	out := map[string]any{"models": models}
	if end < len(ListedModels) {
		out["nextPageToken"] = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(out)
}

// Serve answers one call of method (generateContent, streamGenerateContent,
// batchEmbedContents, countTokens) for model, after authentication.
func Serve(w http.ResponseWriter, r *http.Request, b Behavior, model, method string, body []byte) {
	if r.Method != http.MethodPost {
		Error(w, 405, "INVALID_ARGUMENT", "Method not allowed.")
		return
	}
	if b.FailStatus != 0 {
		fail(w, b)
		return
	}
	if len(b.Models) > 0 && !contains(b.Models, model) {
		Error(w, 404, "NOT_FOUND", "models/"+model+" is not found for API version v1beta, or is not supported for "+method+". Call ListModels to see the list of available models and their supported methods.")
		return
	}
	switch method {
	case "countTokens":
		countTokens(w, b, model, body)
	case "generateContent", "streamGenerateContent":
		var req GenerateRequest
		if !decodeStrict(w, body, &req) {
			return
		}
		if msg := req.validate(); msg != "" {
			Error(w, 400, "INVALID_ARGUMENT", msg)
			return
		}
		switch method {
		case "generateContent":
			writeJSON(w, whole(b, model, &req))
		default:
			if r.URL.Query().Get("alt") != "sse" {
				// Without alt=sse the API streams one JSON array; the
				// relay always asks for SSE, so the fake refuses it to
				// catch an adaptor that forgets.
				Error(w, 400, "INVALID_ARGUMENT", "the fake Gemini API streams only with alt=sse")
				return
			}
			stream(w, r, b, model, &req)
		}
	case "batchEmbedContents":
		embed(w, model, body)
	default:
		Error(w, 404, "NOT_FOUND", "The requested URL was not found on this server.")
	}
}

// GenerateRequest is the body of generateContent as the API accepts it:
// only these top-level fields exist.
type GenerateRequest struct {
	Contents          []Content       `json:"contents"`
	SystemInstruction *Content        `json:"systemInstruction,omitempty"`
	Tools             []Tool          `json:"tools,omitempty"`
	ToolConfig        json.RawMessage `json:"toolConfig,omitempty"`
	SafetySettings    json.RawMessage `json:"safetySettings,omitempty"`
	GenerationConfig  json.RawMessage `json:"generationConfig,omitempty"`
	CachedContent     string          `json:"cachedContent,omitempty"`
	// Labels exist on Vertex AI only; the Vertex fake accepts them.
	Labels map[string]string `json:"labels,omitempty"`
}

// Content is one turn.
type Content struct {
	Role  string `json:"role,omitempty"`
	Parts []Part `json:"parts"`
}

// Part is one piece of a turn. Exactly one data field is set.
type Part struct {
	Text             string          `json:"text,omitempty"`
	Thought          bool            `json:"thought,omitempty"`
	ThoughtSignature string          `json:"thoughtSignature,omitempty"`
	InlineData       *Blob           `json:"inlineData,omitempty"`
	FileData         *FileData       `json:"fileData,omitempty"`
	FunctionCall     json.RawMessage `json:"functionCall,omitempty"`
	FunctionResponse json.RawMessage `json:"functionResponse,omitempty"`
}

// Blob is inline media.
type Blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

// FileData is media by URI.
type FileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

// Tool holds function declarations (other tool kinds are kept raw).
type Tool struct {
	FunctionDeclarations []struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
		// ParametersJsonSchema is the newer JSON-Schema form.
		ParametersJsonSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
	} `json:"functionDeclarations,omitempty"`
	GoogleSearch  json.RawMessage `json:"googleSearch,omitempty"`
	CodeExecution json.RawMessage `json:"codeExecution,omitempty"`
	URLContext    json.RawMessage `json:"urlContext,omitempty"`
}

func (q *GenerateRequest) validate() string {
	if len(q.Contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified\n"
	}
	for i, c := range q.Contents {
		if c.Role != "" && c.Role != "user" && c.Role != "model" && c.Role != "function" {
			return "Please use a valid role: user, model."
		}
		if len(c.Parts) == 0 {
			return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.\n", i)
		}
		for _, p := range c.Parts {
			if p.InlineData != nil && (p.InlineData.MimeType == "" || p.InlineData.Data == "") {
				return "* GenerateContentRequest.contents: inline_data must have mime_type and data\n"
			}
		}
	}
	if q.GenerationConfig != nil {
		var gc map[string]json.RawMessage
		if json.Unmarshal(q.GenerationConfig, &gc) != nil {
			return "Invalid JSON payload received. Unknown name \"generationConfig\"."
		}
		for k := range gc {
			if !generationConfigFields[k] {
				return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at 'generation_config': Cannot find field.", k)
			}
		}
	}
	return ""
}

// generationConfigFields are the fields GenerationConfig has.
var generationConfigFields = map[string]bool{
	"stopSequences": true, "responseMimeType": true, "responseSchema": true, "responseJsonSchema": true,
	"responseModalities": true, "candidateCount": true, "maxOutputTokens": true, "temperature": true,
	"topP": true, "topK": true, "seed": true, "presencePenalty": true, "frequencyPenalty": true,
	"responseLogprobs": true, "logprobs": true, "enableEnhancedCivicAnswers": true, "speechConfig": true,
	"thinkingConfig": true, "mediaResolution": true, "imageConfig": true,
}

func (q *GenerateRequest) functionName() string {
	for _, t := range q.Tools {
		for _, f := range t.FunctionDeclarations {
			return f.Name
		}
	}
	return ""
}

// answeredTools reports whether the last turn carries function responses:
// the model then answers in text.
func (q *GenerateRequest) answeredTools() bool {
	last := q.Contents[len(q.Contents)-1]
	for _, p := range last.Parts {
		if p.FunctionResponse != nil {
			return true
		}
	}
	return false
}

func decodeStrict(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := "Invalid JSON payload received."
		if s := err.Error(); strings.Contains(s, "unknown field") {
			msg = "Invalid JSON payload received. Unknown name " + strings.TrimPrefix(s, "json: unknown field ") + ": Cannot find field."
		}
		Error(w, 400, "INVALID_ARGUMENT", msg)
		return false
	}
	return true
}

func promptTokens(b Behavior) int {
	if b.PromptTokens <= 0 {
		return 9
	}
	return b.PromptTokens
}

func defaults(b *Behavior) {
	if b.Chunks <= 0 {
		b.Chunks = 3
	}
	if b.Reply == "" {
		b.Reply = "Hello from fake Gemini"
	}
	b.PromptTokens = promptTokens(*b)
}

// usage is usageMetadata after candidates tokens were produced.
func usage(b Behavior, candidates int, final bool) map[string]any {
	u := map[string]any{
		"promptTokenCount":    b.PromptTokens,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": b.PromptTokens}},
	}
	total := b.PromptTokens
	if candidates > 0 {
		u["candidatesTokenCount"] = candidates
		total += candidates
	}
	if b.CachedTokens > 0 {
		u["cachedContentTokenCount"] = b.CachedTokens
		u["cacheTokensDetails"] = []any{map[string]any{"modality": "TEXT", "tokenCount": b.CachedTokens}}
	}
	if b.ThoughtsTokens > 0 && (final || b.Thought != "") {
		u["thoughtsTokenCount"] = b.ThoughtsTokens
		total += b.ThoughtsTokens
	}
	u["totalTokenCount"] = total
	return u
}

var safetyRatings = []any{
	map[string]any{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
	map[string]any{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
	map[string]any{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
	map[string]any{"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
}

var blockedRatings = []any{
	map[string]any{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
	map[string]any{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true},
	map[string]any{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
	map[string]any{"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
}

const responseID = "fake-gemini-response-id"

func envelope(model string, candidates []any, u map[string]any) map[string]any {
	out := map[string]any{"usageMetadata": u, "modelVersion": model, "responseId": responseID}
	if candidates != nil {
		out["candidates"] = candidates
	}
	return out
}

func candidate(parts []any, finish string, final bool) map[string]any {
	c := map[string]any{"index": 0}
	if len(parts) > 0 {
		c["content"] = map[string]any{"parts": parts, "role": "model"}
	}
	if final {
		c["finishReason"] = finish
		if finish == "SAFETY" {
			c["safetyRatings"] = blockedRatings
		} else {
			c["safetyRatings"] = safetyRatings
		}
	}
	return c
}

func blocked(b Behavior, model string) map[string]any {
	out := envelope(model, nil, map[string]any{"promptTokenCount": b.PromptTokens, "totalTokenCount": b.PromptTokens})
	out["promptFeedback"] = map[string]any{"blockReason": b.BlockPrompt, "safetyRatings": blockedRatings}
	return out
}

func finishOf(b Behavior) string {
	if b.FinishReason != "" {
		return b.FinishReason
	}
	return "STOP"
}

// The function call the fake makes when the request declares a function.
var callArgs = map[string]any{"city": "Paris"}

func whole(b Behavior, model string, req *GenerateRequest) map[string]any {
	defaults(&b)
	if b.BlockPrompt != "" {
		return blocked(b, model)
	}
	finish := finishOf(b)
	var parts []any
	if b.Thought != "" {
		parts = append(parts, map[string]any{"text": b.Thought, "thought": true})
	}
	completion := b.Chunks
	switch {
	case finish == "SAFETY":
		parts, completion = nil, 0
	case req.functionName() != "" && !req.answeredTools():
		parts = append(parts, map[string]any{"functionCall": map[string]any{"name": req.functionName(), "args": callArgs}, "thoughtSignature": "ZmFrZS1zaWduYXR1cmU="})
	default:
		parts = append(parts, map[string]any{"text": b.Reply})
	}
	return envelope(model, []any{candidate(parts, finish, true)}, usage(b, completion, true))
}

func stream(w http.ResponseWriter, r *http.Request, b Behavior, model string, req *GenerateRequest) {
	defaults(&b)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	rc := http.NewResponseController(w)
	send := func(v map[string]any) bool {
		raw, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\r\n\r\n", raw); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if b.BlockPrompt != "" {
		send(blocked(b, model))
		return
	}
	finish := finishOf(b)
	var chunks []map[string]any
	if b.Thought != "" {
		chunks = append(chunks, envelope(model, []any{candidate([]any{map[string]any{"text": b.Thought, "thought": true}}, "", false)}, usage(b, 0, false)))
	}
	switch {
	case finish == "SAFETY":
		chunks = append(chunks, envelope(model, []any{candidate([]any{map[string]any{"text": pieces(b.Reply, b.Chunks)[0]}}, "", false)}, usage(b, 1, false)))
		chunks = append(chunks, envelope(model, []any{candidate(nil, "SAFETY", true)}, usage(b, 1, true)))
	case req.functionName() != "" && !req.answeredTools():
		// Gemini sends a function call whole, in one chunk.
		part := map[string]any{"functionCall": map[string]any{"name": req.functionName(), "args": callArgs}, "thoughtSignature": "ZmFrZS1zaWduYXR1cmU="}
		chunks = append(chunks, envelope(model, []any{candidate([]any{part}, finish, true)}, usage(b, b.Chunks, true)))
	default:
		ps := pieces(b.Reply, b.Chunks)
		for i, p := range ps {
			last := i == len(ps)-1
			chunks = append(chunks, envelope(model, []any{candidate([]any{map[string]any{"text": p}}, finish, last)}, usage(b, i+1, last)))
		}
	}
	for i, c := range chunks {
		if b.DropAfter > 0 && i >= b.DropAfter {
			panic(http.ErrAbortHandler)
		}
		if r.Context().Err() != nil || !send(c) {
			return
		}
	}
}

// CountRequest is countTokens' body: contents alone, or a whole
// generateContentRequest (which may carry systemInstruction and tools and
// must name its model), never both.
type CountRequest struct {
	Contents               []Content      `json:"contents,omitempty"`
	GenerateContentRequest *CountGenerate `json:"generateContentRequest,omitempty"`
}

// CountGenerate is a generateContent body with its model, as countTokens
// takes it.
type CountGenerate struct {
	Model string `json:"model"`
	GenerateRequest
}

// countTokens answers {"totalTokens", "promptTokensDetails"}: PromptTokens
// (9 by default) for any valid body, so a test tells the upstream's count
// from a local one.
func countTokens(w http.ResponseWriter, b Behavior, model string, body []byte) {
	var req CountRequest
	if !decodeStrict(w, body, &req) {
		return
	}
	q := GenerateRequest{Contents: req.Contents}
	switch {
	case len(req.Contents) > 0 && req.GenerateContentRequest != nil:
		Error(w, 400, "INVALID_ARGUMENT", "contents and generate_content_request are mutually exclusive; set only one.")
		return
	case req.GenerateContentRequest != nil:
		if req.GenerateContentRequest.Model != "models/"+model {
			Error(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("* CountTokensRequest.generate_content_request.model: model %q must be models/%s\n", req.GenerateContentRequest.Model, model))
			return
		}
		q = req.GenerateContentRequest.GenerateRequest
	}
	if msg := q.validate(); msg != "" {
		Error(w, 400, "INVALID_ARGUMENT", msg)
		return
	}
	n := promptTokens(b)
	out := map[string]any{"totalTokens": n, "promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": n}}}
	if b.CachedTokens > 0 {
		out["cachedContentTokenCount"] = b.CachedTokens
	}
	writeJSON(w, out)
}

// VertexCountRequest is Vertex AI's countTokens body: the counted parts
// of a generateContent body at the top level; Vertex has no
// generateContentRequest wrapper.
type VertexCountRequest struct {
	Model             string          `json:"model,omitempty"`
	Instances         json.RawMessage `json:"instances,omitempty"`
	Contents          []Content       `json:"contents"`
	SystemInstruction *Content        `json:"systemInstruction,omitempty"`
	Tools             []Tool          `json:"tools,omitempty"`
	GenerationConfig  json.RawMessage `json:"generationConfig,omitempty"`
}

// CountVertex answers Vertex AI's countTokens for a Gemini model:
// {"totalTokens", "totalBillableCharacters", "promptTokensDetails"}, with
// PromptTokens (9 by default) as the count, as countTokens does.
func CountVertex(w http.ResponseWriter, b Behavior, body []byte) {
	var req VertexCountRequest
	if !decodeStrict(w, body, &req) {
		return
	}
	q := GenerateRequest{Contents: req.Contents, SystemInstruction: req.SystemInstruction, Tools: req.Tools}
	if msg := q.validate(); msg != "" {
		Error(w, 400, "INVALID_ARGUMENT", msg)
		return
	}
	chars := 0
	for _, c := range req.Contents {
		for _, p := range c.Parts {
			chars += len(strings.Join(strings.Fields(p.Text), ""))
		}
	}
	n := promptTokens(b)
	writeJSON(w, map[string]any{"totalTokens": n, "totalBillableCharacters": chars,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": n}}})
}

func embed(w http.ResponseWriter, model string, body []byte) {
	var req struct {
		Requests []struct {
			Model   string  `json:"model"`
			Content Content `json:"content"`
			// TaskType, Title and OutputDimensionality are the request's
			// other fields.
			TaskType             string `json:"taskType,omitempty"`
			Title                string `json:"title,omitempty"`
			OutputDimensionality int    `json:"outputDimensionality,omitempty"`
		} `json:"requests"`
	}
	if !decodeStrict(w, body, &req) {
		return
	}
	if len(req.Requests) == 0 {
		Error(w, 400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: requests is not specified\n")
		return
	}
	out := make([]any, len(req.Requests))
	for i, q := range req.Requests {
		if q.Model != "models/"+model {
			Error(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("Model names should match: request[%d].model %q differs from models/%s", i, q.Model, model))
			return
		}
		if len(q.Content.Parts) == 0 || q.Content.Parts[0].Text == "" {
			Error(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content.parts: contents.parts must not be empty.\n", i))
			return
		}
		n := 3
		if q.OutputDimensionality > 0 && q.OutputDimensionality < 3 {
			n = q.OutputDimensionality
		}
		out[i] = map[string]any{"values": []float64{0.25, -0.5, float64(i) + 0.125}[:n]}
	}
	writeJSON(w, map[string]any{"embeddings": out})
}

func fail(w http.ResponseWriter, b Behavior) {
	msg := b.FailMessage
	switch b.FailStatus {
	case 429:
		if msg == "" {
			msg = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
		}
		delay := b.RetryDelay
		if delay == "" {
			delay = "17s"
		}
		ErrorWithDetails(w, 429, "RESOURCE_EXHAUSTED", msg, []any{
			map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
				"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}}},
			map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
		})
		return
	case 403:
		if msg == "" {
			msg = "Permission denied: Consumer 'api_key:AIza...' has been suspended."
		}
		Error(w, 403, "PERMISSION_DENIED", msg)
		return
	case 400:
		if msg == "" {
			msg = "Request contains an invalid argument."
		}
		Error(w, 400, "INVALID_ARGUMENT", msg)
		return
	case 404:
		if msg == "" {
			msg = "models/unknown is not found for API version v1beta."
		}
		Error(w, 404, "NOT_FOUND", msg)
		return
	case 503:
		if msg == "" {
			msg = "The model is overloaded. Please try again later."
		}
		Error(w, 503, "UNAVAILABLE", msg)
		return
	}
	if msg == "" {
		msg = "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	}
	Error(w, b.FailStatus, "INTERNAL", msg)
}

// Error writes Google's error body.
func Error(w http.ResponseWriter, code int, status, message string) {
	ErrorWithDetails(w, code, status, message, nil)
}

// ErrorWithDetails writes Google's error body with google.rpc details.
func ErrorWithDetails(w http.ResponseWriter, code int, status, message string, details []any) {
	e := map[string]any{"code": code, "message": message, "status": status}
	if details != nil {
		e["details"] = details
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = json.NewEncoder(w).Encode(v)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pieces splits s into n parts by characters that join back to it.
func pieces(s string, n int) []string {
	r := []rune(s)
	out := make([]string, n)
	for i := range out {
		out[i] = string(r[i*len(r)/n : (i+1)*len(r)/n])
	}
	return out
}
