// Package fakevertex is a test Vertex AI: Google's OAuth 2.0 token
// endpoint for service accounts (a JWT-bearer grant whose RS256 signature
// it verifies with the account's public key) and the publisher-model paths
// a Vertex channel calls with the access token it got there:
//
//	/v1/projects/{p}/locations/{r}/publishers/google/models/{m}:generateContent
//	                                                   …:streamGenerateContent?alt=sse
//	/v1/projects/{p}/locations/{r}/publishers/google/models/{m}:predict (text embeddings)
//	/v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:rawPredict
//	                                                      …:streamRawPredict
//
// Gemini answers come from fakegemini; Claude answers are Anthropic
// Messages bodies and SSE (fakeclaude), asked with anthropic_version
// "vertex-2023-10-16" and the model in the path, not the body.
package fakevertex

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchyard/internal/fakeclaude"
	"switchyard/internal/fakegemini"
	"switchyard/internal/fakekit"
	"switchyard/internal/fakeupstream"
)

// AnthropicVersion is the anthropic_version Vertex AI requires in the body.
const AnthropicVersion = "vertex-2023-10-16"

// Behavior is how the server answers.
type Behavior struct {
	// Gemini shapes publishers/google answers (its Key is ignored: Vertex
	// authenticates with the access token).
	Gemini fakegemini.Behavior
	// Claude shapes publishers/anthropic answers.
	Claude fakeclaude.Behavior
	// FailStatus answers every model call with this status in Google's
	// error shape (429 RESOURCE_EXHAUSTED, 403 PERMISSION_DENIED, 500).
	FailStatus int
	// TokenTTL is the lifetime of issued access tokens (default 1 h).
	TokenTTL time.Duration
	// RevokeAll makes every access token issued so far invalid (401).
	RevokeAll bool
}

// Server is a running fake Vertex AI.
type Server struct {
	*httptest.Server
	// Project and Region are the only ones served.
	Project, Region string
	// Email is the service account's client_email.
	Email string
	key   *rsa.PrivateKey

	// Current and Recorder give Set, Behavior, Calls and CallsTo (model
	// calls, by method: generateContent, rawPredict, ...) and Last.
	fakekit.Current[Behavior]
	fakekit.Recorder

	mu     sync.Mutex
	tokens map[string]time.Time // access token → expiry
	minted atomic.Int64
}

// Call is a model call received.
type Call = fakekit.Call

// Start runs a fake Vertex AI for one project and region.
func Start(project, region string, b Behavior) *Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s := &Server{Project: project, Region: region, Email: "relay@" + project + ".iam.gserviceaccount.com", key: key, tokens: map[string]time.Time{}}
	s.Set(b)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// TokensMinted is how many access tokens the token endpoint issued.
func (s *Server) TokensMinted() int64 { return s.minted.Load() }

