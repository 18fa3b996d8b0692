package fakegemini

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genai"
)

func client(t *testing.T, url, key string) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{APIKey: key, Backend: genai.BackendGeminiAPI, HTTPOptions: genai.HTTPOptions{BaseURL: url}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The official SDK is the judge of the fake's wire format: whatever it
// reads here, it reads from the real API.
func TestFakeSpeaksWhatTheSDKReads(t *testing.T) {
	s := Start(Behavior{Key: "AIza-good", CachedTokens: 4, ThoughtsTokens: 5})
	defer s.Close()
	ctx := context.Background()
	c := client(t, s.URL, "AIza-good")

	resp, err := c.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("hi"), &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText("be brief", genai.RoleUser), Temperature: genai.Ptr[float32](0.2)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "Hello from fake Gemini" || resp.UsageMetadata.PromptTokenCount != 9 || resp.UsageMetadata.CachedContentTokenCount != 4 || resp.UsageMetadata.ThoughtsTokenCount != 5 || resp.Candidates[0].FinishReason != genai.FinishReasonStop {
		t.Fatalf("generateContent: %+v", resp)
	}

	var text strings.Builder
	var last *genai.GenerateContentResponseUsageMetadata
	for r, err := range c.Models.GenerateContentStream(ctx, "gemini-2.5-flash", genai.Text("hi"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(r.Text())
		last = r.UsageMetadata
	}
	if text.String() != "Hello from fake Gemini" || last.CandidatesTokenCount != 3 || last.TotalTokenCount != 9+3+5 {
		t.Fatalf("stream: %q %+v", text.String(), last)
	}

	tools := []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{{Name: "get_weather", Parameters: &genai.Schema{Type: genai.TypeObject}}}}}
	resp, err = c.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("weather?"), &genai.GenerateContentConfig{Tools: tools})
	if err != nil || len(resp.FunctionCalls()) != 1 || resp.FunctionCalls()[0].Args["city"] != "Paris" {
		t.Fatalf("function call: %v %+v", err, resp)
	}

	emb, err := c.Models.EmbedContent(ctx, "text-embedding-004", []*genai.Content{genai.NewContentFromText("a", genai.RoleUser), genai.NewContentFromText("b", genai.RoleUser)}, nil)
	if err != nil || len(emb.Embeddings) != 2 {
		t.Fatalf("embed: %v %+v", err, emb)
	}
	if s.CallsTo("batchEmbedContents") != 1 {
		t.Fatalf("the SDK embeds through batchEmbedContents; calls: %d", s.CallsTo("batchEmbedContents"))
	}
}

func TestFakeRefusesAsTheAPIDoes(t *testing.T) {
	s := Start(Behavior{Key: "AIza-good"})
	defer s.Close()
	ctx := context.Background()
	var apiErr genai.APIError

	_, err := client(t, s.URL, "AIza-bad").Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("hi"), nil)
	if !errors.As(err, &apiErr) || apiErr.Code != 400 || apiErr.Status != "INVALID_ARGUMENT" || !strings.Contains(apiErr.Message, "API key not valid") {
		t.Fatalf("bad key: %v", err)
	}
	s.Set(Behavior{FailStatus: 429})
	_, err = client(t, s.URL, "AIza-good").Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("hi"), nil)
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.Status != "RESOURCE_EXHAUSTED" || len(apiErr.Details) != 2 {
		t.Fatalf("rate limit: %v", err)
	}
	s.Set(Behavior{BlockPrompt: "SAFETY"})
	resp, err := client(t, s.URL, "x").Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("hi"), nil)
	if err != nil || resp.PromptFeedback == nil || resp.PromptFeedback.BlockReason != genai.BlockedReasonSafety || len(resp.Candidates) != 0 {
		t.Fatalf("blocked prompt: %v %+v", err, resp)
	}

	// OpenAI's field names are not Gemini's: the API refuses them.
	req, _ := http.NewRequest("POST", s.URL+"/v1beta/models/gemini-2.5-flash:generateContent", strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"max_tokens":5}}`))
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != 400 {
		t.Fatalf("unknown generationConfig field: %v %v", err, r.Status)
	}
	r.Body.Close()
	req, _ = http.NewRequest("POST", s.URL+"/v1beta/models/gemini-2.5-flash:generateContent", strings.NewReader(`{"contents":[{"role":"assistant","parts":[{"text":"hi"}]}]}`))
	r, err = http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != 400 {
		t.Fatalf("role assistant: %v %v", err, r.Status)
	}
	r.Body.Close()
}

// countTokens takes what the SDK sends (contents alone) and a
// generateContentRequest naming its model, never both.
func TestCountTokensAsDocumented(t *testing.T) {
	s := Start(Behavior{Key: "AIza-good", PromptTokens: 12})
	defer s.Close()
	n, err := client(t, s.URL, "AIza-good").Models.CountTokens(context.Background(), "gemini-2.5-flash", genai.Text("hi"), nil)
	if err != nil || n.TotalTokens != 12 {
		t.Fatalf("SDK count: %v %+v", err, n)
	}
	post := func(body string) int {
		req, _ := http.NewRequest("POST", s.URL+"/v1beta/models/gemini-2.5-flash:countTokens", strings.NewReader(body))
		req.Header.Set("x-goog-api-key", "AIza-good")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	contents := `[{"role":"user","parts":[{"text":"hi"}]}]`
	for body, want := range map[string]int{
		`{"generateContentRequest":{"model":"models/gemini-2.5-flash","systemInstruction":{"parts":[{"text":"x"}]},"contents":` + contents + `}}`: 200,
		`{"generateContentRequest":{"model":"models/other","contents":` + contents + `}}`:                                                         400,
		`{"generateContentRequest":{"contents":` + contents + `}}`:                                                                                400,
		`{"contents":` + contents + `,"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":` + contents + `}}`:                  400,
		`{"contents":` + contents + `,"systemInstruction":{"parts":[{"text":"x"}]}}`:                                                              400,
		`{}`: 400,
	} {
		if got := post(body); got != want {
			t.Errorf("%s: %d, want %d", body, got, want)
		}
	}
}
