// Package relay is the /v1 engine: it picks a channel, reserves quota,
// sends the call upstream through the channel's adaptor with the client's
// context, fails over before the first byte, streams the answer event by
// event and settles the exact cost once.
package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchyard/common/channeltype"
	"switchyard/common/config"
	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/model/limit"
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
	"switchyard/relay/adaptor/azure"
	"switchyard/relay/adaptor/bedrock"
	"switchyard/relay/adaptor/gemini"
	"switchyard/relay/adaptor/openai"
	"switchyard/relay/adaptor/vertex"
)

// maxAnswerBytes caps a whole (non-streamed) answer read into memory.
const maxAnswerBytes = 256 << 20

// Relay is the engine. Build one with New and share it.
type Relay struct {
	store   *model.Store
	ledger  Ledger
	client  *http.Client
	timeout time.Duration
	// idle ends a stream whose upstream sent nothing for this long; 0 is
	// no bound.
	idle    time.Duration
	metrics *Metrics
	tok     *Tokenizer
	// intn draws the weighted pick; tests may replace it.
	intn func(int) int
	// bg is cancelled by Close; background work (channel disabling,
	// tests) runs under it.
	bg     context.Context
	cancel context.CancelFunc
	// testing is set while a test of every channel runs.
	testing atomic.Bool
	// stored remembers which channel keeps which stored answer
	// (responses.go).
	stored *StoredResponses
	// priceLog says once per model that it has no price (billing.go).
	priceLog priceLog
}

