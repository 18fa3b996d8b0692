// Package fakebedrock is a test Amazon Bedrock runtime. It checks every
// request's SigV4 signature by recomputing it with the AWS SDK's own
// signer over the canonical request (so a relay that signs wrongly, or
// signs a body other than the one it sends, is refused with
// InvalidSignatureException as Bedrock refuses it), and answers
//
//	POST /model/{modelId}/invoke                       Anthropic Messages JSON
//	POST /model/{modelId}/invoke-with-response-stream  AWS event stream of "chunk" events
//	POST /model/{modelId}/converse                     Converse JSON
//	POST /model/{modelId}/converse-stream              AWS event stream of Converse events
//	POST /model/{modelId}/count-tokens                 {"inputTokens"} (Anthropic models)
//	GET  /foundation-models                            ListFoundationModels (byOutputModality honoured)
//	GET  /inference-profiles                           ListInferenceProfiles, two a page by nextToken
//
// framed with the SDK's eventstream encoder. Errors are Bedrock's JSON
// {"message"} with the x-amzn-ErrorType header.
package fakebedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"switchyard/internal/fakeclaude"
	"switchyard/internal/fakekit"
	"switchyard/internal/fakeupstream"
)

// AnthropicVersion is the anthropic_version Bedrock requires in an
// InvokeModel body for Claude.
const AnthropicVersion = "bedrock-2023-05-31"

// Behavior is how the server answers.
type Behavior struct {
	// Claude shapes Anthropic answers (InvokeModel) and the text and
	// usage of Converse answers.
	Claude fakeclaude.Behavior
	// FailStatus answers every call with this status and Bedrock's error
	// for it: 429 ThrottlingException, 400 ValidationException, 403
	// AccessDeniedException, 500 InternalServerException, 503
	// ServiceUnavailableException.
	FailStatus int
	// StreamException, when set (e.g. "throttlingException"), ends a
	// stream after its first event with an exception message.
	StreamException string
	// Models are what ListFoundationModels lists.
	Models []Model
	// Profiles are what ListInferenceProfiles lists.
	Profiles []Profile
}

// Model is one foundation model's summary.
type Model struct {
	ID string
	// Output is its output modality: TEXT, IMAGE or EMBEDDING.
	Output string
	// Inference lists how it is called: ON_DEMAND, PROVISIONED,
	// INFERENCE_PROFILE.
	Inference []string
	// Status is ACTIVE or LEGACY.
	Status string
}

// Profile is one inference profile's summary.
type Profile struct {
	ID     string
	Status string // ACTIVE
}

// Server is a running fake Bedrock runtime for one account and region.
type Server struct {
	*httptest.Server
	AccessKey, SecretKey, Region string

	// Current and Recorder give Set, Behavior, CallsTo (by operation)
	// and Last.
	fakekit.Current[Behavior]
	fakekit.Recorder
}

// Call is a request received; its path is the escaped one, as signed.
type Call = fakekit.Call

