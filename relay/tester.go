package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/openai"
)

// testTimeout bounds one channel test.
const testTimeout = 30 * time.Second

// TestChannel sends a one-token call to channel id with modelName (the
// channel's first model when empty), records the response time and applies
// the health options: a dead channel is disabled, a slow one too when it
// passes ChannelDisableThreshold, and an automatically disabled channel that
// passes is enabled again. Tests are not billed.
func (r *Relay) TestChannel(ctx context.Context, id int, modelName string) (time.Duration, error) {
	ch := r.store.Channels.ByID(id)
	if ch == nil {
		return 0, model.ErrChannelNotFound
	}
	if modelName == "" {
		if len(ch.Models) == 0 {
			return 0, errs.BadRequest("channel %d serves no model", id)
		}
		modelName = ch.Models[0]
	}
	req := testRequest(modelName)
	req.UpstreamModel = ch.UpstreamModel(modelName)
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	ad := adaptorFor(ch)
	key := ch.LiveKey()
	hreq, err := ad.NewRequest(ctx, ch.WithKey(key), req)
	if err != nil {
		return 0, errs.Internal(err)
	}
	start := time.Now()
	resp, err := r.client.Do(hreq)
	if err != nil {
		slog.Info("channel test could not reach the upstream", "channel_id", id, "err", err)
		return 0, &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "the upstream could not be reached", Err: err}
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	elapsed := time.Since(start)
	snap := r.store.Options.Get()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		f := classifyUpstream(ad.ParseError(resp.StatusCode, body))
		if f.disable && snap.Bool("AutomaticDisableChannelEnabled") {
			r.disableChannel(id, f.err.Error())
		}
		return elapsed, f.err
	}
	if rerr != nil {
		return elapsed, streamCut(rerr).err
	}
	if err := r.store.RecordChannelTest(context.WithoutCancel(ctx), id, elapsed); err != nil {
		return elapsed, err
	}
	threshold := time.Duration(snap.Float("ChannelDisableThreshold") * float64(time.Second))
	if threshold > 0 && elapsed > threshold {
		if snap.Bool("AutomaticDisableChannelEnabled") {
			r.disableChannel(id, fmt.Sprintf("test took %v, over ChannelDisableThreshold", elapsed.Round(time.Millisecond)))
		}
		return elapsed, errs.New(http.StatusBadGateway, errs.KindUpstream, "the channel answered in %.2fs, slower than the %.2fs threshold", elapsed.Seconds(), threshold.Seconds())
	}
	r.restore(ctx, ch, key)
	if ch.Status == model.ChannelAutoDisabled && snap.Bool("AutomaticEnableChannelEnabled") {
		if changed, err := r.store.SetChannelStatus(context.WithoutCancel(ctx), id, model.ChannelEnabled); err == nil && changed {
			slog.Info("channel enabled again after a passing test", "channel_id", id)
		}
	}
	return elapsed, nil
}

func testRequest(modelName string) *adaptor.Request {
	req := &adaptor.Request{Model: modelName, Fields: map[string]json.RawMessage{}}
	switch {
	case strings.Contains(modelName, "embedding"):
		req.Mode = adaptor.ModeEmbeddings
		req.Fields["input"] = json.RawMessage(`"hi"`)
	default:
		req.Mode = adaptor.ModeChat
		req.Fields["messages"] = json.RawMessage(`[{"role":"user","content":"hi"}]`)
		// Reasoning models refuse max_tokens; the others keep the test cheap.
		if !strings.HasPrefix(modelName, "o1") && !strings.HasPrefix(modelName, "o3") && !strings.HasPrefix(modelName, "o4") {
			req.Fields["max_tokens"] = json.RawMessage(`1`)
		}
	}
	return req
}

// errTestRunning refuses a second test of every channel while one runs.
var errTestRunning = errs.New(http.StatusConflict, errs.KindInvalidRequest, "a test of every channel is already running")

// TestAllChannels tests every channel one after another in the
// background. It returns at once; an error means a run is already going.
func (r *Relay) TestAllChannels() error {
	if !r.testing.CompareAndSwap(false, true) {
		return errTestRunning
	}
	go func() {
		defer r.testing.Store(false)
		r.testAll(r.bg)
	}()
	return nil
}

func (r *Relay) testAll(ctx context.Context) {
	for _, ch := range r.store.Channels.All() {
		if ctx.Err() != nil {
			return
		}
		// Channels disabled by hand stay out of automatic tests.
		if ch.Status == model.ChannelManuallyDisabled {
			continue
		}
		if _, err := r.TestChannel(ctx, ch.ID, ""); err != nil {
			slog.Info("channel test failed", "channel_id", ch.ID, "err", err.Error())
		}
	}
}

