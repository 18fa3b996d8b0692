package controller_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go"
	"github.com/openai/openai-go/responses"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

func respInput(text string) responses.ResponseNewParams {
	return responses.ResponseNewParams{Model: "gpt-4.1-mini", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(text)}}
}

func weatherTools() []responses.ToolUnionParam {
	return []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
		Name: "get_weather", Description: openai.String("Weather in a city"),
		Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]string{"type": "string"}}, "required": []string{"city"}},
	}}}
}

// streamText reads a Responses stream: its text, tool arguments, event
// types and final response.
type streamed struct {
	text, args string
	types      []string
	final      responses.Response
	call       responses.ResponseOutputItemUnion
}

func readResponsesStream(t *testing.T, c *openai.Client, p responses.ResponseNewParams) streamed {
	t.Helper()
	s := c.Responses.NewStreaming(context.Background(), p)
	var out streamed
	for s.Next() {
		ev := s.Current()
		out.types = append(out.types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			out.text += ev.Delta.OfString
		case "response.function_call_arguments.delta":
			out.args += ev.Delta.OfString
		case "response.output_item.done":
			if ev.Item.Type == "function_call" {
				out.call = ev.Item
			}
		case "response.completed", "response.incomplete":
			out.final = ev.Response
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return out
}

// lastLog waits for the consume log of the call and returns it.
func lastLog(t *testing.T, app *testkit.App, tokenID int, n int) model.Log {
	t.Helper()
	app.Settle(t)
	var logs []model.Log
	testkit.Eventually(t, 10*time.Second, fmt.Sprintf("%d consume logs for token %d", n, tokenID), func() bool {
		app.Settle(t)
		logs = nil
		app.Store.LogDB.Where("token_id = ? AND type = ?", tokenID, model.LogConsume).Order("id").Find(&logs)
		return len(logs) >= n
	})
	return logs[n-1]
}

func TestResponsesThroughAnOpenAIChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{Key: "sk-openai", CachedTokens: 6, ReasoningTokens: 2})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		chID := f.channel(t, map[string]any{"name": "openai", "type": 1, "key": "sk-openai", "base_url": up.URL,
			"models": "gpt-4.1-mini,alias-mini", "model_mapping": `{"alias-mini":"gpt-4.1-mini"}`})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		// Whole, with the usage detail billed.
		resp, err := c.Responses.New(ctx, respInput("Say hello"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.OutputText() != "Hello from the fake upstream" || resp.Usage.InputTokensDetails.CachedTokens != 6 || resp.Usage.OutputTokensDetails.ReasoningTokens != 2 {
			t.Fatalf("answer %q usage %+v", resp.OutputText(), resp.Usage)
		}
		log := lastLog(t, app, f.tok.ID, 1)
		if log.ChannelID != chID || log.PromptTokens != 9 || log.CompletionTokens != 5 || log.CachedTokens != 6 || log.ReasoningTokens != 2 || log.ModelName != "gpt-4.1-mini" || log.Quota <= 0 {
			t.Fatalf("log %+v", log)
		}

		// The body goes through byte for byte: unknown fields, spacing and
		// order survive; a mapped model name is the only change.
		body := `{ "model" : "alias-mini", "input":"hi", "x_vendor_field": {"keep": [1, 2]}, "store": true }`
		status, answer := rawCall(t, "POST", app.URL+"/v1/responses", body, map[string]string{"Authorization": "Bearer " + f.tok.Key})
		want := strings.Replace(body, `"alias-mini"`, `"gpt-4.1-mini"`, 1)
		if status != 200 || string(up.LastBody()) != want {
			t.Fatalf("%d %s\nupstream got %s\nwant         %s", status, answer, up.LastBody(), want)
		}

		// Streamed.
		st := readResponsesStream(t, c, respInput("Say hello"))
		if st.text != "Hello from the fake upstream" || st.final.Usage.TotalTokens != 14 || st.types[0] != "response.created" || st.types[len(st.types)-1] != "response.completed" {
			t.Fatalf("stream %+v", st)
		}
		if log := lastLog(t, app, f.tok.ID, 3); !log.IsStream || log.PromptTokens != 9 || log.CompletionTokens != 5 {
			t.Fatalf("stream log %+v", log)
		}

		// Tools, whole and streamed, and the tool result back.
		p := respInput("Weather in Paris?")
		p.Tools = weatherTools()
		resp, err = c.Responses.New(ctx, p)
		if err != nil || len(resp.Output) == 0 {
			t.Fatalf("tools: %v", err)
		}
		call := resp.Output[len(resp.Output)-1]
		if call.Type != "function_call" || call.Name != "get_weather" || !strings.Contains(call.Arguments, "Paris") {
			t.Fatalf("call %+v", call)
		}
		st = readResponsesStream(t, c, p)
		if st.call.Name != "get_weather" || st.args != `{"city": "Paris"}` {
			t.Fatalf("streamed call %+v args %q", st.call, st.args)
		}
		p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name),
			responses.ResponseInputItemParamOfFunctionCallOutput(call.CallID, `{"sky":"clear"}`),
		}}
		if _, err := c.Responses.New(ctx, p); err != nil {
			t.Fatalf("tool result: %v", err)
		}

		// The stored answer is fetched and deleted through the relay, on
		// the channel that made it, by the user who made it.
		got, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		if err != nil || got.ID != resp.ID {
			t.Fatalf("get: %v", err)
		}
		other := newRelayFixture(t, app, 1_000_000, nil)
		_, err = other.client(other.tok.Key).Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		apiError(t, err, 404, "")
		if err := other.client(other.tok.Key).Responses.Delete(ctx, resp.ID); err == nil {
			t.Fatal("another user deleted the response")
		}
		// Its input items are listed the same way, to its maker only.
		items, err := c.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{})
		if err != nil || len(items.Data) != 1 || items.Data[0].Type != "message" || items.Data[0].ID == "" ||
			len(items.Data[0].Content.OfInputItemContentList) != 1 || items.Data[0].Content.OfInputItemContentList[0].Text != "Weather in Paris?" {
			t.Fatalf("input items %+v: %v", items, err)
		}
		_, err = other.client(other.tok.Key).Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{})
		apiError(t, err, 404, "")
		// Cancel reaches the channel, which refuses a synchronous
		// response; another user's is not found.
		_, err = c.Responses.Cancel(ctx, resp.ID)
		apiError(t, err, 400, "")
		_, err = other.client(other.tok.Key).Responses.Cancel(ctx, resp.ID)
		apiError(t, err, 404, "")
		if err := c.Responses.Delete(ctx, resp.ID); err != nil {
			t.Fatal(err)
		}
		_, err = c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		apiError(t, err, 404, "")
		_, err = c.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{})
		apiError(t, err, 404, "")
		// A background response would be billed before its output exists:
		// refused before anything goes upstream.
		bg := respInput("Later, please")
		bg.Background = openai.Bool(true)
		_, err = c.Responses.New(ctx, bg)
		apiError(t, err, 400, "unsupported_parameter")
		_, err = c.Responses.Get(ctx, "resp_never_made", responses.ResponseGetParams{})
		apiError(t, err, 404, "")
		// GET and DELETE are not billed.
		if n := countLogs(t, app, f.tok.ID); n != 6 {
			t.Fatalf("%d consume logs, want 6 (one per POST)", n)
		}
	})
}

