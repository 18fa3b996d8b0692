package fakeupstream_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
	"github.com/openai/openai-go/responses"

	"switchyard/internal/fakeupstream"
)

// The fake must read as the real API to the official SDK: these tests run
// openai-go straight against it.

func client(s *fakeupstream.Server) openai.Client {
	return openai.NewClient(option.WithBaseURL(s.URL+"/v1/"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
}

func weatherTool() []responses.ToolUnionParam {
	return []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
		Name: "get_weather", Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]string{"type": "string"}}},
	}}}
}

func TestFakeResponsesWholeAnswerStoredAndDeleted(t *testing.T) {
	s := fakeupstream.Start(fakeupstream.Behavior{CachedTokens: 4, ReasoningTokens: 2})
	defer s.Close()
	c := client(s)
	ctx := context.Background()
	resp, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-4.1-mini", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")},
		Instructions: openai.String("Be brief"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.OutputText() != "Hello from the fake upstream" || resp.Status != "completed" || !strings.HasPrefix(resp.ID, "resp_") {
		t.Fatalf("answer: %q %s %s", resp.OutputText(), resp.Status, resp.ID)
	}
	u := resp.Usage
	if u.InputTokens != 9 || u.InputTokensDetails.CachedTokens != 4 || u.OutputTokens != 5 || u.OutputTokensDetails.ReasoningTokens != 2 || u.TotalTokens != 14 {
		t.Fatalf("usage %+v", u)
	}
	if resp.Output[0].Type != "reasoning" || resp.Instructions.OfString != "Be brief" {
		t.Fatalf("output %+v instructions %+v", resp.Output, resp.Instructions)
	}
	got, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
	if err != nil || got.ID != resp.ID || got.OutputText() != resp.OutputText() {
		t.Fatalf("get: %v %+v", err, got)
	}
	if err := c.Responses.Delete(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("get after delete: %v", err)
	}
	// store: false keeps nothing.
	if _, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "m", Store: openai.Bool(false),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}}); err != nil || s.StoredResponses() != 0 {
		t.Fatalf("store false: %v, %d stored", err, s.StoredResponses())
	}
}

func TestFakeResponsesStreamsTextAndToolCalls(t *testing.T) {
	s := fakeupstream.Start(fakeupstream.Behavior{})
	defer s.Close()
	c := client(s)
	ctx := context.Background()

	st := c.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-4.1-mini", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	var text strings.Builder
	var types []string
	var final responses.Response
	for st.Next() {
		ev := st.Current()
		types = append(types, ev.Type)
		if ev.Type == "response.output_text.delta" {
			text.WriteString(ev.Delta.OfString)
		}
		if ev.Type == "response.completed" {
			final = ev.Response
		}
	}
	if st.Err() != nil || text.String() != "Hello from the fake upstream" || final.Usage.OutputTokens != 3 {
		t.Fatalf("stream: %v %q %+v", st.Err(), text.String(), final.Usage)
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta response.output_text.delta response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.completed"
	if strings.Join(types, " ") != want {
		t.Fatalf("events\n got %s\nwant %s", strings.Join(types, " "), want)
	}

	st = c.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-4.1-mini", Tools: weatherTool(),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("weather in Paris?")}})
	var args strings.Builder
	var call responses.ResponseOutputItemUnion
	for st.Next() {
		ev := st.Current()
		switch ev.Type {
		case "response.function_call_arguments.delta":
			args.WriteString(ev.Delta.OfString)
		case "response.output_item.done":
			call = ev.Item
		}
	}
	if st.Err() != nil || args.String() != `{"city": "Paris"}` || call.Type != "function_call" || call.Name != "get_weather" || call.Arguments != args.String() {
		t.Fatalf("tool stream: %v %q %+v", st.Err(), args.String(), call)
	}

	// A tool result goes back as function_call_output.
	resp, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4.1-mini", Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("weather in Paris?", responses.EasyInputMessageRoleUser),
		responses.ResponseInputItemParamOfFunctionCall(`{"city":"Paris"}`, call.CallID, "get_weather"),
		responses.ResponseInputItemParamOfFunctionCallOutput(call.CallID, "sunny"),
	}}})
	if err != nil || resp.OutputText() == "" {
		t.Fatalf("tool result: %v", err)
	}
}

func TestFakeResponsesFailuresAsDocumented(t *testing.T) {
	ctx := context.Background()
	t.Run("mid-stream error then response.failed", func(t *testing.T) {
		s := fakeupstream.Start(fakeupstream.Behavior{Responses: fakeupstream.ResponsesBehavior{FailMidStream: true}})
		defer s.Close()
		c := client(s)
		st := c.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "m", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
		var last []string
		for st.Next() {
			last = append(last, st.Current().Type)
		}
		if n := len(last); st.Err() != nil || n < 2 || last[n-2] != "error" || last[n-1] != "response.failed" {
			t.Fatalf("events %v err %v", last, st.Err())
		}
	})
	t.Run("max_output_tokens ends incomplete", func(t *testing.T) {
		s := fakeupstream.Start(fakeupstream.Behavior{})
		defer s.Close()
		c := client(s)
		resp, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "m", MaxOutputTokens: openai.Int(2), Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
		if err != nil || resp.Status != "incomplete" || resp.IncompleteDetails.Reason != "max_output_tokens" || resp.Usage.OutputTokens != 2 {
			t.Fatalf("%v %+v", err, resp)
		}
	})
	for _, tc := range []struct {
		name   string
		b      fakeupstream.Behavior
		params responses.ResponseNewParams
		status int
		param  string
	}{
		{"vendor without the API", fakeupstream.Behavior{Responses: fakeupstream.ResponsesBehavior{Unsupported: true}}, responses.ResponseNewParams{Model: "m"}, 404, ""},
		{"missing model", fakeupstream.Behavior{}, responses.ResponseNewParams{}, 400, "model"},
		{"unknown previous response", fakeupstream.Behavior{}, responses.ResponseNewParams{Model: "m", PreviousResponseID: openai.String("resp_nope")}, 400, "previous_response_id"},
		{"rate limited", fakeupstream.Behavior{FailStatus: 429}, responses.ResponseNewParams{Model: "m"}, 429, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeupstream.Start(tc.b)
			defer s.Close()
			c := client(s)
			_, err := c.Responses.New(ctx, tc.params)
			var e *openai.Error
			if !errors.As(err, &e) || e.StatusCode != tc.status || e.Param != tc.param {
				t.Fatalf("want %d param %q, got %v", tc.status, tc.param, err)
			}
		})
	}
}
