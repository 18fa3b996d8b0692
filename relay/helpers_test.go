package relay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"

	"switchyard/common/config"
	"switchyard/common/errs"
	"switchyard/internal/testkit/fixtureprice"
	"switchyard/model"
	"switchyard/relay/adaptor"
	anthropicfront "switchyard/relay/front/anthropic"
	openaifront "switchyard/relay/front/openai"
)

// fakeLedger keeps balances in memory with the real ledger's contract:
// reserve up to what is left, settle once, never below zero.
type fakeLedger struct {
	mu       sync.Mutex
	balance  map[int]int64 // by user
	open     int
	settles  int
	logs     []model.Log
	released int
	// checkpoints are the streams' charges so far, in the order recorded.
	checkpoints []model.Log
}

type fakeRes struct {
	l        *fakeLedger
	user     int
	reserved int64
	done     bool
	record   *model.Log // the last Checkpoint's
}

func newFakeLedger() *fakeLedger { return &fakeLedger{balance: map[int]int64{}} }

func (l *fakeLedger) Reserve(_ context.Context, a model.Account, estimate int64) (Reservation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bal := l.balance[a.UserID]
	if bal <= 0 {
		return nil, errs.New(http.StatusForbidden, errs.KindInsufficientQuota, "quota exhausted")
	}
	take := min(estimate, bal)
	l.balance[a.UserID] = bal - take
	l.open++
	return &fakeRes{l: l, user: a.UserID, reserved: take}, nil
}

func (r *fakeRes) Settle(cost int64, log *model.Log) int64 {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.done {
		panic("settled twice")
	}
	r.done = true
	l.open--
	l.settles++
	charged := min(cost, r.reserved+l.balance[r.user])
	l.balance[r.user] += r.reserved - charged
	if log == nil {
		l.released++
		return 0
	}
	log.Quota = charged
	l.logs = append(l.logs, *log)
	return charged
}

// Checkpoint records a stream's charge so far, as the real ledger's
// Checkpoint does before its next group commit.
func (r *fakeRes) Checkpoint(cost int64, log *model.Log) {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return
	}
	cp := *log
	cp.Quota = cost
	r.record = &cp
	r.l.checkpoints = append(r.l.checkpoints, cp)
}

// CheckpointFigures records new figures on the last checkpoint's record.
func (r *fakeRes) CheckpointFigures(cost int64, f model.StreamFigures) {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done || r.record == nil {
		return
	}
	cp := *r.record
	cp.Quota = cost
	cp.PromptTokens, cp.CompletionTokens, cp.CachedTokens, cp.CacheCreationTokens, cp.ReasoningTokens =
		f.Prompt, f.Completion, f.Cached, f.CacheCreation, f.Reasoning
	r.l.checkpoints = append(r.l.checkpoints, cp)
}

func (l *fakeLedger) snapshot() (open, settles int, logs []model.Log, bal int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.settles, append([]model.Log(nil), l.logs...), l.balance[1]
}

type harness struct {
	t      *testing.T
	store  *model.Store
	relay  *Relay
	ledger *fakeLedger
	srv    *httptest.Server
	caller Caller
}

func newHarness(t *testing.T, cfg config.Config) *harness {
	t.Helper()
	gin.SetMode(gin.TestMode)
	cfg.SQLitePath = filepath.Join(t.TempDir(), "relay.db")
	cfg.NodeType = "master"
	cfg.BcryptCost = 4
	cfg.InitialRootPassword = "root-password-for-tests"
	ctx := context.Background()
	store, err := model.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// The tests relay made-up names ("m"), which must have a price.
	prices, err := fixtureprice.Merge(store.Options.Get().String("ModelRatio"))
	if err == nil {
		err = store.Options.Set(ctx, "ModelRatio", prices)
	}
	if err != nil {
		t.Fatal(err)
	}
	led := newFakeLedger()
	led.balance[1] = 1 << 40
	h := &harness{t: t, store: store, ledger: led, relay: New(cfg, store, led, nil)}
	t.Cleanup(h.relay.Close)
	h.caller = Caller{UserID: 1, Username: "alice", TokenID: 7, TokenName: "t", Group: "default", IP: "127.0.0.1", RequestID: "req-1"}
	r := gin.New()
	v1 := r.Group("/v1", func(c *gin.Context) { errs.SetStyle(c, errs.StyleOpenAI); c.Set(errs.RequestIDKey, "req-1"); c.Next() })
	for path, mode := range map[string]adaptor.Mode{
		"/chat/completions": adaptor.ModeChat, "/completions": adaptor.ModeCompletions, "/embeddings": adaptor.ModeEmbeddings,
		"/moderations": adaptor.ModeModerations, "/images/generations": adaptor.ModeImages, "/audio/speech": adaptor.ModeSpeech,
		"/audio/transcriptions": adaptor.ModeTranscription, "/audio/translations": adaptor.ModeTranslation,
	} {
		mode := mode
		v1.POST(path, func(c *gin.Context) {
			if err := h.relay.Serve(c.Writer, c.Request, h.caller, openaifront.Front{}, mode); err != nil {
				errs.Render(c, err)
			}
		})
	}
	r.POST("/v1/messages", func(c *gin.Context) {
		errs.SetStyle(c, errs.StyleAnthropic)
		c.Set(errs.RequestIDKey, "req-1")
		if err := h.relay.Serve(c.Writer, c.Request, h.caller, anthropicfront.Front{}, adaptor.ModeChat); err != nil {
			errs.Render(c, err)
		}
	})
	h.srv = httptest.NewServer(r)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) setOption(key, value string) {
	h.t.Helper()
	if err := h.store.Options.Set(context.Background(), key, value); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) addChannel(ch model.Channel) int {
	h.t.Helper()
	if ch.Key == "" {
		ch.Key = "sk-upstream"
	}
	if ch.Type == 0 {
		ch.Type = 8
	}
	if err := h.store.CreateChannels(context.Background(), []*model.Channel{&ch}); err != nil {
		h.t.Fatal(err)
	}
	return ch.ID
}

func (h *harness) client() *openai.Client {
	c := openai.NewClient(option.WithBaseURL(h.srv.URL+"/v1/"), option.WithAPIKey("sk-client"), option.WithMaxRetries(0))
	return &c
}

// settledAll waits until every reservation is settled.
func (h *harness) settledAll() {
	h.t.Helper()
	waitFor(h.t, "every reservation settled", func() bool {
		open, _, _, _ := h.ledger.snapshot()
		return open == 0
	})
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