func countLogs(t *testing.T, app *testkit.App, tokenID int) int64 {
	t.Helper()
	app.Settle(t)
	var n int64
	app.Store.LogDB.Model(&model.Log{}).Where("token_id = ? AND type = ?", tokenID, model.LogConsume).Count(&n)
	return n
}

// A vendor without the Responses API answers 404: the call goes to the next
// channel, and the vendor is neither cooled down nor disabled for it.
func TestResponsesSkipAVendorWithoutTheAPI(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		lacking := fakeupstream.Start(fakeupstream.Behavior{Responses: fakeupstream.ResponsesBehavior{Unsupported: true}})
		defer lacking.Close()
		good := fakeupstream.Start(fakeupstream.Behavior{})
		defer good.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.option(t, "AutomaticDisableChannelEnabled", "true")
		f.option(t, "ChannelCooldownFailures", "1")
		lackID := f.channel(t, map[string]any{"name": "deepseek", "type": 36, "base_url": lacking.URL, "models": "gpt-4.1-mini", "priority": 10})
		f.channel(t, map[string]any{"name": "openai", "type": 1, "base_url": good.URL, "models": "gpt-4.1-mini"})
		c := f.client(f.tok.Key)
		for i := range 3 {
			if resp, err := c.Responses.New(context.Background(), respInput("hi")); err != nil || resp.OutputText() == "" {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		// Tried first every time: no cooldown took it out of the tier.
		if n := lacking.CallsTo("/v1/responses"); n != 3 {
			t.Fatalf("the vendor saw %d calls, want 3", n)
		}
		var ch model.Channel
		app.Store.DB.First(&ch, lackID)
		if ch.Status != model.ChannelEnabled {
			t.Fatalf("vendor channel status %d", ch.Status)
		}
		// Chat still goes to it.
		if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4.1-mini")); err != nil || lacking.CallsTo("/v1/chat/completions") != 1 {
			t.Fatalf("chat: %v", err)
		}
	})
}

