package fakeupstream_test

import (
	"context"
	"errors"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aopt "github.com/anthropics/anthropic-sdk-go/option"

	"switchyard/internal/fakeupstream"
)

func TestFakeCountTokensAsTheSDKReadsIt(t *testing.T) {
	s := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant"})
	defer s.Close()
	c := anthropic.NewClient(aopt.WithBaseURL(s.URL), aopt.WithAPIKey("sk-ant"), aopt.WithMaxRetries(0))
	ctx := context.Background()
	p := anthropic.MessageCountTokensParams{Model: "claude-sonnet-4-5",
		System:   anthropic.MessageCountTokensParamsSystemUnion{OfString: anthropic.String("Be brief.")},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("one two three"))}}
	n, err := c.Messages.CountTokens(ctx, p)
	// 3 to prime + 2 system words + 4 for the message + 3 words.
	if err != nil || n.InputTokens != 12 || int(n.InputTokens) != fakeupstream.CountTokens(s.LastBody()) {
		t.Fatalf("%v %+v", err, n)
	}
	for _, bad := range []anthropic.MessageCountTokensParams{
		{Model: "claude-sonnet-4-5"},
		{Messages: p.Messages},
	} {
		_, err := c.Messages.CountTokens(ctx, bad)
		var e *anthropic.Error
		if !errors.As(err, &e) || e.StatusCode != 400 {
			t.Fatalf("want a 400, got %v", err)
		}
	}
	wrong := anthropic.NewClient(aopt.WithBaseURL(s.URL), aopt.WithAPIKey("sk-wrong"), aopt.WithMaxRetries(0))
	_, err = wrong.Messages.CountTokens(ctx, p)
	var e *anthropic.Error
	if !errors.As(err, &e) || e.StatusCode != 401 {
		t.Fatalf("want a 401, got %v", err)
	}
}