// StartMonitor tests every channel each ChannelTestFrequency minutes (the
// option is read every minute, so changing it needs no restart) until
// Close. Only the master node should run it.
func (r *Relay) StartMonitor() {
	go func() {
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		var last time.Time
		for {
			select {
			case <-r.bg.Done():
				return
			case now := <-tick.C:
				every := time.Duration(r.store.Options.Get().Int("ChannelTestFrequency")) * time.Minute
				if every <= 0 || now.Sub(last) < every {
					continue
				}
				last = now
				if r.testing.CompareAndSwap(false, true) {
					r.testAll(r.bg)
					r.testing.Store(false)
				}
			}
		}
	}()
}

// ErrNoBalance means the channel's provider exposes no balance to read.
var ErrNoBalance = errs.BadRequest("this channel's provider does not expose a balance")

// UpdateBalance reads the provider's balance for channel id and stores it.
// OpenAI-style billing endpoints (OpenAI, custom and compatible proxies),
// OpenRouter, DeepSeek and SiliconFlow are supported.
func (r *Relay) UpdateBalance(ctx context.Context, id int) (float64, error) {
	ch := r.store.Channels.ByID(id)
	if ch == nil {
		return 0, model.ErrChannelNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	var bal float64
	var err error
	switch ch.Type {
	case 1, 8:
		bal, err = r.openAIBalance(ctx, ch)
	case 20:
		var v struct {
			Data struct {
				TotalCredits float64 `json:"total_credits"`
				TotalUsage   float64 `json:"total_usage"`
			} `json:"data"`
		}
		err = r.getJSON(ctx, ch, openai.URL(ch.BaseURL, "/v1/credits"), &v)
		bal = v.Data.TotalCredits - v.Data.TotalUsage
	case 36:
		var v struct {
			BalanceInfos []struct {
				Currency     string `json:"currency"`
				TotalBalance string `json:"total_balance"`
			} `json:"balance_infos"`
		}
		err = r.getJSON(ctx, ch, strings.TrimRight(ch.BaseURL, "/")+"/user/balance", &v)
		for _, b := range v.BalanceInfos {
			if b.Currency == "USD" {
				_, _ = fmt.Sscan(b.TotalBalance, &bal)
			}
		}
	case 44:
		var v struct {
			Data struct {
				TotalBalance string `json:"totalBalance"`
			} `json:"data"`
		}
		err = r.getJSON(ctx, ch, openai.URL(ch.BaseURL, "/v1/user/info"), &v)
		_, _ = fmt.Sscan(v.Data.TotalBalance, &bal)
	default:
		return 0, ErrNoBalance
	}
	if err != nil {
		return 0, err
	}
	if err := r.store.RecordChannelBalance(context.WithoutCancel(ctx), id, bal); err != nil {
		return 0, err
	}
	return bal, nil
}

// openAIBalance reads OpenAI's legacy billing endpoints, which OpenAI-style
// proxies still serve: the hard limit minus this month's usage.
func (r *Relay) openAIBalance(ctx context.Context, ch *model.RelayChannel) (float64, error) {
	var sub struct {
		HardLimitUSD float64 `json:"hard_limit_usd"`
	}
	if err := r.getJSON(ctx, ch, openai.URL(ch.BaseURL, "/v1/dashboard/billing/subscription"), &sub); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var usage struct {
		TotalUsage float64 `json:"total_usage"` // cents
	}
	u := openai.URL(ch.BaseURL, "/v1/dashboard/billing/usage") + "?start_date=" + start.Format("2006-01-02") + "&end_date=" + now.AddDate(0, 0, 1).Format("2006-01-02")
	if err := r.getJSON(ctx, ch, u, &usage); err != nil {
		return 0, err
	}
	return sub.HardLimitUSD - usage.TotalUsage/100, nil
}

func (r *Relay) getJSON(ctx context.Context, ch *model.RelayChannel, url string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return errs.BadRequest("the channel's base URL is not usable")
	}
	req.Header.Set("Authorization", "Bearer "+ch.Key)
	resp, err := r.client.Do(req)
	if err != nil {
		return &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Message: "the upstream could not be reached", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return streamCut(err).err
	}
	if resp.StatusCode != http.StatusOK {
		return classifyUpstream(adaptorFor(ch).ParseError(resp.StatusCode, body)).err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return errs.New(http.StatusBadGateway, errs.KindUpstream, "the upstream's balance reply is not JSON this relay understands")
	}
	return nil
}

// UpdateAllBalances refreshes every enabled channel's balance in the
// background.
func (r *Relay) UpdateAllBalances() {
	go func() {
		for _, ch := range r.store.Channels.All() {
			if r.bg.Err() != nil {
				return
			}
			if ch.Status != model.ChannelEnabled {
				continue
			}
			if _, err := r.UpdateBalance(r.bg, ch.ID); err != nil && !errors.Is(err, ErrNoBalance) {
				slog.Info("channel balance update failed", "channel_id", ch.ID, "err", err.Error())
			}
		}
	}()
}