// New builds the engine. reg receives the relay's metrics; nil keeps them
// unexported.
func New(cfg config.Config, store *model.Store, ledger Ledger, reg prometheus.Registerer) *Relay {
	tr := &http.Transport{
		Proxy:                 adaptor.ProxyFor,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	bg, cancel := context.WithCancel(context.Background())
	r := &Relay{
		store:   store,
		ledger:  ledger,
		client:  &http.Client{Transport: tr, CheckRedirect: noRedirects},
		timeout: cfg.RelayTimeout,
		idle:    cfg.StreamIdleTimeout,
		metrics: NewMetrics(reg, store, ledger),
		tok:     &Tokenizer{},
		intn:    rand.IntN,
		bg:      bg,
		cancel:  cancel,
		stored:  NewStoredResponses(store.Redis, cfg.RedisKeyPrefix),
	}
	go r.tok.Warm()
	return r
}

// Close stops background work started by the relay.
func (r *Relay) Close() { r.cancel() }

// noRedirects makes the client hand a 3xx back instead of following it:
// a redirect would carry the channel's key to wherever it points, so the
// relay never follows one and judges it as a failed attempt.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// adaptors maps a registry adaptor kind to its adaptor.
var adaptors = map[string]adaptor.Adaptor{
	channeltype.KindOpenAI:    openai.Adaptor{},
	channeltype.KindAzure:     azure.Adaptor{},
	channeltype.KindAnthropic: anthropic.Adaptor{},
	channeltype.KindGemini:    gemini.Adaptor{},
	channeltype.KindVertex:    vertex.New(),
	channeltype.KindBedrock:   bedrock.New(),
}

// adaptorFor returns the adaptor speaking ch's wire format, from the
// registry row of its type; nil for a type the registry does not serve.
func adaptorFor(ch *model.RelayChannel) adaptor.Adaptor {
	t, ok := channeltype.Get(ch.Type)
	if !ok {
		return nil
	}
	return adaptors[t.Adaptor]
}

// upstreamOf is the attempt's view of ch for its adaptor.
func upstreamOf(ch *model.RelayChannel) *adaptor.Upstream {
	up := &adaptor.Upstream{ID: ch.ID, Type: ch.Type, BaseURL: ch.BaseURL, Key: ch.Key, Other: ch.Other, Headers: ch.Headers, Config: ch.Settings, Proxy: ch.Proxy}
	if t, ok := channeltype.Get(ch.Type); ok {
		up.Vendor = t.Vendor
		if up.Other == "" {
			up.Other = t.OtherDefault
		}
	}
	return up
}

// Caller is who makes a call, as token auth found them.
type Caller struct {
	UserID         int
	Username       string
	TokenID        int
	TokenName      string
	Group          string
	UnlimitedQuota bool
	// AllowsModel reports whether the token may use a model; nil allows all.
	AllowsModel func(string) bool
	// PinnedChannel is the channel an admin named with sk-…-<id>; 0 none.
	PinnedChannel int
	IP            string
	RequestID     string
	// Limits are the caller's rate limits (limits.go); nil is none.
	Limits Limits
}

// call is the state of one relayed call across its attempts.
type call struct {
	caller Caller
	front  adaptor.Front
	req    *adaptor.Request
	price  Price
	prompt int
	start  time.Time

	// Filled by the attempt that answered (or broke off mid-answer).
	channel    *model.RelayChannel
	usage      *adaptor.Usage
	text       []byte
	firstToken time.Time
	// wrote is set once any byte reached the client: no retry after it.
	wrote bool
	// served is set when the call produced an answer to bill.
	served bool
	// observed is set once the call's metrics were recorded.
	observed bool
	// abort is set when the answer was cut after bytes went out: the
	// connection is then aborted rather than closed cleanly.
	abort bool
	// whole is set when the upstream's answer arrived complete.
	whole bool
	// res is the call's reservation; a stream checkpoints its charge so
	// far on it (checkpoint.go) when it is a Checkpointer.
	res Reservation
	// checkpointed is when the stream last did; exactPrompt is the
	// prompt's tokenizer count, taken at the first checkpoint.
	checkpointed time.Time
	exactPrompt  int
	// ckRecorded is set once the stream's checkpoint record was given;
	// later checkpoints give only its figures.
	ckRecorded bool
	// answerID is the upstream's id of the answer, when it gave one.
	answerID string
	// estTokens is held against TPM limits while the call is in flight;
	// tokens is what settlement counts; lease is the serving attempt's
	// hold on its channel (selector.go).
	estTokens, tokens int64
	lease             *lease
	// settles is what settle hands the ledger (limits.go).
	settles limit.Settles
	// keepText is set when the consume log keeps the answer's text
	// (LogContentEnabled): a whole answer is then decoded for it.
	keepText bool
}

// textBufs hold the text of answers for local counts, so that a stream's
// growing text is not garbage per call; maxPooledText bounds what a
// buffer may keep.
var textBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

const maxPooledText = 256 << 10

// Serve relays one call of mode in front's client format. It returns an
// error only when nothing was written to w, for the caller to render in
// the route's API style.
func (r *Relay) Serve(w http.ResponseWriter, hr *http.Request, caller Caller, front adaptor.Front, mode adaptor.Mode) error {
	c := &call{caller: caller, front: front, start: time.Now()}
	tb := textBufs.Get().(*[]byte)
	c.text = (*tb)[:0]
	defer func() {
		// Nothing keeps the answer's text past the call (settlement and
		// the consume log copy what they need).
		if cap(c.text) <= maxPooledText {
			*tb = c.text[:0]
			textBufs.Put(tb)
		}
	}()
	err := r.serve(w, hr, c, mode)
	if err != nil && !c.observed {
		// Calls refused before any channel was tried count too.
		modelName := ""
		if c.req != nil {
			modelName = c.req.Model
		}
		r.metrics.observe(modelName, 0, errs.As(err).Status, time.Since(c.start), 0)
	}
	return err
}

func (r *Relay) serve(w http.ResponseWriter, hr *http.Request, c *call, mode adaptor.Mode) error {
	caller := c.caller
	req, err := c.front.Parse(hr, mode)
	if err != nil {
		return err
	}
	if req.Form != nil {
		defer req.Form.RemoveAll()
	}
	c.req = req
	if caller.AllowsModel != nil && !caller.AllowsModel(req.Model) {
		return errs.Forbidden("this token may not use model %s", req.Model).WithCode("model_not_allowed")
	}
	snap := r.store.Options.Get()
	var tiers []model.Tier
	var pinned *model.RelayChannel
	if caller.PinnedChannel > 0 {
		pinned = r.store.Channels.ByID(caller.PinnedChannel)
		if pinned == nil {
			return errs.NotFound("channel %d does not exist", caller.PinnedChannel)
		}
		if pinned.Status != model.ChannelEnabled {
			return errs.Forbidden("channel %d is disabled", caller.PinnedChannel)
		}
	} else {
		tiers = r.store.Channels.Tiers(caller.Group, req.Model)
		if len(tiers) == 0 {
			return errs.NotFound("no channel serves model %s to group %s", req.Model, caller.Group).WithCode("model_not_found").WithParam("model")
		}
		// A call that continues a kept answer can only be served where
		// that answer is kept (responses.go).
		if pinned, err = r.continuing(hr.Context(), c, tiers); err != nil {
			return err
		}
	}
	opts := snap.Parsed()
	c.keepText = opts.LogContentEnabled
	c.price = priceOf(snap, req.Model, caller.Group)
	if err := r.checkPrice(snap, req.Model); err != nil {
		return err
	}
	// The reservation needs only an estimate: a byte count stands in for
	// the tokenizer, which cost a quarter of the relay's CPU per call.
	// The exact local count runs only when an upstream reports no usage.
	c.prompt = approxPrompt(req)
	var estimate int64
	switch {
	case mode.PerImage():
		estimate = c.price.Image(req.Model, req.Image.Size, req.Image.Quality, req.Image.N)
	case mode == adaptor.ModeSpeech:
		estimate = c.price.Quota(req.SpeechChars, 0)
	default:
		estimate = c.price.Estimate(req, c.prompt, opts.PreConsumedQuota)
	}
	// Rate limits are judged beside the reservation (limits.go).
	c.estTokens = tokenEstimate(req, c.prompt, opts.PreConsumedQuota)
	admission := r.admitStart(hr.Context(), c)
	acct := model.Account{UserID: caller.UserID, TokenID: caller.TokenID, UnlimitedToken: caller.UnlimitedQuota}
	var res Reservation
	if ar, ok := r.ledger.(AlongReserver); ok && admission != nil {
		res, err = ar.ReserveAlong(hr.Context(), acct, estimate, admission)
	} else {
		res, err = r.ledger.Reserve(hr.Context(), acct, estimate)
	}
	lt, lerr := admission.Wait(w.Header())
	if err != nil {
		// An empty balance outranks a rate limit: retrying cannot help it.
		lt.Settle(hr.Context(), 0)
		return err
	}
	if lerr != nil {
		res.Settle(0, nil)
		return lerr
	}
	c.res = res
	settled := false
	defer func() {
		// A panic in an adaptor must not leave quota or limits held.
		if !settled {
			res.Settle(0, nil)
			c.tokens = 0
			r.settleLimits(hr.Context(), c, lt)
		}
	}()

	lastErr := r.attempts(hr.Context(), w, c, snap, tiers, pinned)
	if c.served {
		r.keep(hr.Context(), c)
	}
	settled = true
	cost, log := r.bill(c, snap)
	// The call is settled before a whole answer leaves, so a client that
	// sends its next call on reading this one finds its parallel slot free,
	// its balance charged and its consume logs in the order of its calls.
	// The access log line and the metrics come after.
	charged := r.settle(hr.Context(), c, res, lt, cost, log)
	if c.whole && c.wrote {
		_ = http.NewResponseController(w).Flush()
	}
	status := http.StatusOK
	if lastErr != nil {
		status = lastErr.err.Status
	}
	chID := 0
	if c.channel != nil {
		chID = c.channel.ID
	}
	var ttft time.Duration
	if !c.firstToken.IsZero() {
		ttft = c.firstToken.Sub(c.start)
	}
	r.metrics.observe(req.Model, chID, status, time.Since(c.start), ttft)
	c.observed = true
	if lastErr != nil && c.served {
		slog.Warn("relayed answer cut short", "request_id", caller.RequestID, "channel_id", chID, "charged", charged, "err", scrub(lastErr.err.Error(), c.channelKey()))
	}
	if c.abort {
		// The client got part of an answer: cut the connection so it
		// cannot take the part for the whole (see net/http/httputil).
		panic(http.ErrAbortHandler)
	}
	if lastErr != nil && !c.wrote {
		return lastErr.err
	}
	return nil
}

// attempts tries channels until one answers, a failure is the request's
// own, bytes reached the client, or RetryTimes other channels were tried.
func (r *Relay) attempts(ctx context.Context, w http.ResponseWriter, c *call, snap *model.OptionSnapshot, tiers []model.Tier, pinned *model.RelayChannel) *failure {
	retries := snap.Parsed().RetryTimes
	tried := make([]int, 0, 4)
	var last *failure
	for attempt := 0; ; attempt++ {
		var l *lease
		if pinned != nil {
			if attempt > 0 {
				break
			}
			l = r.pinnedLease(pinned)
		} else {
			l = r.choose(ctx, c, snap, tiers, tried)
		}
		if l == nil {
			if last == nil {
				return &failure{err: errs.New(http.StatusServiceUnavailable, errs.KindUnavailable, "every channel serving model %s is busy; try again shortly", c.req.Model).WithCode("channels_busy")}
			}
			break
		}
		ch := l.ch
		tried = append(tried, ch.ID)
		f := r.try(ctx, w, c, l.upstream())
		ch.Health.Release()
		if r.endAttempt(ctx, c, l, f, snap) {
			// A dead key of a multi-key channel: its other keys may serve.
			tried = tried[:len(tried)-1]
		}
		if f == nil {
			return nil
		}
		last = f
		if !f.retry || c.wrote || attempt >= retries {
			break
		}
		slog.Info("relay failing over", "request_id", c.caller.RequestID, "channel_id", ch.ID, "err", scrub(f.err.Error(), ch.Key))
	}
	return last
}

// try makes one attempt on ch.
func (r *Relay) try(ctx context.Context, w http.ResponseWriter, c *call, ch *model.RelayChannel) *failure {
	req := c.req
	// Nothing from an earlier failed attempt counts.
	c.usage, c.text, c.firstToken, c.served, c.whole, c.answerID = nil, c.text[:0], time.Time{}, false, false, ""
	ad := adaptorFor(ch)
	if ad == nil {
		return classifyUpstream(adaptor.Unsupported("this channel's type", req.Mode), "")
	}
	if !adaptor.Native(ad, req.Format) {
		// A conversion reads the whole request; a pass-through front may
		// only have scanned it.
		if err := req.Complete(); err != nil {
			return &failure{err: errs.As(err)}
		}
	}
	req.UpstreamModel = ch.UpstreamModel(req.Model)
	up := upstreamOf(ch)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hreq, err := ad.NewRequest(actx, up, req)
	if err != nil {
		var ue *adaptor.UpstreamError
		if errors.As(err, &ue) {
			return classifyUpstream(ue, up.Key)
		}
		return &failure{err: errs.Internal(err)}
	}
	hreq = adaptor.ForChannel(hreq, up)
	var timer *time.Timer
	if r.timeout > 0 {
		timer = time.AfterFunc(r.timeout, func() { cancel(errAttemptTimeout) })
	}
	// The transport itself: the client's redirect loop has nothing to do
	// (the relay follows none) and cost six allocations a call. Adaptors
	// set their own auth headers, so the client's basic auth from a URL's
	// user info is not wanted either.
	resp, err := r.client.Transport.RoundTrip(hreq)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		return classifyTransport(ctx, actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer r.idleBound(cancel, resp)()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if ctx.Err() != nil {
			return clientGone()
		}
		ue := ad.ParseError(resp.StatusCode, resp.Header, body)
		if ue.Status == http.StatusNotFound && req.Format != ad.Format() && adaptor.Native(ad, req.Format) {
			// A format spoken beside the adaptor's own lives on an endpoint
			// some vendors of its kind lack (/v1/responses): skip the
			// channel for this call and hold nothing against it.
			ue.Class = adaptor.ClassUnsupported
		}
		return classifyUpstream(ue, up.Key)
	}
	c.channel = ch
	native := adaptor.Native(ad, req.Format)
	switch {
	case req.Stream && (isEventStream(resp) || isFrameStream(ad)):
		return r.stream(ctx, actx, cancel, w, c, ad, resp, native)
	case req.Mode == adaptor.ModeSpeech && native:
		defer r.idleBound(cancel, resp)()
		return r.passBinary(ctx, w, c, resp)
	default:
		defer r.idleBound(cancel, resp)()
		return r.whole(ctx, w, c, ad, resp, native)
	}
}

// isFrameStream reports an adaptor whose streams are not SSE (Bedrock).
func isFrameStream(ad adaptor.Adaptor) bool {
	_, ok := ad.(adaptor.FrameReader)
	return ok
}

func isEventStream(resp *http.Response) bool {
	ct := resp.Header.Get("Content-Type")
	return len(ct) >= 17 && ct[:17] == "text/event-stream"
}

// whole relays a non-streamed answer: read it all (so a cut answer can
// still fail over), check that it is an answer in the channel's format,
// then write it: the upstream's bytes when the client speaks that format,
// else the front's rendering of it.
func (r *Relay) whole(ctx context.Context, w http.ResponseWriter, c *call, ad adaptor.Adaptor, resp *http.Response, native bool) *failure {
	body, err := readAnswer(resp)
	if err != nil {
		if ctx.Err() != nil {
			return clientGone()
		}
		return streamCut(err)
	}
	req := c.req
	if rm, ok := ad.(adaptor.ResponseMeter); ok && native && !c.keepText {
		// Passed through with the upstream's usage: nothing else of the
		// answer is needed, so it is not decoded.
		if u, id, ok := rm.MeterResponse(req, body); ok {
			c.usage, c.answerID = u, id
			c.served, c.whole = true, true
			c.firstToken = time.Now()
			if ct := resp.Header.Get("Content-Type"); ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			return sendWhole(w, resp.StatusCode, c, body)
		}
	}
	answer, err := ad.ParseResponse(req, body)
	if err != nil {
		// A provider may refuse inside a 2xx (Gemini's blocked prompt).
		if ue := (*adaptor.UpstreamError)(nil); errors.As(err, &ue) {
			return classifyUpstream(ue, c.channelKey())
		}
		return notAnswer(err)
	}
	c.usage, c.answerID = answer.Usage, answer.ID
	c.text = appendAnswerText(c.text[:0], answer)
	c.served, c.whole = true, true
	c.firstToken = time.Now()
	h := w.Header()
	if native {
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			h.Set("Content-Type", ct)
		}
	} else {
		if answer.Usage == nil {
			// The client is told the count billing will use.
			answer.Usage = r.localUsage(c)
		}
		if body, err = c.front.Render(req, answer); err != nil {
			c.served = false
			return &failure{err: errs.Internal(err)}
		}
		h.Set("Content-Type", "application/json")
	}
	return sendWhole(w, resp.StatusCode, c, body)
}

