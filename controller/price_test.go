package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
)

// TestUnpricedModelIsNeverBilledAtZero: a model without a price is named
// to the admin in the channel test; with UnknownModelRatio at 0 calls and
// tests of it are refused before going upstream, never served free.
func TestUnpricedModelIsNeverBilledAtZero(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		id := f.channel(t, map[string]any{"name": "new vendor", "base_url": up.URL, "models": "brand-new-model,gemini-2.5-flash"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", id), nil).Want(t, 200, true)
		if !strings.Contains(tr.Message, "brand-new-model has no price") || !strings.Contains(tr.Message, "UnknownModelRatio 30") {
			t.Fatalf("channel test message %q", tr.Message)
		}
		if tr := f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d?model=gemini-2.5-flash", id), nil).Want(t, 200, true); tr.Message != "" {
			t.Fatalf("a priced model's test warns: %q", tr.Message)
		}
		if _, err := c.Chat.Completions.New(ctx, chat("brand-new-model")); err != nil {
			t.Fatalf("unpriced at UnknownModelRatio: %v", err)
		}
		logs := consumeLogs(t, app, f.user.UserID)
		if len(logs) != 1 || logs[0].Quota != int64((9+3)*30) {
			t.Fatalf("billed at UnknownModelRatio 30: %+v", logs)
		}

		f.option(t, "UnknownModelRatio", "0")
		calls := up.Calls()
		_, err := c.Chat.Completions.New(ctx, chat("brand-new-model"))
		e := apiError(t, err, 403, "model_price_unset")
		if !strings.Contains(e.Message, "ModelRatio") || up.Calls() != calls {
			t.Fatalf("refusal %q; upstream called %d times", e.Message, up.Calls()-calls)
		}
		tr = f.root.Do("GET", fmt.Sprintf("/api/channel/test/%d", id), nil)
		if tr.Success || !strings.Contains(tr.Message, "no price") || up.Calls() != calls {
			t.Fatalf("channel test of an unpriced model at ratio 0: %s", tr.Raw)
		}
		if len(consumeLogs(t, app, f.user.UserID)) != 1 {
			t.Fatal("a refused call was logged as consumed")
		}
	})
}