func TestResponsesRefuseBadInputAndCallers(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "narrow", "unlimited_quota": true, "models": "gpt-4.1-mini"})
		f.channel(t, map[string]any{"name": "openai", "type": 1, "base_url": up.URL, "models": "gpt-4.1-mini,gpt-4.1"})
		auth := map[string]string{"Authorization": "Bearer " + f.tok.Key}
		big := `{"model":"gpt-4.1-mini","input":"` + strings.Repeat("a", int(app.Cfg.MaxRequestBodyMB)<<20) + `"}`
		for _, tc := range []struct {
			body   string
			status int
			want   string
		}{
			{`{"model":"gpt-4.1-mini"`, 400, "not a JSON object"},
			{`["model"]`, 400, "not a JSON object"},
			{`{"input":"hi"}`, 400, `"param":"model"`},
			{`{"model":7,"input":"hi"}`, 400, `"param":"model"`},
			{`{"model":"gpt-4.1-mini","input":12}`, 400, `"param":"input"`},
			{`{"model":"gpt-4.1-mini","input":[]}`, 400, `"param":"input"`},
			{`{"model":"gpt-4.1-mini","input":"hi","stream":"yes"}`, 400, `"param":"stream"`},
			{`{"model":"gpt-4.1-mini","input":"hi","max_output_tokens":-3}`, 400, `"param":"max_output_tokens"`},
			{`{"model":"gpt-4.1-mini","input":[{"role":"wizard","content":"hi"}]}`, 400, `"param":"input[0].role"`},
			{`{"model":"gpt-4.1-mini","input":"hi","tools":[{"type":"function"}]}`, 400, `"param":"tools[0].name"`},
			{`{"model":"gpt-4.1-mini","input":"hi","tool_choice":"maybe"}`, 400, `"param":"tool_choice"`},
			{big, 413, "request_too_large"},
			{`{"model":"gpt-4.1","input":"hi"}`, 403, "model_not_allowed"},
			{`{"model":"gpt-4.1-mini'; DROP TABLE logs; --","input":"hi"}`, 403, "model_not_allowed"},
		} {
			status, body := rawCall(t, "POST", app.URL+"/v1/responses", tc.body, auth)
			if status != tc.status || !strings.Contains(body, `"error":{`) || !strings.Contains(body, tc.want) {
				t.Fatalf("%.80s: %d %s", tc.body, status, body)
			}
		}
		// Ids on the stored routes: oversized, SQL-ish and unknown ones
		// are refused or not found, never passed on.
		for _, path := range []string{"/v1/responses/%s", "/v1/responses/%s/input_items"} {
			for id, want := range map[string]int{strings.Repeat("r", 300): 400, "x'%20OR%201=1--": 404, "resp_%E2%9C%93": 404} {
				status, body := rawCall(t, "GET", app.URL+fmt.Sprintf(path, id), "", auth)
				if status != want || !strings.Contains(body, `"error":{`) {
					t.Fatalf("GET %s: %d %s", fmt.Sprintf(path, id), status, body)
				}
			}
		}
		if status, body := rawCall(t, "POST", app.URL+"/v1/responses/"+strings.Repeat("r", 300)+"/cancel", "", auth); status != 400 {
			t.Fatalf("cancel with a long id: %d %s", status, body)
		}
		// Unicode goes through as text.
		if status, body := rawCall(t, "POST", app.URL+"/v1/responses", `{"model":"gpt-4.1-mini","input":"héllo 🌍 ${x} \u0000"}`, auth); status != 200 {
			t.Fatalf("unicode: %d %s", status, body)
		}
		if !bytes.Contains(up.LastBody(), []byte("🌍")) {
			t.Fatalf("upstream got %s", up.LastBody())
		}
		// Callers: anonymous and wrong keys fail on every Responses route;
		// admins and root use their own tokens like anyone.
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/v1/responses", `{"model":"gpt-4.1-mini","input":"hi"}`},
			{"GET", "/v1/responses/resp_1", ""},
			{"DELETE", "/v1/responses/resp_1", ""},
			{"GET", "/v1/responses/resp_1/input_items", ""},
			{"POST", "/v1/responses/resp_1/cancel", ""},
		} {
			for _, key := range []string{"", "Bearer sk-wrong", "Bearer " + f.tok.Key + "x"} {
				h := map[string]string{}
				if key != "" {
					h["Authorization"] = key
				}
				status, body := rawCall(t, r.method, app.URL+r.path, r.body, h)
				if status != 401 || !strings.Contains(body, `"error":{`) {
					t.Fatalf("%s %s with %q: %d %s", r.method, r.path, key, status, body)
				}
			}
		}
		admin := app.NewUser(t, model.RoleAdmin)
		var adminTok, rootTok tokenReply
		admin.Do("POST", "/api/token/", map[string]any{"name": "a", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &adminTok)
		f.root.Do("POST", "/api/token/", map[string]any{"name": "r", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &rootTok)
		f.root.Do("PUT", "/api/user/", map[string]any{"id": admin.UserID, "quota": 1_000_000}).Want(t, 200, true)
		f.root.Do("PUT", "/api/user/", map[string]any{"id": 1, "quota": 1_000_000}).Want(t, 200, true)
		for _, key := range []string{adminTok.Key, rootTok.Key} {
			resp, err := f.client(key).Responses.New(context.Background(), respInput("hi"))
			if err != nil {
				t.Fatal(err)
			}
			// A stored answer is its maker's alone, admin or not.
			_, err = f.client(f.tok.Key).Responses.Get(context.Background(), resp.ID, responses.ResponseGetParams{})
			apiError(t, err, 404, "")
		}
	})
}