// Start runs a fake Bedrock runtime accepting one key pair in region.
func Start(accessKey, secretKey, region string, b Behavior) *Server {
	s := &Server{AccessKey: accessKey, SecretKey: secretKey, Region: region}
	s.Set(b)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Error writes Bedrock's error reply.
func Error(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.Header().Set("X-Amzn-RequestId", "00000000-fake-0000-0000-000000000000")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := s.Keep(r, r.URL.EscapedPath())
	if typ, msg := s.checkSignature(r, body); typ != "" {
		Error(w, 403, typ, msg)
		return
	}
	if r.Method == http.MethodGet {
		s.control(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/model/")
	i := strings.LastIndex(rest, "/")
	if !ok || i <= 0 || r.Method != http.MethodPost {
		Error(w, 404, "UnknownOperationException", "")
		return
	}
	modelID, op := rest[:i], rest[i+1:]
	s.Count(op)
	b := s.Behavior()
	if b.FailStatus != 0 {
		fail(w, b.FailStatus)
		return
	}
	switch op {
	case "count-tokens":
		countTokens(w, modelID, body)
	case "invoke", "invoke-with-response-stream":
		if !strings.Contains(modelID, "anthropic.") {
			Error(w, 400, "ValidationException", "The fake serves InvokeModel for Anthropic models only; use Converse for "+modelID+".")
			return
		}
		q, msg := invokeBody(body)
		if msg != "" {
			Error(w, 400, "ValidationException", msg)
			return
		}
		if op == "invoke" {
			m := fakeclaude.Message(b.Claude, modelID, q)
			u := m["usage"].(map[string]any)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", jsonNum(u["input_tokens"]))
			w.Header().Set("X-Amzn-Bedrock-Output-Token-Count", jsonNum(u["output_tokens"]))
			_ = json.NewEncoder(w).Encode(m)
			return
		}
		s.invokeStream(w, r, b, modelID, q)
	case "converse", "converse-stream":
		var q converseRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			Error(w, 400, "ValidationException", "Malformed input request: "+err.Error()+", please reformat your input and try again.")
			return
		}
		if msg := q.validate(); msg != "" {
			Error(w, 400, "ValidationException", msg)
			return
		}
		if op == "converse" {
			writeJSON(w, converse(b, &q))
			return
		}
		s.converseStream(w, r, b, &q)
	default:
		Error(w, 404, "UnknownOperationException", "")
	}
}

// control answers the control plane's two list calls.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	b := s.Behavior()
	s.Count(r.URL.Path)
	if b.FailStatus != 0 {
		fail(w, b.FailStatus)
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/foundation-models":
		summaries := []map[string]any{}
		for _, m := range b.Models {
			if want := q.Get("byOutputModality"); want != "" && want != m.Output {
				continue
			}
			summaries = append(summaries, map[string]any{
				"modelArn": "arn:aws:bedrock:" + s.Region + "::foundation-model/" + m.ID, "modelId": m.ID,
				"modelName": m.ID, "providerName": strings.SplitN(m.ID, ".", 2)[0],
				"inputModalities": []string{"TEXT"}, "outputModalities": []string{m.Output},
				"responseStreamingSupported": true, "customizationsSupported": []string{},
				"inferenceTypesSupported": m.Inference, "modelLifecycle": map[string]string{"status": m.Status},
			})
		}
		writeJSON(w, map[string]any{"modelSummaries": summaries})
	case "/inference-profiles":
		start := 0
		if tok := q.Get("nextToken"); tok != "" {
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n > len(b.Profiles) {
				Error(w, 400, "ValidationException", "Invalid pagination token")
				return
			}
			start = n
		}
		end := min(start+2, len(b.Profiles))
		page := []map[string]any{}
		for _, p := range b.Profiles[start:end] {
			page = append(page, map[string]any{
				"inferenceProfileId": p.ID, "inferenceProfileName": p.ID, "status": p.Status, "type": "SYSTEM_DEFINED",
				"inferenceProfileArn": "arn:aws:bedrock:" + s.Region + "::inference-profile/" + p.ID,
			})
		}
		out := map[string]any{"inferenceProfileSummaries": page}
		if end < len(b.Profiles) {
			out["nextToken"] = strconv.Itoa(end)
		}
		writeJSON(w, out)
	default:
		Error(w, 404, "UnknownOperationException", "")
	}
}

func jsonNum(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// checkSignature recomputes the request's SigV4 signature with the SDK's
// signer from the headers it says it signed, and compares.
func (s *Server) checkSignature(r *http.Request, body []byte) (typ, msg string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "MissingAuthenticationTokenException", "Missing Authentication Token"
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" {
		return "IncompleteSignatureException", "Authorization header requires 'Credential' parameter."
	}
	if cred[0] != s.AccessKey {
		return "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	if cred[2] != s.Region || cred[3] != "bedrock" {
		return "InvalidSignatureException", "Credential should be scoped to a valid region and to the service bedrock."
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	}
	if d := time.Since(when); d > 5*time.Minute || d < -5*time.Minute {
		return "InvalidSignatureException", "Signature expired: " + r.Header.Get("X-Amz-Date") + " is now earlier than the allowed window."
	}
	u, err := url.Parse("http://" + r.Host + r.RequestURI)
	if err != nil {
		return "InvalidSignatureException", "bad request URI"
	}
	clone, _ := http.NewRequest(r.Method, u.String(), nil)
	clone.URL = u
	clone.Host = r.Host
	clone.ContentLength = r.ContentLength
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h == "host" {
			continue
		}
		for _, v := range r.Header.Values(h) {
			clone.Header.Add(h, v)
		}
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" && got != hash {
		return "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."
	}
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hash, "bedrock", s.Region, when); err != nil {
		return "InvalidSignatureException", err.Error()
	}
	want := clone.Header.Get("Authorization")
	wantSig := want[strings.LastIndex(want, "Signature=")+len("Signature="):]
	if wantSig != fields["Signature"] {
		return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	}
	return "", ""
}

