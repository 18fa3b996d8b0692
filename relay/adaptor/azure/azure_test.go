package azure

import (
	"context"
	"testing"

	"switchyard/relay/adaptor"
)

func TestNewRequestAddressesTheDeployment(t *testing.T) {
	for _, tt := range []struct {
		mode         adaptor.Mode
		model, other string
		want         string
		unsupported  bool
	}{
		{adaptor.ModeChat, "gpt-4o", "2024-06-01", "https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01", false},
		{adaptor.ModeChat, "gpt-3.5-turbo", "", "https://r.openai.azure.com/openai/deployments/gpt-35-turbo/chat/completions?api-version=2024-10-21", false},
		{adaptor.ModeEmbeddings, "my deployment", "2024-10-21", "https://r.openai.azure.com/openai/deployments/my%20deployment/embeddings?api-version=2024-10-21", false},
		{adaptor.ModeImages, "dall-e-3", "2024-10-21", "https://r.openai.azure.com/openai/deployments/dall-e-3/images/generations?api-version=2024-10-21", false},
		{adaptor.ModeModerations, "omni-moderation-latest", "", "", true},
	} {
		raw := []byte(`{"model":"x","messages":[]}`)
		req := &adaptor.Request{Mode: tt.mode, Format: adaptor.FormatOpenAI, Model: "x", UpstreamModel: tt.model, Raw: raw}
		hr, err := Adaptor{}.NewRequest(context.Background(), &adaptor.Upstream{BaseURL: "https://r.openai.azure.com/", Key: "k", Other: tt.other}, req)
		if tt.unsupported {
			if ue, ok := err.(*adaptor.UpstreamError); !ok || ue.Class != adaptor.ClassUnsupported {
				t.Fatalf("%v: %v", tt.mode, err)
			}
			continue
		}
		if err != nil || hr.URL.String() != tt.want || hr.Header.Get("api-key") != "k" || hr.Header.Get("Authorization") != "" {
			t.Fatalf("%v: %v %v %v", tt.mode, hr.URL, hr.Header, err)
		}
	}
}

func TestContentFilterIsItsOwnClass(t *testing.T) {
	body := `{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}`
	if e := (Adaptor{}).ParseError(400, nil, []byte(body)); e.Class != adaptor.ClassContentFilter {
		t.Fatalf("%+v", e)
	}
	if e := (Adaptor{}).ParseError(401, nil, []byte(`{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`)); e.Class != adaptor.ClassDeadKey {
		t.Fatalf("%+v", e)
	}
	if e := (Adaptor{}).ParseError(404, nil, []byte(`{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}`)); e.Class != adaptor.ClassNotFound {
		t.Fatalf("%+v", e)
	}
}
