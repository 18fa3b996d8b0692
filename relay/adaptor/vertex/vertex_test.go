package vertex

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"switchyard/internal/fakevertex"
	"switchyard/relay/adaptor"
)

func upstreamOf(s *fakevertex.Server) *adaptor.Upstream {
	return &adaptor.Upstream{ID: 7, Type: 42, BaseURL: s.URL, Config: map[string]string{
		ConfigADC: s.ServiceAccountJSON(), ConfigProject: s.Project, ConfigRegion: s.Region}}
}

func chat(model string, stream bool) *adaptor.Request {
	return &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI, Model: model, UpstreamModel: model, Stream: stream,
		Chat: &adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}}}}}}
}

func send(t *testing.T, a *Adaptor, up *adaptor.Upstream, req *adaptor.Request) (int, []byte) {
	t.Helper()
	hr, err := a.NewRequest(context.Background(), up, req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// Fifty calls at once on a cold channel make one token request; later
// calls reuse the token.
func TestOneTokenForConcurrentCalls(t *testing.T) {
	s := fakevertex.Start("proj-7", "us-central1", fakevertex.Behavior{})
	defer s.Close()
	a := New()
	up := upstreamOf(s)
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hr, err := a.NewRequest(context.Background(), up, chat("gemini-2.5-flash", false))
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = hr.Header.Get("Authorization")
		}()
	}
	wg.Wait()
	if s.TokensMinted() != 1 {
		t.Fatalf("%d token requests for 50 concurrent calls", s.TokensMinted())
	}
	for _, tok := range tokens {
		if tok != tokens[0] || !strings.HasPrefix(tok, "Bearer ya29.") {
			t.Fatalf("calls got different tokens: %q %q", tok, tokens[0])
		}
	}
	if st, body := send(t, a, up, chat("gemini-2.5-flash", false)); st != 200 || s.TokensMinted() != 1 {
		t.Fatalf("%d %s; %d tokens", st, body, s.TokensMinted())
	}
}

// A token that expires within the refresh margin is replaced before use.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	s := fakevertex.Start("p", "europe-west4", fakevertex.Behavior{TokenTTL: earlyRefresh / 2})
	defer s.Close()
	a := New()
	up := upstreamOf(s)
	send(t, a, up, chat("gemini-2.5-flash", false))
	send(t, a, up, chat("gemini-2.5-flash", false))
	if s.TokensMinted() != 2 {
		t.Fatalf("a token inside the refresh margin was reused: %d minted", s.TokensMinted())
	}
}

func TestGeminiAndClaudePaths(t *testing.T) {
	s := fakevertex.Start("proj-7", "us-east5", fakevertex.Behavior{})
	defer s.Close()
	a := New()
	up := upstreamOf(s)

	req := chat("gemini-2.5-flash", false)
	st, body := send(t, a, up, req)
	if st != 200 || s.Last().Path != "/v1/projects/proj-7/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent" {
		t.Fatalf("%d %s %s", st, body, s.Last().Path)
	}
	r, err := a.ParseResponse(req, body)
	if err != nil || r.Text() != "Hello from fake Gemini" || r.Usage.PromptTokens != 9 {
		t.Fatalf("%v %+v", err, r)
	}

	req = chat("claude-sonnet-4-5@20250929", false)
	st, body = send(t, a, up, req)
	if st != 200 || !strings.HasSuffix(s.Last().Path, "/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict") {
		t.Fatalf("%d %s %s", st, body, s.Last().Path)
	}
	var sent map[string]json.RawMessage
	_ = json.Unmarshal(s.Last().Body, &sent)
	if _, hasModel := sent["model"]; hasModel || string(sent["anthropic_version"]) != `"vertex-2023-10-16"` {
		t.Fatalf("Claude body: %s", s.Last().Body)
	}
	r, err = a.ParseResponse(req, body)
	if err != nil || r.Text() != "Hello from fake Claude" {
		t.Fatalf("%v %+v", err, r)
	}

	req = chat("claude-sonnet-4-5@20250929", true)
	st, _ = send(t, a, up, req)
	if st != 200 || !strings.HasSuffix(s.Last().Path, ":streamRawPredict") {
		t.Fatalf("%d %s", st, s.Last().Path)
	}
}