// TokenURL is the token endpoint, as a service account key names it.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// ServiceAccountJSON is a service account key file (as the console's
// vertex_ai_adc field holds it) whose token_uri is this server.
func (s *Server) ServiceAccountJSON() string {
	der := x509.MarshalPKCS1PrivateKey(s.key)
	raw, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": s.Project, "private_key_id": "fake-key-id",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})),
		"client_email": s.Email, "client_id": "1234567890", "token_uri": s.TokenURL(),
		"auth_uri": "https://accounts.google.com/o/oauth2/auth",
	})
	return string(raw)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		s.token(w, r)
		return
	}
	body := s.Keep(r, r.URL.Path)
	b := s.Behavior()
	// /v1/projects/{p}/locations/{r}/publishers/{pub}/models/{m}:{method}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 9 || parts[0] != "v1" || parts[1] != "projects" || parts[3] != "locations" || parts[5] != "publishers" || parts[7] != "models" {
		fakegemini.Error(w, 404, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.")
		return
	}
	project, region, publisher := parts[2], parts[4], parts[6]
	model, method, ok := strings.Cut(parts[8], ":")
	if !ok {
		fakegemini.Error(w, 404, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.")
		return
	}
	s.Count(method)
	if !s.authorized(r.Header.Get("Authorization"), b) {
		fakegemini.Error(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return
	}
	if project != s.Project || region != s.Region {
		fakegemini.Error(w, 403, "PERMISSION_DENIED", fmt.Sprintf("Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/%s/locations/%s/publishers/%s/models/%s' (or it may not exist).", project, region, publisher, model))
		return
	}
	if b.FailStatus != 0 {
		switch b.FailStatus {
		case 429:
			fakegemini.Error(w, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: "+model+". Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.")
		case 403:
			fakegemini.Error(w, 403, "PERMISSION_DENIED", "Vertex AI API has not been used in project "+project+" before or it is disabled.")
		default:
			fakegemini.Error(w, b.FailStatus, "INTERNAL", "Internal error encountered.")
		}
		return
	}
	switch publisher {
	case "google":
		if method == "predict" {
			predictEmbeddings(w, model, body)
			return
		}
		g := b.Gemini
		g.Key = ""
		if method == "countTokens" {
			fakegemini.CountVertex(w, g, body)
			return
		}
		fakegemini.Serve(w, r, g, model, method, body)
	case "anthropic":
		s.claude(w, r, b.Claude, model, method, body)
	default:
		fakegemini.Error(w, 404, "NOT_FOUND", "Publisher Model `projects/"+project+"/locations/"+region+"/publishers/"+publisher+"/models/"+model+"` not found.")
	}
}

func (s *Server) authorized(h string, b Behavior) bool {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || b.RevokeAll {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func (s *Server) claude(w http.ResponseWriter, r *http.Request, b fakeclaude.Behavior, model, method string, body []byte) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		claudeError(w, 400, "invalid_request_error", "invalid JSON body")
		return
	}
	if model == claudeCountModel {
		claudeCount(w, method, raw, body)
		return
	}
	if _, ok := raw["model"]; ok {
		claudeError(w, 400, "invalid_request_error", "model: Extra inputs are not permitted")
		return
	}
	q, msg := fakeclaude.Parse(body)
	if msg != "" {
		claudeError(w, 400, "invalid_request_error", msg)
		return
	}
	if q.AnthropicVersion != AnthropicVersion {
		claudeError(w, 400, "invalid_request_error", "anthropic_version: Input should be '"+AnthropicVersion+"'")
		return
	}
	switch method {
	case "rawPredict":
		if q.Stream != nil && *q.Stream {
			claudeError(w, 400, "invalid_request_error", "stream: use streamRawPredict to stream")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(fakeclaude.Message(b, model, q))
	case "streamRawPredict":
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(200)
		rc := http.NewResponseController(w)
		for _, ev := range fakeclaude.Events(b, model, q) {
			if _, err := w.Write(ev.SSE()); err != nil || rc.Flush() != nil {
				return
			}
		}
	default:
		fakegemini.Error(w, 404, "NOT_FOUND", "method "+method+" is not served for anthropic models")
	}
}

func claudeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(fakeclaude.ErrorBody(typ, msg))
}

func tokenError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(400)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// token is the JWT-bearer grant of Google's OAuth 2.0 endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenError(w, "invalid_request", "POST an application/x-www-form-urlencoded body")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		tokenError(w, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	claims, err := s.verify(r.PostForm.Get("assertion"))
	if err != nil {
		tokenError(w, "invalid_grant", err.Error())
		return
	}
	if claims.Iss != s.Email || claims.Aud != s.TokenURL() || !strings.Contains(claims.Scope, "https://www.googleapis.com/auth/cloud-platform") {
		tokenError(w, "invalid_grant", "Invalid JWT: iss, aud or scope do not match the service account")
		return
	}
	ttl := s.Behavior().TokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	n := s.minted.Add(1)
	tok := fmt.Sprintf("ya29.fake-access-token-%d", n)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(ttl)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(ttl.Seconds()), "token_type": "Bearer"})
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
}