// sendWhole writes a whole answer with its length. The engine flushes it
// once the call is settled, so the client has all of it before the access
// log line and the metrics, which used to wait in net/http's buffer in
// front of the answer until the handler returned.
func sendWhole(w http.ResponseWriter, status int, c *call, body []byte) *failure {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	c.wrote = true
	if _, err := w.Write(body); err != nil {
		return clientGone()
	}
	return nil
}

// readAnswer reads a whole answer of at most maxAnswerBytes, in one
// buffer of its announced length when it announced one.
func readAnswer(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n < 1<<20 {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			if err == io.EOF && n == 0 {
				return buf, nil
			}
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
}

// appendAnswerText appends what an answer produced, for a local count.
func appendAnswerText(b []byte, a *adaptor.Response) []byte {
	for _, p := range a.Parts {
		b = append(b, p.Text...)
	}
	for _, tc := range a.ToolCalls {
		b = append(b, tc.Name...)
		b = append(b, tc.Args...)
	}
	return b
}

// localUsage is the call's usage counted locally, for an upstream that
// reported none.
func (r *Relay) localUsage(c *call) *adaptor.Usage {
	p, q := r.exactPrompt(c), r.tok.Count(c.req.Model, string(c.text))
	return &adaptor.Usage{PromptTokens: p, CompletionTokens: q, TotalTokens: p + q}
}

// channelKey is the key of the channel that answered, for scrubbing.
func (c *call) channelKey() string {
	if c.channel == nil {
		return ""
	}
	return c.channel.Key
}

// passBinary streams a binary answer (speech audio) through as it comes.
func (r *Relay) passBinary(ctx context.Context, w http.ResponseWriter, c *call, resp *http.Response) *failure {
	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	c.wrote, c.served = true, true
	c.firstToken = time.Now()
	rc := http.NewResponseController(w)
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	for {
		n, err := resp.Body.Read(*buf)
		if n > 0 {
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return clientGone()
			}
			_ = rc.Flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return clientGone()
			}
			c.abort = true
			return streamCut(err)
		}
	}
}