func TestFailuresClassified(t *testing.T) {
	s := fakevertex.Start("proj-7", "us-east5", fakevertex.Behavior{})
	defer s.Close()
	a := New()
	var ue *adaptor.UpstreamError

	// A service account key that is not the one Google holds: the grant is
	// refused, the channel is dead.
	other := fakevertex.Start("proj-7", "us-east5", fakevertex.Behavior{})
	defer other.Close()
	up := upstreamOf(s)
	up.Config[ConfigADC] = strings.ReplaceAll(other.ServiceAccountJSON(), other.URL, s.URL)
	up.Config[ConfigADC] = strings.ReplaceAll(up.Config[ConfigADC], other.Email, s.Email)
	if _, err := a.NewRequest(context.Background(), up, chat("gemini-2.5-flash", false)); !errors.As(err, &ue) || ue.Class != adaptor.ClassDeadKey {
		t.Fatalf("refused grant: %v", err)
	}

	up = upstreamOf(s)
	delete(up.Config, ConfigProject)
	if _, err := a.NewRequest(context.Background(), up, chat("gemini-2.5-flash", false)); !errors.As(err, &ue) || ue.Class != adaptor.ClassAuth {
		t.Fatalf("no project: %v", err)
	}
	if _, err := a.NewRequest(context.Background(), upstreamOf(s), &adaptor.Request{Mode: adaptor.ModeImages}); !errors.As(err, &ue) || ue.Class != adaptor.ClassUnsupported {
		t.Fatalf("images: %v", err)
	}

	s.Set(fakevertex.Behavior{FailStatus: 429})
	up = upstreamOf(s)
	hr, _ := a.NewRequest(context.Background(), up, chat("gemini-2.5-flash", false))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if e := a.ParseError(resp.StatusCode, resp.Header, body); e.Class != adaptor.ClassRateLimited {
		t.Fatalf("quota: %+v", e)
	}
	if e := a.ParseError(400, nil, []byte(`{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}`)); e.Class != adaptor.ClassRequest {
		t.Fatalf("Claude's own error: %+v", e)
	}
	if e := a.ParseError(401, nil, []byte(`{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)); e.Class != adaptor.ClassDeadKey {
		t.Fatalf("bad token: %+v", e)
	}
}

func TestEndpointFollowsRegion(t *testing.T) {
	cases := []struct{ base, region, want string }{
		{"", "us-east5", "https://us-east5-aiplatform.googleapis.com"},
		{"https://aiplatform.googleapis.com", "europe-west1", "https://europe-west1-aiplatform.googleapis.com"},
		{"https://aiplatform.googleapis.com", "global", "https://aiplatform.googleapis.com"},
		{"https://us-central1-aiplatform.googleapis.com/", "asia-east1", "https://asia-east1-aiplatform.googleapis.com"},
		{"https://vertex-proxy.internal.example", "us-east5", "https://vertex-proxy.internal.example"},
	}
	for _, c := range cases {
		if got := endpoint(&adaptor.Upstream{BaseURL: c.base}, c.region); got != c.want {
			t.Errorf("%q in %s: %s, want %s", c.base, c.region, got, c.want)
		}
	}
}

// ParseCount reads both publishers' count answers (adaptor.CountOf judges
// the rest).
func TestParseCountReadsBothPublishers(t *testing.T) {
	a := New()
	for body, want := range map[string]int{`{"totalTokens":12,"totalBillableCharacters":40}`: 12, `{"input_tokens":7}`: 7} {
		if n, err := a.ParseCount([]byte(body)); err != nil || n != want {
			t.Errorf("ParseCount(%s) = %d, %v", body, n, err)
		}
	}
}
