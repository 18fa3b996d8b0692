package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	oresp "github.com/openai/openai-go/responses"

	"switchyard/relay/adaptor"
	oa "switchyard/relay/adaptor/openai"
	"switchyard/relay/sse"
)

const callBody = `{"model":"claude-sonnet-4","input":"weather?","instructions":"be brief","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}`

// frames reads back what an encoder wrote.
func frames(t *testing.T, body []byte) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(body), 0)
	defer rd.Close()
	var out []sse.Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sse.Event{Name: ev.Name, Data: append([]byte(nil), ev.Data...)})
	}
}

func encode(t *testing.T, evs []adaptor.Event, u *adaptor.Usage) []sse.Event {
	t.Helper()
	rec := httptest.NewRecorder()
	enc := NewEncoder([]byte(callBody), "claude-sonnet-4", sse.NewWriter(rec))
	for _, ev := range evs {
		if err := enc.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Finish(u); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	return frames(t, rec.Body.Bytes())
}

var usage = &adaptor.Usage{PromptTokens: 120, CompletionTokens: 40, CachedTokens: 100, ReasoningTokens: 12, TotalTokens: 160}

// A tool call split over several events, with thinking and text first,
// as an Anthropic channel streams it.
var streamed = []adaptor.Event{
	{Kind: adaptor.EventStart, ID: "msg_01", Model: "claude-sonnet-4-20250514"},
	{Kind: adaptor.EventThinking, Text: "The user wants "},
	{Kind: adaptor.EventThinking, Text: "weather."},
	{Kind: adaptor.EventText, Text: "Let me "},
	{Kind: adaptor.EventText, Text: "check."},
	{Kind: adaptor.EventToolCallStart, Index: 0, ID: "toolu_01", Name: "get_weather"},
	{Kind: adaptor.EventToolArgs, Index: 0, Args: `{"city":`},
	{Kind: adaptor.EventToolArgs, Index: 0, Args: ` "Paris"}`},
	{Kind: adaptor.EventToolCallStart, Index: 1, ID: "toolu_02", Name: "get_weather"},
	{Kind: adaptor.EventToolArgs, Index: 1, Args: `{"city": "Rome"}`},
	{Kind: adaptor.EventFinish, Reason: "tool_calls"},
	{Kind: adaptor.EventUsage, Usage: usage},
}

func TestEncoderWritesTheResponsesStream(t *testing.T) {
	fr := encode(t, streamed, usage)
	var names []string
	for i, f := range fr {
		var ev oresp.ResponseStreamEventUnion
		if err := json.Unmarshal(f.Data, &ev); err != nil {
			t.Fatalf("frame %d does not decode with openai-go: %v", i, err)
		}
		if ev.Type != f.Name || ev.SequenceNumber != int64(i) {
			t.Fatalf("frame %d: event %q type %q seq %d", i, f.Name, ev.Type, ev.SequenceNumber)
		}
		names = append(names, f.Name)
	}
	want := []string{"response.created", "response.in_progress",
		"response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
		"response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
		"response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
		"response.output_item.added", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.output_item.done", "response.function_call_arguments.done", "response.output_item.done",
		"response.completed"}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events\n got %s\nwant %s", strings.Join(names, " "), strings.Join(want, " "))
	}
	var done oresp.ResponseCompletedEvent
	if err := json.Unmarshal(fr[len(fr)-1].Data, &done); err != nil {
		t.Fatal(err)
	}
	r := done.Response
	if r.Status != "completed" || r.Model != "claude-sonnet-4" || r.Instructions.OfString != "be brief" || len(r.Tools) != 1 || !strings.Contains(string(fr[len(fr)-1].Data), `"store":false`) {
		t.Fatalf("final response %+v", r)
	}
	if r.Usage.InputTokens != 120 || r.Usage.InputTokensDetails.CachedTokens != 100 || r.Usage.OutputTokens != 40 || r.Usage.OutputTokensDetails.ReasoningTokens != 12 || r.Usage.TotalTokens != 160 {
		t.Fatalf("usage %+v", r.Usage)
	}
	if len(r.Output) != 4 || r.Output[0].Summary[0].Text != "The user wants weather." || r.OutputText() != "Let me check." ||
		r.Output[2].CallID != "toolu_01" || r.Output[2].Arguments != `{"city": "Paris"}` || r.Output[3].Arguments != `{"city": "Rome"}` {
		t.Fatalf("output %+v", r.Output)
	}
}

// What the encoder writes, the decoder reads back as the same events:
// the two directions agree.
func TestDecoderReadsBackWhatTheEncoderWrote(t *testing.T) {
	fr := encode(t, streamed, usage)
	d := oa.NewResponsesDecoder()
	var got []adaptor.Event
	var err error
	for _, f := range fr {
		if got, err = d.Decode(f, got); err != nil {
			t.Fatal(err)
		}
	}
	want := append([]adaptor.Event{{Kind: adaptor.EventStart, Model: "claude-sonnet-4"}}, streamed[1:]...)
	got[0].ID = "" // the encoder's own resp_ id
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
	}
	if !d.Done() || !reflect.DeepEqual(d.Usage(), usage) {
		t.Fatalf("done %v usage %+v", d.Done(), d.Usage())
	}
}