func fail(w http.ResponseWriter, status int) {
	switch status {
	case 429:
		Error(w, 429, "ThrottlingException", "Too many requests, please wait before trying again.")
	case 400:
		Error(w, 400, "ValidationException", "The provided request is not valid")
	case 403:
		Error(w, 403, "AccessDeniedException", "You don't have access to the model with the specified model ID.")
	case 503:
		Error(w, 503, "ServiceUnavailableException", "Bedrock is unable to process your request.")
	default:
		Error(w, status, "InternalServerException", "The server encountered an error processing your request.")
	}
}

// invokeBody reads an InvokeModel body for Claude: Anthropic's Messages
// body with anthropic_version and without model or stream, which Bedrock
// calls extraneous keys.
func invokeBody(body []byte) (*fakeclaude.Request, string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, "Malformed input request: expected a JSON object, please reformat your input and try again."
	}
	for _, k := range []string{"model", "stream"} {
		if _, ok := raw[k]; ok {
			return nil, "Malformed input request: #: extraneous key [" + k + "] is not permitted, please reformat your input and try again."
		}
	}
	q, msg := fakeclaude.Parse(body)
	if msg != "" {
		return nil, "Malformed input request: " + msg + ", please reformat your input and try again."
	}
	if q.AnthropicVersion != AnthropicVersion {
		return nil, "Malformed input request: #/anthropic_version: " + AnthropicVersion + " expected, please reformat your input and try again."
	}
	return q, ""
}

