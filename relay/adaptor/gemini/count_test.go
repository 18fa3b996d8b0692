package gemini

import (
	"context"
	"io"
	"testing"

	"switchyard/relay/adaptor"
)

func TestCountRequestBodies(t *testing.T) {
	hi := []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}}}}
	up := &adaptor.Upstream{BaseURL: "https://example.test/v1beta", Key: "AIza-k"}
	for _, c := range []struct {
		name string
		req  *adaptor.Request
		want string
	}{
		{"contents alone", &adaptor.Request{Format: adaptor.FormatOpenAI, UpstreamModel: "gemini-2.5-flash", Chat: &adaptor.Chat{Messages: hi, MaxTokens: 5}},
			`{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`},
		{"a system instruction needs the whole request", &adaptor.Request{Format: adaptor.FormatAnthropic, UpstreamModel: "gemini-2.5-flash",
			Chat: &adaptor.Chat{System: []adaptor.Part{{Type: adaptor.PartText, Text: "Be brief."}}, Messages: hi}},
			`{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"Hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]}}}`},
		{"a Gemini client's contents pass as sent", &adaptor.Request{Format: adaptor.FormatGemini, UpstreamModel: "gemini-2.5-pro", Raw: []byte(`{"contents": [{"parts":[{"text":"Hi"}]}]}`)},
			`{"contents": [{"parts":[{"text":"Hi"}]}]}`},
		{"a Gemini client's request is renamed", &adaptor.Request{Format: adaptor.FormatGemini, UpstreamModel: "gemini-2.5-pro", Raw: []byte(`{"generateContentRequest": {"model": "models/alias", "contents": []}}`)},
			`{"generateContentRequest": {"model": "models/gemini-2.5-pro", "contents": []}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			hr, err := Adaptor{}.NewCountRequest(context.Background(), up, c.req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(hr.Body)
			if string(body) != c.want {
				t.Fatalf("body %s\nwant %s", body, c.want)
			}
			if hr.URL.String() != "https://example.test/v1beta/models/"+c.req.UpstreamModel+":countTokens" || hr.Header.Get("x-goog-api-key") != "AIza-k" {
				t.Fatalf("call %s %v", hr.URL, hr.Header)
			}
		})
	}
	if _, err := (Adaptor{}).NewCountRequest(context.Background(), up, &adaptor.Request{Format: adaptor.FormatOpenAI, UpstreamModel: "m"}); err == nil {
		t.Fatal("a count without a chat was built")
	}
	for body, want := range map[string]int{`{"totalTokens":12,"promptTokensDetails":[]}`: 12, `{"totalTokens":0}`: 0} {
		if n, err := (Adaptor{}).ParseCount([]byte(body)); err != nil || n != want {
			t.Errorf("%s: %d %v", body, n, err)
		}
	}
	for _, body := range []string{`{}`, `{"totalTokens":-1}`, `not json`, `{"input_tokens":3}`} {
		if _, err := (Adaptor{}).ParseCount([]byte(body)); err == nil {
			t.Errorf("%s was read as a count", body)
		}
	}
}