// bill is what the call costs and its consume log, for its one Settle: a
// call that produced nothing costs nothing and logs nothing. It sets
// c.tokens for the limits.
func (r *Relay) bill(c *call, snap *model.OptionSnapshot) (int64, *model.Log) {
	if !c.served {
		return 0, nil
	}
	req := c.req
	prompt, completion := 0, 0
	if c.usage != nil {
		prompt, completion = c.usage.PromptTokens, c.usage.CompletionTokens
		if prompt == 0 && completion == 0 && c.usage.TotalTokens > 0 {
			prompt = c.usage.TotalTokens
		}
		if !c.whole {
			// A cut or abandoned stream may have reported usage only at
			// its start (Anthropic's message_start): what arrived since
			// counts too.
			completion = max(completion, r.tok.Count(req.Model, string(c.text)))
		}
	} else if !req.Mode.PerImage() && req.Mode != adaptor.ModeSpeech {
		prompt = r.exactPrompt(c)
		completion = r.tok.Count(req.Model, string(c.text))
	}
	var cost int64
	switch req.Mode {
	case adaptor.ModeImages, adaptor.ModeImageEdit:
		cost = c.price.Image(req.Model, req.Image.Size, req.Image.Quality, req.Image.N)
		prompt, completion = 0, 0
	case adaptor.ModeSpeech:
		prompt, completion = req.SpeechChars, 0
		cost = c.price.Quota(prompt, 0)
	case adaptor.ModeTranscription, adaptor.ModeTranslation:
		if c.usage == nil {
			prompt = 0
		}
		cost = c.price.Quota(prompt, completion)
	default:
		u := adaptor.Usage{PromptTokens: prompt, CompletionTokens: completion}
		if c.usage != nil {
			u.CachedTokens, u.CacheCreationTokens = c.usage.CachedTokens, c.usage.CacheCreationTokens
		}
		cost = c.price.Cost(u)
	}
	c.tokens = int64(prompt) + int64(completion)
	u := adaptor.Usage{PromptTokens: prompt, CompletionTokens: completion}
	if c.usage != nil && !req.Mode.PerImage() && req.Mode != adaptor.ModeSpeech {
		u.CachedTokens, u.CacheCreationTokens, u.ReasoningTokens = c.usage.CachedTokens, c.usage.CacheCreationTokens, c.usage.ReasoningTokens
	}
	log := c.consumeLog(u, cost)
	if opts := snap.Parsed(); opts.LogContentEnabled {
		log.Content = logContent(c, opts.LogContentMaxBytes)
	}
	return cost, log
}