func TestEncoderEndsIncompleteOnTheBudget(t *testing.T) {
	fr := encode(t, []adaptor.Event{{Kind: adaptor.EventText, Text: "Once upon"}, {Kind: adaptor.EventFinish, Reason: "length"}}, &adaptor.Usage{PromptTokens: 5, CompletionTokens: 2})
	last := fr[len(fr)-1]
	var ev oresp.ResponseIncompleteEvent
	if err := json.Unmarshal(last.Data, &ev); err != nil || last.Name != "response.incomplete" ||
		ev.Response.IncompleteDetails.Reason != "max_output_tokens" || ev.Response.Usage.TotalTokens != 7 {
		t.Fatalf("%s %s %v", last.Name, last.Data, err)
	}
	if fr[0].Name != "response.created" {
		t.Fatalf("a stream without a start event still opens with response.created, got %s", fr[0].Name)
	}
}

func TestEncoderFailAndPassThrough(t *testing.T) {
	rec := httptest.NewRecorder()
	enc := NewEncoder([]byte(callBody), "m", sse.NewWriter(rec))
	up := []sse.Event{
		{Name: "response.created", Data: []byte(`{"type":"response.created","sequence_number":0,"response":{"id":"resp_up"}}`)},
		{Name: "response.output_text.delta", Data: []byte(`{"type":"response.output_text.delta","sequence_number":1,"delta":"Hi"}`)},
		// An upstream that spreads one event's JSON over several data lines.
		{Name: "response.output_text.delta", Data: []byte("{\"type\":\"response.output_text.delta\",\n\"sequence_number\":2,\"delta\":\"!\"}")},
	}
	for _, ev := range up {
		if err := enc.Raw(ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Fail(errors.New("upstream stream ended before its end marker")); err != nil {
		t.Fatal(err)
	}
	if err := enc.Finish(nil); err != nil {
		t.Fatal(err)
	}
	fr := frames(t, rec.Body.Bytes())
	if len(fr) != 5 || !bytes.Equal(fr[0].Data, up[0].Data) || !bytes.Equal(fr[1].Data, up[1].Data) ||
		string(fr[2].Data) != `{"type":"response.output_text.delta","sequence_number":2,"delta":"!"}` {
		t.Fatalf("passed-through frames changed: %d frames", len(fr))
	}
	var e oresp.ResponseErrorEvent
	if err := json.Unmarshal(fr[3].Data, &e); err != nil || fr[3].Name != "error" || e.SequenceNumber != 3 || e.Code != "server_error" || !strings.Contains(e.Message, "end marker") {
		t.Fatalf("error event %s %s", fr[3].Name, fr[3].Data)
	}
	var failed oresp.ResponseFailedEvent
	if err := json.Unmarshal(fr[4].Data, &failed); err != nil || fr[4].Name != "response.failed" || failed.Response.Status != "failed" || failed.Response.Error.Message == "" {
		t.Fatalf("failed event %s %s", fr[4].Name, fr[4].Data)
	}
	// And the decoder reads both failure events as the stream's error.
	for _, f := range fr[3:] {
		if _, err := oa.NewResponsesDecoder().Decode(f, nil); err == nil {
			t.Fatalf("%s decoded without an error", f.Name)
		}
	}
}

func TestRenderAndParseAnswerAgree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resp   adaptor.Response
		status string
	}{
		{"text", adaptor.Response{Parts: []adaptor.Part{{Type: "text", Text: "Hello"}}, FinishReason: "stop", Usage: usage}, "completed"},
		{"thinking then tool calls", adaptor.Response{Parts: []adaptor.Part{{Type: "thinking", Text: "hmm"}}, FinishReason: "tool_calls",
			ToolCalls: []adaptor.ToolCall{{ID: "toolu_1", Name: "get_weather", Args: `{"city":"Paris"}`}}, Usage: usage}, "completed"},
		{"cut by the budget", adaptor.Response{Parts: []adaptor.Part{{Type: "text", Text: "Once"}}, FinishReason: "length", Usage: usage}, "incomplete"},
		{"filtered", adaptor.Response{Parts: []adaptor.Part{{Type: "text", Text: ""}}, FinishReason: "content_filter", Usage: usage}, "incomplete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := Render([]byte(callBody), "claude-sonnet-4", &tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			var r oresp.Response
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if string(r.Status) != tc.status || r.Model != "claude-sonnet-4" || !strings.HasPrefix(r.ID, "resp_") || r.Usage.InputTokensDetails.CachedTokens != 100 {
				t.Fatalf("%s", body)
			}
			back, err := oa.ParseResponses(body)
			if err != nil {
				t.Fatal(err)
			}
			back.ID, back.Model = "", ""
			want := tc.resp
			if len(want.Parts) == 1 && want.Parts[0].Type == "thinking" {
				// No text and a call: no empty message item is made.
			} else if len(want.ToolCalls) == 0 && want.Parts[0].Text == "" {
				want.Parts = []adaptor.Part{{Type: "text"}}
			}
			if !reflect.DeepEqual(*back, want) {
				t.Fatalf("round trip\n got %+v\nwant %+v", *back, want)
			}
		})
	}
	if _, err := oa.ParseResponses([]byte(`{"choices":[]}`)); err == nil {
		t.Fatal("a chat completion parsed as a Response")
	}
}
