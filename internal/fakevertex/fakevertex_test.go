package fakevertex

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2/google"
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
	call := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
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
