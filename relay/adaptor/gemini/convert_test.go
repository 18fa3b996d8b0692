package gemini

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"switchyard/relay/adaptor"
	"switchyard/relay/sse"
)

func f(v float64) *float64 { return &v }

// jsonEq compares two JSON texts by value.
func jsonEq(t *testing.T, got []byte, want string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestToRequest(t *testing.T) {
	weather := adaptor.Tool{Name: "get_weather", Description: "Weather now", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}`)}
	cases := []struct {
		name string
		chat adaptor.Chat
		want string
	}{
		{"text, system and sampling", adaptor.Chat{
			System:      []adaptor.Part{{Type: adaptor.PartText, Text: "Be brief."}},
			Messages:    []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}}}},
			Temperature: f(0.5), TopP: f(0.9), Stop: []string{"END"}, MaxTokens: 100,
		}, `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]},
			"generationConfig":{"temperature":0.5,"topP":0.9,"stopSequences":["END"],"maxOutputTokens":100}}`},
		{"inline and URL images", adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{
			{Type: adaptor.PartText, Text: "What is this?"},
			{Type: adaptor.PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
			{Type: adaptor.PartImage, ImageURL: "https://example.com/cat.webp?size=2"},
		}}}}, `{"contents":[{"role":"user","parts":[{"text":"What is this?"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},
			{"fileData":{"mimeType":"image/webp","fileUri":"https://example.com/cat.webp?size=2"}}]}]}`},
		{"tools, a call, its results and a named choice", adaptor.Chat{
			Messages: []adaptor.Message{
				{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Weather in Paris and Rome?"}}},
				{Role: adaptor.RoleAssistant, ToolCalls: []adaptor.ToolCall{{ID: "call_a", Name: "get_weather", Args: `{"city":"Paris"}`}, {ID: "call_b", Name: "get_weather", Args: `{"city":"Rome"}`}}},
				{Role: adaptor.RoleTool, ToolCallID: "call_a", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: `{"temp":21}`}}},
				{Role: adaptor.RoleTool, ToolCallID: "call_b", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "sunny"}}},
			},
			Tools: []adaptor.Tool{weather}, ToolChoice: &adaptor.ToolChoice{Mode: adaptor.ToolNamed, Name: "get_weather"},
		}, `{"contents":[{"role":"user","parts":[{"text":"Weather in Paris and Rome?"}]},
			{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"skip_thought_signature_validator"},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},
			{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp":21}}},{"functionResponse":{"name":"get_weather","response":{"content":"sunny"}}}]}],
			"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather now","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}}]}],
			"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}}`},
		{"a signature in the tool call id goes back on its call", adaptor.Chat{Messages: []adaptor.Message{
			{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Go"}}},
			{Role: adaptor.RoleAssistant, ToolCalls: []adaptor.ToolCall{{ID: "call_0_f" + sigMarker + "c2ln", Name: "f", Args: ""}}},
			{Role: adaptor.RoleTool, ToolCallID: "call_0_f" + sigMarker + "c2ln", IsError: true, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "boom"}}},
		}}, `{"contents":[{"role":"user","parts":[{"text":"Go"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}},"thoughtSignature":"c2ln"}]},
			{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"error":"boom"}}}]}]}`},
		{"JSON schema answers and reasoning effort", adaptor.Chat{
			Messages:        []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "List"}}}},
			ResponseFormat:  json.RawMessage(`{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"array"}}}`),
			ReasoningEffort: "low",
		}, `{"contents":[{"role":"user","parts":[{"text":"List"}]}],"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":{"type":"array"},
			"thinkingConfig":{"includeThoughts":true,"thinkingBudget":1024}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := ToRequest(&c.chat)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(g)
			jsonEq(t, raw, c.want)
		})
	}
	t.Run("a tool result without its call is refused", func(t *testing.T) {
		_, err := ToRequest(&adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleTool, ToolCallID: "nope", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "x"}}}}})
		if err == nil {
			t.Fatal("accepted an orphan tool result")
		}
	})
}

func TestFromResponse(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		want   adaptor.Response
		filter bool
	}{
		{"text with cached and thought tokens", `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"},{"text":" there"}]},"finishReason":"STOP","index":0}],
			"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":32,"cachedContentTokenCount":8,"thoughtsTokenCount":7},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
			adaptor.Response{ID: "r1", Model: "gemini-2.5-flash", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}, {Type: adaptor.PartText, Text: " there"}}, FinishReason: adaptor.FinishStop,
				Usage: &adaptor.Usage{PromptTokens: 20, CompletionTokens: 12, TotalTokens: 32, CachedTokens: 8, ReasoningTokens: 7}}, false},
		{"thought then a function call", `{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking","thought":true},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}]}`,
			adaptor.Response{Parts: []adaptor.Part{{Type: adaptor.PartThinking, Text: "thinking"}}, ToolCalls: []adaptor.ToolCall{{ID: "call_0_get_weather" + sigMarker + "c2ln", Name: "get_weather", Args: `{"city":"Paris"}`}}, FinishReason: adaptor.FinishToolCalls}, false},
		{"MAX_TOKENS is length", `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"finishReason":"MAX_TOKENS"}]}`,
			adaptor.Response{Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hel"}}, FinishReason: adaptor.FinishLength}, false},
		{"a SAFETY stop without content is content_filter", `{"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}],"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}`,
			adaptor.Response{FinishReason: adaptor.FinishContentFilter, Usage: &adaptor.Usage{PromptTokens: 4, TotalTokens: 4}}, false},
		{"RECITATION is content_filter", `{"candidates":[{"finishReason":"RECITATION"}]}`, adaptor.Response{FinishReason: adaptor.FinishContentFilter}, false},
		{"a blocked prompt is a content-filter error", `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}`, adaptor.Response{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseResponse(&adaptor.Request{Mode: adaptor.ModeChat}, []byte(c.body))
			if c.filter {
				var ue *adaptor.UpstreamError
				if !errors.As(err, &ue) || ue.Class != adaptor.ClassContentFilter || ue.Status != 400 || !strings.Contains(ue.Message, "PROHIBITED_CONTENT") {
					t.Fatalf("want a content-filter error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*r, c.want) {
				t.Fatalf("got  %+v\nwant %+v", *r, c.want)
			}
		})
	}
	if _, err := ParseResponse(&adaptor.Request{Mode: adaptor.ModeChat}, []byte(`{"object":"chat.completion"}`)); err == nil {
		t.Fatal("an answer in another format parsed")
	}
}

func TestStreamUsageIsTheLastNotTheSum(t *testing.T) {
	frames := []string{
		`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":1,"totalTokenCount":10},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
		`{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2,"totalTokenCount":11}}`,
		`{"candidates":[{"content":{"role":"model","parts":[{"text":"!"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":3,"thoughtsTokenCount":4,"cachedContentTokenCount":2,"totalTokenCount":16}}`,
	}
	d := NewDecoder()
	var evs []adaptor.Event
	for _, fr := range frames {
		var err error
		if evs, err = d.Decode(sse.Event{Data: []byte(fr)}, evs); err != nil {
			t.Fatal(err)
		}
	}
	if !d.Done() || *d.Usage() != (adaptor.Usage{PromptTokens: 9, CompletionTokens: 7, TotalTokens: 16, CachedTokens: 2, ReasoningTokens: 4}) {
		t.Fatalf("usage %+v done %v", d.Usage(), d.Done())
	}
	var text strings.Builder
	var kinds []adaptor.EventKind
	for _, e := range evs {
		if e.Kind == adaptor.EventText {
			text.WriteString(e.Text)
		}
		if e.Kind != adaptor.EventUsage {
			kinds = append(kinds, e.Kind)
		}
	}
	want := []adaptor.EventKind{adaptor.EventStart, adaptor.EventText, adaptor.EventText, adaptor.EventText, adaptor.EventFinish}
	if text.String() != "Hello!" || !reflect.DeepEqual(kinds, want) || evs[0].ID != "r1" {
		t.Fatalf("events %+v", evs)
	}
}

func TestStreamToolCallsBlocksAndErrors(t *testing.T) {
	d := NewDecoder()
	evs, err := d.Decode(sse.Event{Data: []byte(`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"a","args":{"x":1}}},{"functionCall":{"name":"b"}}]},"finishReason":"STOP"}]}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []adaptor.Event{
		{Kind: adaptor.EventStart},
		{Kind: adaptor.EventToolCallStart, Index: 0, ID: "call_0_a", Name: "a"}, {Kind: adaptor.EventToolArgs, Index: 0, Args: `{"x":1}`},
		{Kind: adaptor.EventToolCallStart, Index: 1, ID: "call_1_b", Name: "b"}, {Kind: adaptor.EventToolArgs, Index: 1, Args: `{}`},
		{Kind: adaptor.EventFinish, Reason: adaptor.FinishToolCalls},
	}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("got  %+v\nwant %+v", evs, want)
	}
	var ue *adaptor.UpstreamError
	_, err = NewDecoder().Decode(sse.Event{Data: []byte(`{"promptFeedback":{"blockReason":"SAFETY"}}`)}, nil)
	if !errors.As(err, &ue) || ue.Class != adaptor.ClassContentFilter {
		t.Fatalf("blocked prompt in a stream: %v", err)
	}
	_, err = NewDecoder().Decode(sse.Event{Data: []byte(`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`)}, nil)
	if !errors.As(err, &ue) || ue.Class != adaptor.ClassUpstream || ue.Status != 503 {
		t.Fatalf("error in a stream: %v", err)
	}
}

func TestFromRequest(t *testing.T) {
	// What google.golang.org/genai sends: upper-case OpenAPI types.
	body := `{"contents":[
		{"role":"user","parts":[{"text":"Weather?"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},
		{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"}]},
		{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp":21}}}]}],
		"systemInstruction":{"parts":[{"text":"Be brief."}]},
		"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}},"propertyOrdering":["city"]}}]}],
		"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},
		"generationConfig":{"temperature":0.3,"topK":40,"maxOutputTokens":64,"stopSequences":["x"],"responseMimeType":"application/json","thinkingConfig":{"thinkingBudget":512}}}`
	var g GenerateRequest
	if err := json.Unmarshal([]byte(body), &g); err != nil {
		t.Fatal(err)
	}
	c, err := FromRequest(&g)
	if err != nil {
		t.Fatal(err)
	}
	id := "call_0_get_weather" + sigMarker + "c2ln"
	k := 40
	want := adaptor.Chat{
		System: []adaptor.Part{{Type: adaptor.PartText, Text: "Be brief."}},
		Messages: []adaptor.Message{
			{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Weather?"}, {Type: adaptor.PartImage, MediaType: "image/png", Data: "AAAA"}}},
			{Role: adaptor.RoleAssistant, ToolCalls: []adaptor.ToolCall{{ID: id, Name: "get_weather", Args: `{"city":"Paris"}`}}},
			{Role: adaptor.RoleTool, ToolCallID: id, Name: "get_weather", Parts: []adaptor.Part{{Type: adaptor.PartText, Text: `{"temp":21}`}}},
		},
		Tools:       []adaptor.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"properties":{"city":{"type":"string"}},"type":"object"}`)}},
		ToolChoice:  &adaptor.ToolChoice{Mode: adaptor.ToolRequired},
		Temperature: f(0.3), TopK: &k, MaxTokens: 64, Stop: []string{"x"},
		ResponseFormat: json.RawMessage(`{"type":"json_object"}`), ThinkingBudget: 512,
	}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("got  %+v\nwant %+v", *c, want)
	}
	// And back: the conversion to Gemini restores the signature.
	back, err := ToRequest(c)
	if err != nil {
		t.Fatal(err)
	}
	if back.Contents[1].Parts[0].ThoughtSignature != "c2ln" || back.Contents[2].Parts[0].FunctionResponse.Name != "get_weather" {
		t.Fatalf("round trip lost the call: %+v", back.Contents)
	}

	for name, bad := range map[string]string{
		"orphan functionResponse": `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`,
		"unknown role":            `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`,
		"no turn":                 `{"contents":[]}`,
	} {
		var g GenerateRequest
		_ = json.Unmarshal([]byte(bad), &g)
		if _, err := FromRequest(&g); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestToResponse(t *testing.T) {
	r := &adaptor.Response{ID: "chatcmpl-1", Parts: []adaptor.Part{{Type: adaptor.PartThinking, Text: "hm"}, {Type: adaptor.PartText, Text: "Hi"}},
		ToolCalls: []adaptor.ToolCall{{ID: "call_x", Name: "f", Args: `{"a":1}`}}, FinishReason: adaptor.FinishToolCalls,
		Usage: &adaptor.Usage{PromptTokens: 10, CompletionTokens: 6, ReasoningTokens: 2, CachedTokens: 3, TotalTokens: 16}}
	raw, _ := json.Marshal(ToResponse(r, "gpt-4o"))
	jsonEq(t, raw, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hm","thought":true},{"text":"Hi"},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP","index":0}],
		"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"thoughtsTokenCount":2,"cachedContentTokenCount":3,"totalTokenCount":16},"modelVersion":"gpt-4o","responseId":"chatcmpl-1"}`)
	for neutral, want := range map[string]string{adaptor.FinishLength: "MAX_TOKENS", adaptor.FinishContentFilter: "SAFETY", adaptor.FinishStop: "STOP", "": "STOP"} {
		if got := GeminiFinish(neutral); got != want {
			t.Errorf("%q → %q, want %q", neutral, got, want)
		}
	}
}

func TestEmbeddings(t *testing.T) {
	req := &adaptor.Request{Mode: adaptor.ModeEmbeddings, Model: "text-embedding-004", UpstreamModel: "text-embedding-004", Input: []string{"a", "b"}, Fields: map[string]json.RawMessage{"dimensions": json.RawMessage("2")}}
	body, err := embedBody(req, "text-embedding-004", false)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, body, `{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},"outputDimensionality":2},{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]},"outputDimensionality":2}]}`)
	r, err := ParseResponse(req, []byte(`{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}]}`))
	if err != nil || len(r.Embeddings) != 2 || r.Embeddings[1][1] != 0.4 {
		t.Fatalf("%v %+v", err, r)
	}
	if _, err := ParseResponse(req, []byte(`{"embeddings":[{"values":[0.1]}]}`)); err == nil {
		t.Fatal("one vector for two inputs parsed")
	}
}

func TestOpenAISamplingFields(t *testing.T) {
	req := &adaptor.Request{Mode: adaptor.ModeChat, Format: adaptor.FormatOpenAI,
		Fields: map[string]json.RawMessage{"seed": json.RawMessage("7"), "presence_penalty": json.RawMessage("0.5"), "frequency_penalty": json.RawMessage("-0.25")},
		Chat:   &adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "Hi"}}}}}}
	body, err := ChatBody(req, false)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, body, `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"seed":7,"presencePenalty":0.5,"frequencyPenalty":-0.25}}`)
}
