package relay

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aopt "github.com/anthropics/anthropic-sdk-go/option"

	"switchyard/common/config"
	"switchyard/internal/fakeupstream"
	"switchyard/model"
)

func (h *harness) anthropicClient() *anthropic.Client {
	c := anthropic.NewClient(aopt.WithBaseURL(h.srv.URL), aopt.WithAPIKey("sk-client"), aopt.WithMaxRetries(0))
	return &c
}

func messageParams(modelName string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     anthropic.Model(modelName),
		MaxTokens: 100,
		System:    []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hello"))},
	}
}

// TestAnthropicClientsReachOpenAIChannels drives /v1/messages with the
// official Anthropic SDK against an OpenAI-format channel.
func TestAnthropicClientsReachOpenAIChannels(t *testing.T) {
	up := fakeupstream.Start(fakeupstream.Behavior{Chunks: 4})
	defer up.Close()
	h := newHarness(t, config.Config{})
	h.addChannel(model.Channel{Name: "a", BaseURL: up.URL, Models: "claude-3-5-haiku-20241022"})
	c := h.anthropicClient()
	ctx := context.Background()

	msg, err := c.Messages.New(ctx, messageParams("claude-3-5-haiku-20241022"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "Hello from the fake upstream" || msg.StopReason != "end_turn" || msg.Usage.InputTokens != 9 || msg.Usage.OutputTokens != 4 {
		t.Fatalf("message %+v", msg)
	}

	s := c.Messages.NewStreaming(ctx, messageParams("claude-3-5-haiku-20241022"))
	acc := anthropic.Message{}
	for s.Next() {
		if err := acc.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 1 || acc.Content[0].Text != "Hello from the fake upstream" || acc.StopReason != "end_turn" || acc.Usage.OutputTokens != 4 {
		t.Fatalf("streamed message %+v", acc)
	}

	// Tools: the upstream's tool call comes back as a tool_use block.
	p := messageParams("claude-3-5-haiku-20241022")
	p.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}}}}
	s = c.Messages.NewStreaming(ctx, p)
	acc = anthropic.Message{}
	for s.Next() {
		if err := acc.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 1 || acc.Content[0].Type != "tool_use" || acc.Content[0].Name != "get_weather" || string(acc.Content[0].Input) != `{"city": "Paris"}` || acc.StopReason != "tool_use" {
		t.Fatalf("tool use %+v", acc.Content)
	}
	whole, err := c.Messages.New(ctx, p)
	if err != nil || whole.Content[0].Type != "tool_use" || whole.StopReason != "tool_use" {
		t.Fatalf("whole tool use %+v %v", whole, err)
	}

	// Errors come in Anthropic's shape.
	_, err = c.Messages.New(ctx, messageParams("nobody-serves-this"))
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("err %v", err)
	}
	if got := apiErr.RawJSON(); got == "" || !contains(got, `"type":"error"`) || !contains(got, `"not_found_error"`) {
		t.Fatalf("error body %s", got)
	}
	bad := messageParams("claude-3-5-haiku-20241022")
	bad.MaxTokens = 0
	_, err = c.Messages.New(ctx, bad)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !contains(apiErr.RawJSON(), "max_tokens") {
		t.Fatalf("err %v", err)
	}
	h.settledAll()
	_, _, logs, _ := h.ledger.snapshot()
	if len(logs) != 4 {
		t.Fatalf("%d consume logs for 4 served calls", len(logs))
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
