package controller_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"google.golang.org/genai"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

// TestUnpricedModelIsRefused pins the default (UnknownModelRatio 0): a
// model ModelRatio does not price is refused before anything goes
// upstream, in the client's own format, with a message naming the model
// and both ways to price it; the channel test tells the admin the same.
// An operator who sets UnknownModelRatio above 0 gets One API's habit:
// the call bills at that ratio and the channel test says so.
func TestUnpricedModelIsRefused(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		id := f.channel(t, map[string]any{"name": "new vendor", "base_url": up.URL, "models": "brand-new-model,gemini-2.5-flash"})
		ctx := context.Background()
		wantMessage := func(t *testing.T, where, msg string) {
			t.Helper()
			for _, part := range []string{"brand-new-model has no price", "ModelRatio", "UnknownModelRatio above 0"} {
				if !strings.Contains(msg, part) {
					t.Fatalf("%s: message %q lacks %q", where, msg, part)
				}
			}
		}
		if v := app.Store.Options.Get().Float("UnknownModelRatio"); v != 0 {
			t.Fatalf("UnknownModelRatio defaults to %g", v)
		}

		_, err := f.client(f.tok.Key).Chat.Completions.New(ctx, chat("brand-new-model"))
		wantMessage(t, "OpenAI client", apiError(t, err, 403, "model_price_unset").Message)

		_, err = f.anthropic(f.tok.Key).Messages.New(ctx, claudeParams("brand-new-model", false))
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != 403 {
			t.Fatalf("Anthropic client: %v", err)
		}
		wantMessage(t, "Anthropic client", string(ae.RawJSON()))

		_, err = genaiClient(t, app, f.tok.Key).Models.GenerateContent(ctx, "brand-new-model", genai.Text("Hi"), nil)
		var ge genai.APIError
		if !errors.As(err, &ge) || ge.Code != 403 || ge.Status != "PERMISSION_DENIED" {
			t.Fatalf("Gemini client: %v", err)
		}
		wantMessage(t, "Gemini client", ge.Message)

		tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", id), nil).Want(t, 200, false)
		wantMessage(t, "channel test", tr.Message)
		if up.Calls() != 0 {
			t.Fatalf("an unpriced model went upstream %d times", up.Calls())
		}
		if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=gemini-2.5-flash", id), nil).Want(t, 200, true); tr.Message != "" {
			t.Fatalf("a priced model's test warns: %q", tr.Message)
		}
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 0 {
			t.Fatalf("refused calls were logged as consumed: %+v", logs)
		}

		f.option(t, "UnknownModelRatio", "30")
		tr = f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", id), nil).Want(t, 200, true)
		if !strings.Contains(tr.Message, "brand-new-model has no price") || !strings.Contains(tr.Message, "UnknownModelRatio 30") {
			t.Fatalf("channel test message at UnknownModelRatio 30: %q", tr.Message)
		}
		if _, err := f.client(f.tok.Key).Chat.Completions.New(ctx, chat("brand-new-model")); err != nil {
			t.Fatalf("unpriced at UnknownModelRatio 30: %v", err)
		}
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 1 || logs[0].Quota != int64((9+3)*30) {
			t.Fatalf("billed at UnknownModelRatio 30: %+v", logs)
		}
	})
}
