package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay/adaptor"
)

// testTimeout bounds one channel test.
const testTimeout = 30 * time.Second

// TestChannel sends a one-token call to channel id with modelName (one of
// its models; empty means its test_model, else its first chat model),
// records the response time and applies the health options: a dead
// channel is disabled, a slow one too when it passes
// ChannelDisableThreshold, and an automatically disabled channel that
// passes is enabled again. Tests are not billed.
func (r *Relay) TestChannel(ctx context.Context, id int, modelName string) (time.Duration, error) {
	ch := r.store.Channels.ByID(id)
	if ch == nil {
		return 0, model.ErrChannelNotFound
	}
	if modelName == "" {
		if modelName = model.TestModelFor(ch.TestModel, ch.Models); modelName == "" {
			return 0, errs.BadRequest("channel %d serves no chat model to test; set its test_model", id).WithCode("channel_no_test_model")
		}
	} else if !slices.Contains(ch.Models, modelName) {
		return 0, errs.BadRequest("channel %d does not serve model %s", id, modelName).WithParam("model").WithCode("channel_model_not_served")
	}
	if err := r.checkPrice(r.store.Options.Get(), modelName); err != nil {
		return 0, err
	}
	req := testRequest(modelName)
	req.UpstreamModel = ch.UpstreamModel(modelName)
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	ad := adaptorFor(ch)
	if ad == nil {
		return 0, errs.BadRequest("channel %d has a type this relay does not serve", id)
	}
	key := ch.LiveKey()
	up := upstreamOf(ch.WithKey(key))
	hreq, err := ad.NewRequest(ctx, up, req)
	if err != nil {
		var ue *adaptor.UpstreamError
		if errors.As(err, &ue) {
			return 0, classifyUpstream(ue, up.Key).err
		}
		return 0, errs.Internal(err)
	}
	hreq = adaptor.ForChannel(hreq, up)
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
		f := classifyUpstream(ad.ParseError(resp.StatusCode, resp.Header, body), up.Key)
		if f.disable && snap.Bool("AutomaticDisableChannelEnabled") {
			r.disableChannel(id, f.err.Error())
		}
		return elapsed, f.err
	}
	if rerr != nil {
		return elapsed, streamCut(rerr).err
	}
	if _, err := ad.ParseResponse(req, body); err != nil {
		return elapsed, notAnswer(err).err
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
			// A test run from the console waits for its answer, not for
			// the notice.
			go r.notifyEnabled(id)
		}
	}
	return elapsed, nil
}

// testRequest is the call a channel test makes, in neutral terms so that
// every adaptor builds it in its own format.
func testRequest(modelName string) *adaptor.Request {
	req := &adaptor.Request{Model: modelName, Format: adaptor.FormatNeutral}
	if strings.Contains(modelName, "embedding") {
		req.Mode = adaptor.ModeEmbeddings
		req.Input = []string{"hi"}
		return req
	}
	req.Mode = adaptor.ModeChat
	req.Chat = &adaptor.Chat{Messages: []adaptor.Message{{Role: adaptor.RoleUser, Parts: []adaptor.Part{{Type: adaptor.PartText, Text: "hi"}}}}}
	// Reasoning models refuse max_tokens; the others keep the test cheap.
	if !strings.HasPrefix(modelName, "o1") && !strings.HasPrefix(modelName, "o3") && !strings.HasPrefix(modelName, "o4") && !strings.HasPrefix(modelName, "gpt-5") {
		req.Chat.MaxTokens = 1
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

// UpdateBalance reads the provider's balance for channel id through its
// adaptor (adaptor.Balancer; the styles are rows of the type registry)
// and stores it.
func (r *Relay) UpdateBalance(ctx context.Context, id int) (float64, error) {
	ch := r.store.Channels.ByID(id)
	if ch == nil {
		return 0, model.ErrChannelNotFound
	}
	b, ok := adaptorFor(ch).(adaptor.Balancer)
	if !ok {
		return 0, ErrNoBalance
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	up := upstreamOf(ch)
	bal, err := b.Balance(ctx, r.client, up)
	if errors.Is(err, adaptor.ErrNoBalance) {
		return 0, ErrNoBalance
	}
	if err != nil {
		return 0, sideCallError(ctx, err, up.Key, adaptor.ErrBadBalance)
	}
	if err := r.store.RecordChannelBalance(context.WithoutCancel(ctx), id, bal); err != nil {
		return 0, err
	}
	return bal, nil
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