// TestResponsesLedgerSumsAfterAMixedRun runs Responses calls of every kind
// at once, some failing and some abandoned, and checks the ledger's sums.
func TestResponsesLedgerSumsAfterAMixedRun(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		fast := fakeupstream.Start(fakeupstream.Behavior{Chunks: 6, CachedTokens: 3, ReasoningTokens: 2})
		defer fast.Close()
		slow := fakeupstream.Start(fakeupstream.Behavior{Chunks: 12, ChunkDelay: 3 * time.Millisecond, NoUsage: true})
		defer slow.Close()
		lacking := fakeupstream.Start(fakeupstream.Behavior{Responses: fakeupstream.ResponsesBehavior{Unsupported: true}})
		defer lacking.Close()
		down := fakeupstream.Start(fakeupstream.Behavior{FailStatus: 500})
		defer down.Close()
		claude := fakeupstream.StartAnthropic(fakeupstream.Behavior{Chunks: 5, CachedTokens: 4, ChunkDelay: time.Millisecond})
		defer claude.Close()
		f := newRelayFixture(t, app, 50_000_000, map[string]any{"name": "small", "remain_quota": 60_000})
		var big tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "big", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &big)
		f.channel(t, map[string]any{"name": "lacking", "type": 36, "base_url": lacking.URL, "models": "gpt-4.1-mini", "priority": 5})
		f.channel(t, map[string]any{"name": "fast", "type": 1, "base_url": fast.URL, "models": "gpt-4.1-mini"})
		f.channel(t, map[string]any{"name": "slow", "type": 1, "base_url": slow.URL, "models": "gpt-4.1-mini,slow-model"})
		f.channel(t, map[string]any{"name": "down", "type": 1, "base_url": down.URL, "models": "broken-model"})
		f.channel(t, map[string]any{"name": "claude", "type": 14, "base_url": claude.URL, "models": "claude-mix"})

		const calls = 160
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		var mu sync.Mutex
		outcomes := map[string]int{}
		for i := range calls {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				rng := rand.New(rand.NewPCG(uint64(i), 9))
				key := big.Key
				if i%3 == 0 {
					key = f.tok.Key
				}
				c := f.client(key)
				p := respInput("hello")
				p.Model = []string{"gpt-4.1-mini", "gpt-4.1-mini", "slow-model", "broken-model", "claude-mix"}[rng.IntN(5)]
				if rng.IntN(2) == 0 {
					p.Tools = weatherTools()
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				outcome := "ok"
				switch rng.IntN(3) {
				case 0:
					if _, err := c.Responses.New(ctx, p); err != nil {
						outcome = "error"
					}
				case 1:
					s := c.Responses.NewStreaming(ctx, p)
					for s.Next() {
					}
					if s.Err() != nil {
						outcome = "error"
					}
					s.Close()
				default:
					s := c.Responses.NewStreaming(ctx, p)
					if s.Next() {
						cancel()
						outcome = "left"
					} else {
						outcome = "error"
					}
					for s.Next() {
					}
					s.Close()
				}
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		if outcomes["ok"] == 0 || outcomes["error"] == 0 || outcomes["left"] == 0 {
			t.Fatalf("the mix did not cover every case: %v", outcomes)
		}
		app.Settle(t)
		var user model.User
		app.Store.DB.First(&user, f.user.UserID)
		var userLogs int64
		app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", user.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&userLogs)
		if user.UsedQuota != userLogs || user.Quota < 0 || user.Quota+user.UsedQuota != 50_000_000 {
			t.Fatalf("user quota %d used %d logs %d", user.Quota, user.UsedQuota, userLogs)
		}
		for _, id := range []int{f.tok.ID, big.ID} {
			var tok model.Token
			app.Store.DB.First(&tok, id)
			var sum int64
			app.Store.LogDB.Model(&model.Log{}).Where("token_id = ? AND type = ?", id, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&sum)
			if tok.UsedQuota != sum || tok.RemainQuota < 0 || (!tok.UnlimitedQuota && tok.RemainQuota+tok.UsedQuota != 60_000) {
				t.Fatalf("token %s used %d logs %d remain %d", tok.Name, tok.UsedQuota, sum, tok.RemainQuota)
			}
		}
		var failed int64
		app.Store.LogDB.Model(&model.Log{}).Where("model_name = ?", "broken-model").Count(&failed)
		if failed != 0 {
			t.Fatalf("%d consume logs for calls that never succeeded", failed)
		}
	})
}

