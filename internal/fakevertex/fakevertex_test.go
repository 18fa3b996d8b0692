package fakevertex

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"golang.org/x/oauth2/google"
	"google.golang.org/genai"

	"switchyard/internal/fakegemini"
)

// golang.org/x/oauth2/google is what a Vertex channel signs in with; the
// fake's token endpoint must take its JWT grant.
func TestServiceAccountSignsIn(t *testing.T) {
	s := Start("proj-1", "us-east5", Behavior{})
	defer s.Close()
	ctx := context.Background()
	creds, err := google.CredentialsFromJSON(ctx, []byte(s.ServiceAccountJSON()), "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil || tok.AccessToken == "" || s.TokensMinted() != 1 {
		t.Fatalf("token: %v %+v", err, tok)
	}
	call := func(path, body string) (int, string) { return post(t, s.URL+path, tok.AccessToken, body) }
	base := "/v1/projects/proj-1/locations/us-east5/publishers/"
	if st, body := call(base+"anthropic/models/claude-sonnet-4-5@20250929:rawPredict", `{"anthropic_version":"vertex-2023-10-16","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`); st != 200 || !strings.Contains(body, "Hello from fake Claude") {
		t.Fatalf("rawPredict: %d %s", st, body)
	}
	if st, body := call(base+"anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict", `{"anthropic_version":"vertex-2023-10-16","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}`); st != 200 || !strings.Contains(body, "event: message_stop") {
		t.Fatalf("streamRawPredict: %d %s", st, body)
	}
	if st, body := call(base+"anthropic/models/claude-sonnet-4-5@20250929:rawPredict", `{"model":"claude","anthropic_version":"vertex-2023-10-16","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`); st != 400 {
		t.Fatalf("model in the body: %d %s", st, body)
	}
	if st, body := call(base+"google/models/gemini-2.5-flash:streamGenerateContent?alt=sse", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`); st != 200 || !strings.Contains(body, "usageMetadata") {
		t.Fatalf("streamGenerateContent: %d %s", st, body)
	}
	if st, _ := call("/v1/projects/other/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`); st != 403 {
		t.Fatalf("other project: %d", st)
	}
	s.Set(Behavior{RevokeAll: true})
	if st, _ := call(base+"google/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`); st != 401 {
		t.Fatalf("revoked token: %d", st)
	}
}

// post sends a JSON body with an access token; it returns the status and
// the reply.
func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// sdkClient is the genai SDK on the Vertex backend, signed in with s's
// service account for project proj-1 in region.
func sdkClient(t *testing.T, s *Server, region string) (*genai.Client, *auth.Credentials) {
	t.Helper()
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{CredentialsJSON: []byte(s.ServiceAccountJSON()), Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "proj-1", Location: region, Credentials: creds,
		HTTPOptions: genai.HTTPOptions{BaseURL: s.URL, APIVersion: "v1"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, creds
}

// The genai SDK on the Vertex backend is the judge of predict's wire
// format for text embeddings.
func TestEmbeddingsSpeakWhatTheSDKReads(t *testing.T) {
	s := Start("proj-1", "us-central1", Behavior{})
	defer s.Close()
	ctx := context.Background()
	c, _ := sdkClient(t, s, "us-central1")
	dims := int32(2)
	resp, err := c.Models.EmbedContent(ctx, "text-embedding-005", []*genai.Content{genai.NewContentFromText("one two three", genai.RoleUser), genai.NewContentFromText("four", genai.RoleUser)},
		&genai.EmbedContentConfig{OutputDimensionality: &dims, TaskType: "RETRIEVAL_DOCUMENT"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Embeddings) != 2 || len(resp.Embeddings[0].Values) != 2 || resp.Embeddings[0].Statistics.TokenCount != 3 || resp.Embeddings[1].Statistics.TokenCount != 1 {
		t.Fatalf("embeddings %+v", resp.Embeddings)
	}
	if !strings.HasSuffix(s.Last().Path, "/publishers/google/models/text-embedding-005:predict") {
		t.Fatalf("path %s", s.Last().Path)
	}
	_, err = c.Models.EmbedContent(ctx, "gemini-embedding-001", []*genai.Content{genai.NewContentFromText("a", genai.RoleUser), genai.NewContentFromText("b", genai.RoleUser)}, nil)
	if err == nil || !strings.Contains(err.Error(), "up to 1 instances") {
		t.Fatalf("two texts to gemini-embedding-001: %v", err)
	}
}

// The genai SDK on the Vertex backend judges countTokens' wire format
// (contents and systemInstruction at the top level); Claude's
// count-tokens:rawPredict wants the model in the body and no max_tokens.
func TestCountTokensSpeakWhatTheSDKSends(t *testing.T) {
	s := Start("proj-1", "us-east5", Behavior{Gemini: fakegemini.Behavior{PromptTokens: 31}})
	defer s.Close()
	ctx := context.Background()
	c, creds := sdkClient(t, s, "us-east5")
	n, err := c.Models.CountTokens(ctx, "gemini-2.5-flash", genai.Text("one two three"),
		&genai.CountTokensConfig{SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser)})
	if err != nil || n.TotalTokens != 31 {
		t.Fatalf("countTokens: %v %+v", err, n)
	}
	if last := s.Last(); !strings.HasSuffix(last.Path, "/publishers/google/models/gemini-2.5-flash:countTokens") || !strings.Contains(string(last.Body), `"systemInstruction"`) {
		t.Fatalf("countTokens call %s %s", last.Path, last.Body)
	}

	tok, err := creds.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := func(body string) (int, string) {
		return post(t, s.URL+"/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict", tok.Value, body)
	}
	if st, body := count(`{"model":"claude-sonnet-4-5@20250929","messages":[{"role":"user","content":"one two three"}]}`); st != 200 || body != "{\"input_tokens\":10}\n" {
		t.Fatalf("count-tokens: %d %s", st, body)
	}
	for _, bad := range []string{
		`{"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"claude-sonnet-4-5@20250929","messages":[]}`,
		`{"model":"claude-sonnet-4-5@20250929","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":`,
	} {
		if st, body := count(bad); st != 400 || !strings.Contains(body, `"invalid_request_error"`) {
			t.Fatalf("count-tokens with %s: %d %s", bad, st, body)
		}
	}
}