func (s *Server) verify(assertion string) (*jwtClaims, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("Invalid JWT: not a compact JWS")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(h, &header) != nil || header.Alg != "RS256" {
		return nil, fmt.Errorf("Invalid JWT: header must be RS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	var c jwtClaims
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(p, &c) != nil {
		return nil, fmt.Errorf("Invalid JWT: claims")
	}
	now := time.Now().Unix()
	if c.Exp < now || c.Iat > now+300 {
		return nil, fmt.Errorf("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	}
	return &c, nil
}

// EmbeddingTokens is the token_count the fake reports for one text: one
// per word, so a test can tell Vertex's count from a local one.
func EmbeddingTokens(text string) int { return len(strings.Fields(text)) }

// predictEmbeddings answers a text embedding model's predict as Vertex AI
// documents it: instances of {content, task_type, title}, parameters
// {autoTruncate, outputDimensionality}; one prediction per instance with
// its values and statistics {token_count, truncated}. gemini-embedding-001
// takes one instance per call, the others up to 250.
func predictEmbeddings(w http.ResponseWriter, model string, body []byte) {
	var req struct {
		Instances []struct {
			Content  string `json:"content"`
			TaskType string `json:"task_type,omitempty"`
			Title    string `json:"title,omitempty"`
		} `json:"instances"`
		Parameters *struct {
			AutoTruncate         *bool `json:"autoTruncate,omitempty"`
			OutputDimensionality int   `json:"outputDimensionality,omitempty"`
		} `json:"parameters,omitempty"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fakegemini.Error(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	if !strings.Contains(model, "embedding") {
		fakegemini.Error(w, 400, "FAILED_PRECONDITION", "Model "+model+" does not support predict; use generateContent.")
		return
	}
	limit := 250
	if strings.HasPrefix(model, "gemini-embedding") {
		limit = 1
	}
	switch {
	case len(req.Instances) == 0:
		fakegemini.Error(w, 400, "INVALID_ARGUMENT", "instances must not be empty.")
		return
	case len(req.Instances) > limit:
		fakegemini.Error(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("Unable to submit request because the model supports up to %d instances per request, and %d were sent.", limit, len(req.Instances)))
		return
	}
	dims := 3
	if req.Parameters != nil && req.Parameters.OutputDimensionality > 0 && req.Parameters.OutputDimensionality < dims {
		dims = req.Parameters.OutputDimensionality
	}
	preds := make([]any, len(req.Instances))
	chars := 0
	for i, in := range req.Instances {
		if strings.TrimSpace(in.Content) == "" {
			fakegemini.Error(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("instances[%d].content must not be empty.", i))
			return
		}
		chars += len([]rune(in.Content))
		preds[i] = map[string]any{"embeddings": map[string]any{
			"values":     []float64{0.5, -0.25, float64(i) + 0.75}[:dims],
			"statistics": map[string]any{"token_count": EmbeddingTokens(in.Content), "truncated": false},
		}}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"predictions": preds, "metadata": map[string]any{"billableCharacterCount": chars}})
}

// claudeCountModel is the model Vertex AI publishes Claude's token
// counting as.
const claudeCountModel = "count-tokens"

// claudeCount answers count-tokens:rawPredict: Anthropic's count_tokens
// body, which here must name the model counted for, in; {"input_tokens"}
// out, counted as the Anthropic fake counts (fakeupstream.CountTokens).
func claudeCount(w http.ResponseWriter, method string, raw map[string]json.RawMessage, body []byte) {
	if method != "rawPredict" {
		claudeError(w, 400, "invalid_request_error", "count-tokens is served by rawPredict")
		return
	}
	var model string
	if json.Unmarshal(raw["model"], &model) != nil || !strings.HasPrefix(model, "claude") {
		claudeError(w, 400, "invalid_request_error", "model: Field required")
		return
	}
	var msgs []json.RawMessage
	if json.Unmarshal(raw["messages"], &msgs) != nil || len(msgs) == 0 {
		claudeError(w, 400, "invalid_request_error", "messages: Field required")
		return
	}
	if _, ok := raw["max_tokens"]; ok {
		claudeError(w, 400, "invalid_request_error", "max_tokens: Extra inputs are not permitted")
		return
	}
	n := fakeupstream.CountTokens(body)
	if n < 0 {
		claudeError(w, 400, "invalid_request_error", "invalid JSON body")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"input_tokens": n})
}