// An Anthropic channel does not speak Responses: the call goes as a
// Messages call and the answer comes back as a Response, whole or streamed.
func TestResponsesThroughAnAnthropicChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.StartAnthropic(fakeupstream.Behavior{Key: "sk-ant-fake", Chunks: 4, CachedTokens: 20, CacheCreationTokens: 5})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"type": 14, "name": "claude", "key": "sk-ant-fake", "base_url": up.URL, "models": "claude-sonnet-4-5"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		p := respInput("Say hello")
		p.Model = "claude-sonnet-4-5"
		p.Instructions = openai.String("Be brief.")
		p.MaxOutputTokens = openai.Int(300)
		resp, err := c.Responses.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		// Anthropic's input_tokens excludes the cache: 9 + 20 read + 5 written.
		if resp.OutputText() != "Hello from the fake upstream" || resp.Status != "completed" || resp.Model != "claude-sonnet-4-5" ||
			resp.Usage.InputTokens != 34 || resp.Usage.InputTokensDetails.CachedTokens != 20 || resp.Usage.OutputTokens != 4 {
			t.Fatalf("answer %q %s usage %+v", resp.OutputText(), resp.Status, resp.Usage)
		}
		body := string(up.LastBody())
		if !strings.Contains(body, `"max_tokens":300`) || !strings.Contains(body, `"system":[{"type":"text","text":"Be brief."}]`) || !strings.Contains(body, `"content":[{"type":"text","text":"Say hello"}]`) {
			t.Fatalf("converted body %s", body)
		}
		if log := lastLog(t, app, f.tok.ID, 1); log.PromptTokens != 34 || log.CachedTokens != 20 || log.CacheCreationTokens != 5 || log.CompletionTokens != 4 {
			t.Fatalf("log %+v", log)
		}
		// The relay keeps no converted answer: nothing to fetch.
		_, err = c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		apiError(t, err, 404, "")

		st := readResponsesStream(t, c, p)
		want := "response.created response.in_progress response.output_item.added response.content_part.added"
		if st.text != "Hello from the fake upstream" || !strings.HasPrefix(strings.Join(st.types, " "), want) || st.types[len(st.types)-1] != "response.completed" ||
			st.final.Usage.InputTokens != 34 || st.final.Usage.OutputTokens != 4 || st.final.OutputText() != st.text {
			t.Fatalf("stream %+v", st)
		}

		// Tools both ways: the call comes back as a function_call, its
		// result goes up as a tool_result.
		p.Tools = weatherTools()
		resp, err = c.Responses.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		call := resp.Output[len(resp.Output)-1]
		if call.Type != "function_call" || call.CallID != "toolu_01Fake" || call.Name != "get_weather" || call.Arguments != `{"city":"Paris"}` {
			t.Fatalf("call %+v", resp.Output)
		}
		if body := string(up.LastBody()); !strings.Contains(body, `"tools":[{"name":"get_weather","description":"Weather in a city","input_schema":`) {
			t.Fatalf("tools body %s", body)
		}
		st = readResponsesStream(t, c, p)
		if st.call.CallID != "toolu_01Fake" || st.call.Name != "get_weather" || st.args != `{"city": "Paris"}` || st.call.Arguments != st.args {
			t.Fatalf("streamed call %+v %q", st.call, st.args)
		}
		p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name),
			responses.ResponseInputItemParamOfFunctionCallOutput(call.CallID, "sunny"),
		}}
		if _, err := c.Responses.New(ctx, p); err != nil {
			t.Fatal(err)
		}
		body = string(up.LastBody())
		if !strings.Contains(body, `"type":"tool_use","id":"toolu_01Fake","name":"get_weather","input":{"city":"Paris"}`) ||
			!strings.Contains(body, `"type":"tool_result","tool_use_id":"toolu_01Fake","content":[{"type":"text","text":"sunny"}]`) {
			t.Fatalf("tool round trip body %s", body)
		}

		// What only a Responses upstream keeps cannot be converted: refused
		// before anything goes to the Anthropic channel.
		before := up.Calls()
		p = respInput("and then?")
		p.Model, p.PreviousResponseID = "claude-sonnet-4-5", openai.String("resp_earlier")
		_, err = c.Responses.New(ctx, p)
		apiError(t, err, 400, "")
		if up.Calls() != before {
			t.Fatal("an unconvertible call went upstream")
		}

		// A failure inside the stream reaches the client as Responses'
		// error event and response.failed.
		up.Set(fakeupstream.Behavior{Key: "sk-ant-fake", Chunks: 4, StreamErrorAfter: 2})
		s := c.Responses.NewStreaming(ctx, respInputFor("claude-sonnet-4-5"))
		var types []string
		var failed responses.Response
		for s.Next() {
			ev := s.Current()
			types = append(types, ev.Type)
			if ev.Type == "response.failed" {
				failed = ev.Response
			}
		}
		if n := len(types); n < 2 || types[n-2] != "error" || types[n-1] != "response.failed" || failed.Status != "failed" || failed.Error.Message == "" {
			t.Fatalf("events %v failed %+v err %v", types, failed, s.Err())
		}
	})
}