// countTokens answers CountTokens for an InvokeModel body (the blob in
// input.invokeModel.body): {"inputTokens"}, counted as the Anthropic fake
// counts (fakeupstream.CountTokens). As on Bedrock, only Anthropic's
// models count, by their bare foundation model id.
func countTokens(w http.ResponseWriter, modelID string, body []byte) {
	if !strings.HasPrefix(modelID, "anthropic.") {
		Error(w, 400, "ValidationException", "The provided model doesn't support counting tokens.")
		return
	}
	var q struct {
		Input struct {
			InvokeModel *struct {
				Body []byte `json:"body"`
			} `json:"invokeModel"`
			Converse json.RawMessage `json:"converse"`
		} `json:"input"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		Error(w, 400, "ValidationException", "Malformed input request: "+err.Error()+", please reformat your input and try again.")
		return
	}
	if q.Input.InvokeModel == nil || len(q.Input.Converse) > 0 {
		Error(w, 400, "ValidationException", "input: exactly one of invokeModel and converse is required (the fake counts invokeModel).")
		return
	}
	if _, msg := invokeBody(q.Input.InvokeModel.Body); msg != "" {
		Error(w, 400, "ValidationException", msg)
		return
	}
	writeJSON(w, map[string]int{"inputTokens": fakeupstream.CountTokens(q.Input.InvokeModel.Body)})
}

// CountedBody is the InvokeModel body a CountTokens request carries (its
// input.invokeModel.body blob); nil when it carries none.
func CountedBody(countRequest []byte) []byte {
	var q struct {
		Input struct {
			InvokeModel struct {
				Body []byte `json:"body"`
			} `json:"invokeModel"`
		} `json:"input"`
	}
	if json.Unmarshal(countRequest, &q) != nil {
		return nil
	}
	return q.Input.InvokeModel.Body
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// eventWriter frames AWS event-stream messages onto a response.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *eventstream.Encoder
}

func newEventWriter(w http.ResponseWriter) *eventWriter {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Bedrock-Content-Type", "application/json")
	w.WriteHeader(200)
	return &eventWriter{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
}

func (e *eventWriter) event(typ string, payload any) bool {
	raw, _ := json.Marshal(payload)
	msg := eventstream.Message{Payload: raw}
	msg.Headers.Set(":event-type", eventstream.StringValue(typ))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Headers.Set(":message-type", eventstream.StringValue("event"))
	if e.enc.Encode(e.w, msg) != nil {
		return false
	}
	return e.rc.Flush() == nil
}

func (e *eventWriter) exception(typ, message string) {
	raw, _ := json.Marshal(map[string]string{"message": message})
	msg := eventstream.Message{Payload: raw}
	msg.Headers.Set(":exception-type", eventstream.StringValue(typ))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
	_ = e.enc.Encode(e.w, msg)
	_ = e.rc.Flush()
}

func (s *Server) invokeStream(w http.ResponseWriter, r *http.Request, b Behavior, modelID string, q *fakeclaude.Request) {
	ew := newEventWriter(w)
	events := fakeclaude.Events(b.Claude, modelID, q)
	m := fakeclaude.Message(b.Claude, modelID, q)
	u := m["usage"].(map[string]any)
	for i, ev := range events {
		data := ev.Data
		if ev.Name == "message_stop" {
			// Bedrock adds the invocation metrics to the last event.
			var obj map[string]any
			_ = json.Unmarshal(data, &obj)
			obj["amazon-bedrock-invocationMetrics"] = map[string]any{"inputTokenCount": u["input_tokens"], "outputTokenCount": u["output_tokens"], "invocationLatency": 120, "firstByteLatency": 40}
			data, _ = json.Marshal(obj)
		}
		if r.Context().Err() != nil || !ew.event("chunk", map[string]string{"bytes": base64.StdEncoding.EncodeToString(data), "p": "abcdefghij"}) {
			return
		}
		if i == 0 && b.StreamException != "" {
			ew.exception(b.StreamException, "Too many requests, please wait before trying again.")
			return
		}
	}
}

// converseRequest is the Converse body; unknown top-level fields are
// refused as Bedrock refuses them.
type converseRequest struct {
	Messages        []converseMessage `json:"messages"`
	System          []map[string]any  `json:"system,omitempty"`
	InferenceConfig *struct {
		MaxTokens     int      `json:"maxTokens,omitempty"`
		Temperature   *float64 `json:"temperature,omitempty"`
		TopP          *float64 `json:"topP,omitempty"`
		StopSequences []string `json:"stopSequences,omitempty"`
	} `json:"inferenceConfig,omitempty"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec struct {
				Name        string `json:"name"`
				Description string `json:"description,omitempty"`
				InputSchema struct {
					JSON json.RawMessage `json:"json"`
				} `json:"inputSchema"`
			} `json:"toolSpec"`
		} `json:"tools"`
		ToolChoice json.RawMessage `json:"toolChoice,omitempty"`
	} `json:"toolConfig,omitempty"`
	AdditionalModelRequestFields json.RawMessage `json:"additionalModelRequestFields,omitempty"`
	PerformanceConfig            json.RawMessage `json:"performanceConfig,omitempty"`
}

type converseMessage struct {
	Role    string           `json:"role"`
	Content []map[string]any `json:"content"`
}

func (q *converseRequest) validate() string {
	if len(q.Messages) == 0 {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	if q.Messages[0].Role != "user" {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	for _, m := range q.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return "1 validation error detected: Value '" + m.Role + "' at 'messages.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]"
		}
		if len(m.Content) == 0 {
			return "The content field in the Message object is empty. Add a ContentBlock object to the content field and try again."
		}
		for _, c := range m.Content {
			if len(c) != 1 {
				return "Each ContentBlock must set exactly one member."
			}
		}
	}
	if q.ToolConfig != nil {
		for _, t := range q.ToolConfig.Tools {
			if t.ToolSpec.Name == "" || len(t.ToolSpec.InputSchema.JSON) == 0 {
				return "The toolSpec requires a name and inputSchema.json."
			}
		}
	}
	return ""
}