// consumeLog is the call's consume record for usage u charged cost: the
// one shape both the settlement and a stream's checkpoint write.
func (c *call) consumeLog(u adaptor.Usage, cost int64) *model.Log {
	log := &model.Log{
		UserID: c.caller.UserID, Username: c.caller.Username, TokenID: c.caller.TokenID, TokenName: c.caller.TokenName,
		ModelName: c.req.Model, ChannelID: c.channel.ID, PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens,
		CachedTokens: u.CachedTokens, CacheCreationTokens: u.CacheCreationTokens, ReasoningTokens: u.ReasoningTokens,
		Quota: cost, ElapsedMs: time.Since(c.start).Milliseconds(), IsStream: c.req.Stream,
		RequestID: c.caller.RequestID, IP: c.caller.IP,
	}
	if !c.firstToken.IsZero() {
		log.FirstTokenMs = c.firstToken.Sub(c.start).Milliseconds()
	}
	return log
}

// logContent keeps the request and the answer for debugging, each cut to
// max bytes, with secrets redacted.
func logContent(c *call, max int) string {
	cut := func(b []byte) string {
		if len(b) > max {
			b = b[:max]
		}
		return string(b)
	}
	return model.RedactSecrets("request: " + cut(c.req.Raw) + "\nanswer: " + cut(c.text))
}

// exactPrompt counts the prompt's tokens with the tokenizer, for calls
// whose upstream reported no usage.
func (r *Relay) exactPrompt(c *call) int {
	if err := c.req.Complete(); err != nil {
		// A scanned body the whole read refuses (the upstream took it):
		// the scan's bound is the count.
		return approxPrompt(c.req)
	}
	return r.tok.Count(c.req.Model, c.req.PromptText) + c.req.PromptExtra
}

// approxPrompt is the prompt's estimate for the reservation: a byte
// count stands in for the tokenizer, over the text or, for a request a
// front only scanned, over the scan's bound on it.
func approxPrompt(req *adaptor.Request) int {
	if req.PromptText == "" && req.PromptBytes > 0 {
		return approxTokensOf(req.PromptBytes) + req.PromptExtra
	}
	return ApproxTokens(req.PromptText) + req.PromptExtra
}