func respInputFor(model string) responses.ResponseNewParams {
	p := respInput("Say hello")
	p.Model = model
	return p
}

// Azure serves Responses on its v1 surface: the call goes through with the
// deployment as the body's model, and its stored answers are reached there.
func TestResponsesThroughAnAzureChannel(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.StartAzure(fakeupstream.Behavior{Key: "azure-key-0001", Chunks: 3, CachedTokens: 2, ReasoningTokens: 1}, "gpt-41-mini")
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"type": 3, "name": "azure", "key": "azure-key-0001", "base_url": up.URL, "other": "2024-10-21", "models": "gpt-4.1-mini"})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		body := `{"model":"gpt-4.1-mini","input":"hi","x_field":[1]}`
		status, answer := rawCall(t, "POST", app.URL+"/v1/responses", body, map[string]string{"Authorization": "Bearer " + f.tok.Key})
		// One API's deployment naming drops the dots; nothing else changes.
		if status != 200 || string(up.LastBody()) != `{"model":"gpt-41-mini","input":"hi","x_field":[1]}` || up.LastHeader().Get("api-key") != "azure-key-0001" ||
			up.LastHeader().Get("Authorization") != "" || up.CallsTo("/openai/v1/responses") != 1 {
			t.Fatalf("%d %s; upstream got %s", status, answer, up.LastBody())
		}
		resp, err := c.Responses.New(ctx, respInput("Say hello"))
		if err != nil || resp.OutputText() != "Hello from the fake upstream" || resp.Usage.OutputTokensDetails.ReasoningTokens != 1 {
			t.Fatalf("whole: %v %+v", err, resp)
		}
		st := readResponsesStream(t, c, respInput("Say hello"))
		if st.text != "Hello from the fake upstream" || st.final.Usage.InputTokensDetails.CachedTokens != 2 {
			t.Fatalf("stream %+v", st)
		}
		p := respInput("Weather?")
		p.Tools = weatherTools()
		st = readResponsesStream(t, c, p)
		if st.call.Name != "get_weather" || st.args != `{"city": "Paris"}` {
			t.Fatalf("tool stream %+v", st)
		}
		if log := lastLog(t, app, f.tok.ID, 4); log.CachedTokens != 2 || log.ReasoningTokens != 1 || log.PromptTokens != 9 || log.CompletionTokens != 4 {
			t.Fatalf("log %+v", log)
		}
		got, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		if err != nil || got.ID != resp.ID || up.CallsTo("/openai/v1/responses/"+resp.ID) != 1 {
			t.Fatalf("get: %v", err)
		}
		if err := c.Responses.Delete(ctx, resp.ID); err != nil {
			t.Fatal(err)
		}
		_, err = c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		apiError(t, err, 404, "")
	})
}