func (q *converseRequest) tool() string {
	if q.ToolConfig == nil || len(q.ToolConfig.Tools) == 0 {
		return ""
	}
	for _, c := range q.Messages[len(q.Messages)-1].Content {
		if _, ok := c["toolResult"]; ok {
			return ""
		}
	}
	return q.ToolConfig.Tools[0].ToolSpec.Name
}

func claudeDefaults(b fakeclaude.Behavior) fakeclaude.Behavior {
	if b.Reply == "" {
		b.Reply = "Hello from fake Bedrock"
	}
	if b.Chunks <= 0 {
		b.Chunks = 3
	}
	if b.InputTokens <= 0 {
		b.InputTokens = 9
	}
	return b
}

func converseUsage(b fakeclaude.Behavior) map[string]any {
	u := map[string]any{"inputTokens": b.InputTokens, "outputTokens": b.Chunks, "totalTokens": b.InputTokens + b.CacheRead + b.CacheCreation + b.Chunks}
	if b.CacheRead > 0 {
		u["cacheReadInputTokens"] = b.CacheRead
	}
	if b.CacheCreation > 0 {
		u["cacheWriteInputTokens"] = b.CacheCreation
	}
	return u
}

func converse(b Behavior, q *converseRequest) map[string]any {
	c := claudeDefaults(b.Claude)
	content := []any{map[string]any{"text": c.Reply}}
	stop := "end_turn"
	if name := q.tool(); name != "" {
		var input map[string]any
		_ = json.Unmarshal([]byte(fakeclaude.ToolInput), &input)
		content = []any{map[string]any{"toolUse": map[string]any{"toolUseId": "tooluse_fake01", "name": name, "input": input}}}
		stop = "tool_use"
	}
	return map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stop, "usage": converseUsage(c), "metrics": map[string]any{"latencyMs": 120},
	}
}

func (s *Server) converseStream(w http.ResponseWriter, r *http.Request, b Behavior, q *converseRequest) {
	c := claudeDefaults(b.Claude)
	ew := newEventWriter(w)
	type ev struct {
		typ     string
		payload map[string]any
	}
	events := []ev{{"messageStart", map[string]any{"role": "assistant"}}}
	stop := "end_turn"
	if name := q.tool(); name != "" {
		stop = "tool_use"
		events = append(events, ev{"contentBlockStart", map[string]any{"contentBlockIndex": 0, "start": map[string]any{"toolUse": map[string]any{"toolUseId": "tooluse_fake01", "name": name}}}})
		for _, p := range pieces(fakeclaude.ToolInput, c.Chunks) {
			events = append(events, ev{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"toolUse": map[string]any{"input": p}}}})
		}
	} else {
		for _, p := range pieces(c.Reply, c.Chunks) {
			events = append(events, ev{"contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": p}}})
		}
	}
	events = append(events,
		ev{"contentBlockStop", map[string]any{"contentBlockIndex": 0}},
		ev{"messageStop", map[string]any{"stopReason": stop}},
		ev{"metadata", map[string]any{"usage": converseUsage(c), "metrics": map[string]any{"latencyMs": 120}}},
	)
	for i, e := range events {
		e.payload["p"] = "abcdefghijklmnop"
		if r.Context().Err() != nil || !ew.event(e.typ, e.payload) {
			return
		}
		if i == 0 && b.StreamException != "" {
			ew.exception(b.StreamException, "Too many requests, please wait before trying again.")
			return
		}
	}
}

func pieces(s string, n int) []string {
	r := []rune(s)
	out := make([]string, n)
	for i := range out {
		out[i] = string(r[i*len(r)/n : (i+1)*len(r)/n])
	}
	return out
}