// A call with previous_response_id goes to the channel that keeps that
// answer, whatever the pick would have been; another user's id is refused.
func TestResponsesContinueOnTheChannelThatKeepsTheAnswer(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		a := fakeupstream.Start(fakeupstream.Behavior{})
		defer a.Close()
		b := fakeupstream.Start(fakeupstream.Behavior{})
		defer b.Close()
		f := newRelayFixture(t, app, 10_000_000, nil)
		f.channel(t, map[string]any{"name": "a", "type": 1, "base_url": a.URL, "models": "gpt-4.1-mini"})
		f.channel(t, map[string]any{"name": "b", "type": 1, "base_url": b.URL, "models": "gpt-4.1-mini"})
		c := f.client(f.tok.Key)
		ctx := context.Background()
		first, err := c.Responses.New(ctx, respInput("Remember: blue."))
		if err != nil {
			t.Fatal(err)
		}
		keeper := a
		if b.StoredResponses() == 1 {
			keeper = b
		}
		// Each fake refuses an unknown previous_response_id, so a call
		// picked onto the other channel would fail.
		prev := first.ID
		for i := range 8 {
			p := respInput("And the colour?")
			p.PreviousResponseID = openai.String(prev)
			next, err := c.Responses.New(ctx, p)
			if err != nil {
				t.Fatalf("continuation %d: %v", i, err)
			}
			prev = next.ID
		}
		if keeper.StoredResponses() != 9 {
			t.Fatalf("the keeping channel holds %d answers, want 9", keeper.StoredResponses())
		}
		other := newRelayFixture(t, app, 1_000_000, nil)
		p := respInput("And the colour?")
		p.PreviousResponseID = openai.String(first.ID)
		_, err = other.client(other.tok.Key).Responses.New(ctx, p)
		if e := apiError(t, err, 400, "previous_response_not_found"); e.Param != "previous_response_id" {
			t.Fatalf("param %q", e.Param)
		}
		// Bad ids on the stored routes.
		long := strings.Repeat("r", 300)
		if status, body := rawCall(t, "GET", app.URL+"/v1/responses/"+long, "", map[string]string{"Authorization": "Bearer " + f.tok.Key}); status != 400 || !strings.Contains(body, `"param":"response_id"`) {
			t.Fatalf("long id: %d %s", status, body)
		}
		for _, id := range []string{"resp_'%3B%20DROP%20TABLE%20logs%3B--", "%F0%9F%8C%8D", "resp_" + first.ID[5:] + "x"} {
			for _, m := range []string{"GET", "DELETE"} {
				if status, body := rawCall(t, m, app.URL+"/v1/responses/"+id, "", map[string]string{"Authorization": "Bearer " + f.tok.Key}); status != 404 || !strings.Contains(body, `"error":{`) {
					t.Fatalf("%s %s: %d %s", m, id, status, body)
				}
			}
		}
	})
}

// Cached input tokens are billed at CacheRatio, through the one cost
// function, so the same call costs less when the upstream reports cache
// reads.
func TestResponsesBillCachedTokensAtTheCacheRatio(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{PromptTokens: 2000, Chunks: 3})
		defer up.Close()
		f := newRelayFixture(t, app, 50_000_000, nil)
		f.channel(t, map[string]any{"name": "openai", "type": 1, "base_url": up.URL, "models": "gpt-4.1-mini"})
		c := f.client(f.tok.Key)
		if _, err := c.Responses.New(context.Background(), respInput("hi")); err != nil {
			t.Fatal(err)
		}
		up.Set(fakeupstream.Behavior{PromptTokens: 2000, Chunks: 3, CachedTokens: 1800})
		if _, err := c.Responses.New(context.Background(), respInput("hi")); err != nil {
			t.Fatal(err)
		}
		full, cached := lastLog(t, app, f.tok.ID, 1), lastLog(t, app, f.tok.ID, 2)
		if cached.CachedTokens != 1800 || cached.PromptTokens != 2000 || cached.Quota >= full.Quota || cached.Quota <= 0 {
			t.Fatalf("full %d quota, cached %d quota (%+v)", full.Quota, cached.Quota, cached)
		}
	})
}
