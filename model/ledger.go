package model

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"switchyard/common/crypto"
	"switchyard/common/errs"
	"switchyard/model/limit"
)

// The ledger keeps every balance that a relayed request touches in memory
// and is the only writer of the quota columns, so reservations are atomic
// operations on the one copy of a balance and no relayed request waits
// for the database (ARCHITECTURE.md, "The quota ledger").
//
// In memory, for each user and token: remain is what may still be
// reserved, reserved what in-flight requests hold, used what was charged.
// The database row's quota (remain_quota for tokens) equals remain +
// reserved once the flusher has caught up, and used_quota equals used.
//
// Reservations live only in memory, so a crash leaves none behind in the
// database: at the next start every balance is read back from its row,
// which only settled charges have touched. What a crash can lose is the
// unflushed window of settlements, which under-charges and never
// over-charges.
//
// That is the single-node ledger, used without Redis. With Redis the
// reservable balances live in Redis instead, so several nodes share them
// (ledger_shared.go); everything about the database stays the same.

// Account names the balances one request draws on.
type Account struct {
	UserID  int
	TokenID int
	// UnlimitedToken skips the token's balance (the user's still counts).
	UnlimitedToken bool
}

// Flush tuning: a batch is written at least every FlushInterval or when it
// reaches FlushBatch settlements.
const (
	FlushInterval = 100 * time.Millisecond
	FlushBatch    = 500
)

type balance struct {
	mu       sync.Mutex
	loaded   bool
	remain   int64
	reserved int64
	used     int64
	// per is the period quota's figures (ledger_period.go).
	per periodBal
}

type settlement struct {
	acct    Account
	charged int64
	log     *Log
	// ckptID names the checkpoint row this settlement replaces, if any.
	ckptID string
	// periods are the starts (unix s) of the user's and the token's
	// periods charged, 0 where none (ledger_period.go).
	periods [2]int64
}

// Ledger reserves and settles quota. Store.Ledger is the one instance.
type Ledger struct {
	store *Store
	// node names this process in ledger_nodes, checkpoints and Redis.
	node string
	// shared is set when Redis holds the balances (several nodes).
	shared *sharedBalances

	mu     sync.Mutex
	users  map[int]*balance
	tokens map[int]*balance

	qmu      sync.Mutex
	queue    []settlement
	pending  []*batch                  // failed batches, retried first, each under its id
	dirty    map[*Reservation]struct{} // checkpoint records changed since the last flush
	ckOpen   map[*Reservation]struct{} // checkpointed and not settled: the figures row's streams
	inflight atomic.Int64              // settlements taken off the queues by Flush and not yet written or back in pending
	kick     chan struct{}
	open     atomic.Int64
	fmu      sync.Mutex // one flush at a time

	channelsTable atomic.Bool
	// ckChanged is set when a checkpoint's figures moved since the last
	// figures write; figBuf and figWritten belong to Flush (ledger_figures.go).
	ckChanged  atomic.Bool
	figBuf     []byte
	figWritten time.Time

	// logIns and logInsLogDB insert consume logs into the main and the
	// log database (log_insert.go); ckptSnaps and ckptTombs write
	// checkpoint rows (ledger_checkpoint.go).
	logIns, logInsLogDB, ckptSnaps, ckptTombs *chunkedInsert

	// pconf caches period quotas; clock is the ledger's time (SetClock).
	pconf periodConfs
	clock atomic.Pointer[func() time.Time]

	tool bool // opened by OpenTool: nothing runs
	stop chan struct{}
	done chan struct{}
}

func newLedger(ctx context.Context, s *Store) (*Ledger, error) {
	l := &Ledger{store: s, node: crypto.RandomString(16), users: map[int]*balance{}, tokens: map[int]*balance{},
		logIns: newLogInserter(), logInsLogDB: newLogInserter(), ckptSnaps: newCheckpointInserter(false), ckptTombs: newCheckpointInserter(true),
		dirty: map[*Reservation]struct{}{}, ckOpen: map[*Reservation]struct{}{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	l.initPeriods()
	if s.Redis != nil {
		l.shared = newSharedBalances(s.Redis, s.Cfg.RedisKeyPrefix, l.node, l)
	}
	if s.tool {
		// A command-line tool: no node, no flusher, no recovery.
		l.tool = true
		close(l.done)
		return l, nil
	}
	if err := l.registerNode(ctx); err != nil {
		return nil, err
	}
	if l.shared != nil {
		if err := l.shared.register(ctx); err != nil {
			slog.Warn("ledger: redis unreachable at start; reserving from local shares until it answers", "err", err)
		}
		if _, err := l.ReleaseOrphans(ctx); err != nil {
			slog.Warn("ledger: releasing dead nodes' reservations failed", "err", err)
		}
	}
	// What a crash left behind: outbox batches whose balances were not
	// applied, and streams checkpointed but never settled.
	if _, err := l.RecoverOutbox(ctx, 0); err != nil {
		slog.Error("ledger: recovering the outbox failed; retried each minute", "err", err)
	}
	if _, err := l.RecoverCheckpoints(ctx); err != nil {
		slog.Error("ledger: charging orphaned checkpoints failed; retried each minute", "err", err)
	}
	go l.run()
	return l, nil
}

func (l *Ledger) entry(m map[int]*balance, id int) *balance {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := m[id]
	if b == nil {
		b = &balance{}
		m[id] = b
	}
	return b
}

// loadUser fills b from the users row; b.mu must be held.
func (l *Ledger) loadUser(ctx context.Context, b *balance, id int) error {
	if b.loaded {
		return nil
	}
	var row User
	if err := l.store.DB.WithContext(ctx).Select("id", "quota", "used_quota", "period_used", "period_start").First(&row, id).Error; err != nil {
		if notFound(err) {
			return ErrUserNotFound
		}
		return errs.Internal(err)
	}
	b.remain, b.used, b.loaded = row.Quota, row.UsedQuota, true
	b.per = periodBal{start: row.PeriodStart, used: row.PeriodUsed}
	return nil
}

// loadToken fills b from the tokens row; b.mu must be held.
func (l *Ledger) loadToken(ctx context.Context, b *balance, id int) error {
	if b.loaded {
		return nil
	}
	var row Token
	if err := l.store.DB.WithContext(ctx).Select("id", "remain_quota", "used_quota", "period_used", "period_start").First(&row, id).Error; err != nil {
		if notFound(err) {
			return ErrTokenNotFound
		}
		return errs.Internal(err)
	}
	b.remain, b.used, b.loaded = row.RemainQuota, row.UsedQuota, true
	b.per = periodBal{start: row.PeriodStart, used: row.PeriodUsed}
	return nil
}

// lockAccount locks the user's balance and then the token's (always in
// that order, so two requests never wait on each other crosswise) and
// loads them on first use.
func (l *Ledger) lockAccount(ctx context.Context, acct Account) (u, t *balance, unlock func(), err error) {
	u = l.entry(l.users, acct.UserID)
	u.mu.Lock()
	if err = l.loadUser(ctx, u, acct.UserID); err != nil {
		u.mu.Unlock()
		return nil, nil, nil, err
	}
	if acct.TokenID == 0 {
		return u, nil, u.mu.Unlock, nil
	}
	t = l.entry(l.tokens, acct.TokenID)
	t.mu.Lock()
	if err = l.loadToken(ctx, t, acct.TokenID); err != nil {
		t.mu.Unlock()
		u.mu.Unlock()
		return nil, nil, nil, err
	}
	return u, t, func() { t.mu.Unlock(); u.mu.Unlock() }, nil
}

// ErrUserQuotaExhausted and ErrTokenQuotaExhausted refuse a request whose
// balance is zero.
var (
	ErrUserQuotaExhausted = errs.New(http.StatusForbidden, errs.KindInsufficientQuota,
		"your account's quota is used up: redeem a code on the console's Top up page, or ask an administrator to add quota on the Users page").WithCode("user_quota_exhausted")
	ErrTokenQuotaExhausted = errs.New(http.StatusForbidden, errs.KindInsufficientQuota,
		"this token's own quota is used up (your account may still have quota): raise the token's quota or make it unlimited on the console's Tokens page").WithCode("token_quota_exhausted")
)

// Reservation is quota held for one request until Settle.
type Reservation struct {
	l      *Ledger
	acct   Account
	amount int64
	once   sync.Once

	mu        sync.Mutex
	settled   bool
	id        string // set by the first Checkpoint
	ckCost    int64
	ckLog     *Log
	ckFig     StreamFigures
	ckWritten bool // a checkpoint row may exist: Settle writes a tombstone

	// periods are the starts of the user's and the token's periods the
	// reservation is held against (0 none); pkeys their Redis keys.
	periods [2]int64
	pkeys   [2]string
}

// Reserved is the amount held.
func (r *Reservation) Reserved() int64 { return r.amount }

// Reserve holds up to estimate on the user's and the token's balances. A
// balance above zero but below the estimate is held whole, so a nearly
// empty token still serves one request at a time; a zero balance refuses.
func (l *Ledger) Reserve(ctx context.Context, acct Account, estimate int64) (*Reservation, error) {
	return l.ReserveAlong(ctx, acct, estimate, nil)
}

// ReserveAlong is Reserve with the call's rate-limit admission boarded on
// the reservation's round trip to Redis when the balances live there
// (limit.Pending.Board): one round trip for both. along may be nil.
func (l *Ledger) ReserveAlong(ctx context.Context, acct Account, estimate int64, along *limit.Pending) (*Reservation, error) {
	if estimate < 0 {
		estimate = 0
	}
	ap, err := l.periodsOf(ctx, acct, l.Now())
	if err != nil {
		return nil, err
	}
	held := [2]int64{ap.user.startOf(), ap.token.startOf()}
	if l.shared != nil {
		amount, pkeys, err := l.shared.reserve(ctx, acct, ap, estimate, along)
		if err != nil {
			return nil, err
		}
		l.open.Add(1)
		return &Reservation{l: l, acct: acct, amount: amount, periods: held, pkeys: pkeys}, nil
	}
	u, t, unlock, err := l.lockAccount(ctx, acct)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if u.remain <= 0 {
		return nil, ErrUserQuotaExhausted
	}
	amount := min(estimate, u.remain)
	limited := t != nil && !acct.UnlimitedToken
	if limited {
		if t.remain <= 0 {
			return nil, ErrTokenQuotaExhausted
		}
		amount = min(amount, t.remain)
	}
	if amount, err = reservePeriodsMemory(u, t, ap, amount); err != nil {
		return nil, err
	}
	holdPeriodsMemory(u, t, ap, amount)
	u.remain -= amount
	u.reserved += amount
	if limited {
		t.remain -= amount
		t.reserved += amount
	}
	l.open.Add(1)
	return &Reservation{l: l, acct: acct, amount: amount, periods: held}, nil
}

// Settle ends the reservation exactly once: it charges cost, taking any
// excess over the reservation from the balances but never below zero,
// releases the rest, and queues log (when not nil) as the consume record
// with Quota set to what was charged. Settle(0, nil) releases a failed
// request at no cost. It returns what was charged; later calls return 0.
func (r *Reservation) Settle(cost int64, log *Log) (charged int64) {
	return r.SettleAlong(cost, log, nil)
}

// SettleAlong is Settle with the call's rate-limit settles carried on the
// settlement's own round trip to Redis (limit.Settles); without Redis
// they settle beside it. Either way they are applied when it returns.
// along may be nil.
func (r *Reservation) SettleAlong(cost int64, log *Log, along *limit.Settles) (charged int64) {
	r.once.Do(func() { charged = r.l.settle(r, cost, log, along) })
	return charged
}

func (l *Ledger) settle(r *Reservation, cost int64, log *Log, along *limit.Settles) int64 {
	defer along.Finish(context.Background())
	defer l.open.Add(-1)
	if cost < 0 {
		cost = 0
	}
	r.mu.Lock()
	r.settled = true
	var ckptID string
	if r.ckWritten {
		ckptID = r.id
	}
	checkpointed := r.id != ""
	r.mu.Unlock()
	if checkpointed {
		l.qmu.Lock()
		delete(l.dirty, r)
		delete(l.ckOpen, r)
		l.qmu.Unlock()
	}
	// The settlement's time decides its period and its log's created_at.
	now := l.Now()
	ap, err := l.periodsOf(context.Background(), r.acct, now)
	if err != nil {
		slog.Error("ledger: settling without the account's period quotas", "user", r.acct.UserID, "token", r.acct.TokenID, "err", err)
	}
	var charged int64
	if l.shared != nil {
		charged = l.shared.settle(r, ap, cost, along)
	} else {
		charged = l.settleMemory(r, ap, cost)
	}
	if charged == 0 && log == nil && ckptID == "" {
		return 0
	}
	if log != nil {
		log.Quota = charged
		log.Type = LogConsume
		log.UserID, log.TokenID = r.acct.UserID, r.acct.TokenID
		if log.CreatedAt == 0 {
			log.CreatedAt = now.Unix()
		}
	}
	l.enqueue(settlement{acct: r.acct, charged: charged, log: log, ckptID: ckptID, periods: [2]int64{ap.user.startOf(), ap.token.startOf()}})
	return charged
}

// settleMemory applies a settlement to the in-memory balances.
func (l *Ledger) settleMemory(r *Reservation, ap accountPeriods, cost int64) int64 {
	// The balances were loaded by Reserve and are never evicted, so no
	// database read (and no context) is needed here.
	u, t, unlock, err := l.lockAccount(context.Background(), r.acct)
	if err != nil {
		slog.Error("ledger: settle on a vanished account", "user", r.acct.UserID, "token", r.acct.TokenID, "err", err)
		return 0
	}
	defer unlock()
	limited := t != nil && !r.acct.UnlimitedToken
	charged := cost
	if extra := cost - r.amount; extra > 0 {
		avail := u.remain
		if limited {
			avail = min(avail, t.remain)
		}
		charged = r.amount + min(extra, avail)
	}
	charged = settlePeriodsMemory(u, t, r, ap, charged)
	u.remain += r.amount - charged
	u.reserved -= r.amount
	u.used += charged
	if t != nil {
		if limited {
			t.remain += r.amount - charged
			t.reserved -= r.amount
		}
		t.used += charged
	}
	return charged
}

func (l *Ledger) enqueue(s settlement) {
	l.qmu.Lock()
	l.queue = append(l.queue, s)
	n := len(l.queue)
	l.qmu.Unlock()
	if n >= FlushBatch {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Credit adds delta (negative to take away, never below zero) to a user's
// quota, or to a token's remain_quota when tokenID is set, and returns the
// delta actually applied. The row, the log (when not nil; its Quota is set
// to the delta) and within (when not nil: a redemption marks its code used
// there) are written in one transaction before Credit returns, and memory
// follows only after the commit. Top-ups, rewards and admin edits all come
// here, so the in-memory figure and the row never disagree. With
// LOG_SQL_DSN the log reaches the log database after the commit, once no
// balance is held (ledger_log_outbox.go).
func (l *Ledger) Credit(ctx context.Context, userID, tokenID int, delta int64, log *Log, within func(tx *gorm.DB) error) (int64, error) {
	credit := l.creditLocal
	if l.shared != nil {
		credit = l.creditShared
	}
	applied, staged, err := credit(ctx, userID, tokenID, delta, log, within)
	if err != nil {
		return 0, err
	}
	// Not under the balance's lock: a slow log database must not hold up
	// the user's relayed calls.
	l.deliverStaged(ctx, staged)
	return applied, nil
}

// creditLocal is Credit with the balances in this node's memory.
func (l *Ledger) creditLocal(ctx context.Context, userID, tokenID int, delta int64, log *Log, within func(tx *gorm.DB) error) (int64, []stagedLog, error) {
	var b *balance
	if tokenID != 0 {
		b = l.entry(l.tokens, tokenID)
	} else {
		b = l.entry(l.users, userID)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var err error
	if tokenID != 0 {
		err = l.loadToken(ctx, b, tokenID)
	} else {
		err = l.loadUser(ctx, b, userID)
	}
	if err != nil {
		return 0, nil, err
	}
	if b.remain+delta < 0 {
		delta = -b.remain
	}
	staged, err := l.writeCredit(ctx, userID, tokenID, delta, log, within)
	if err != nil {
		return 0, nil, err
	}
	b.remain += delta
	return delta, staged, nil
}

// writeCredit writes a credit's row change, its log and within in one
// transaction. With LOG_SQL_DSN the log goes into the outbox instead, and
// comes back staged for delivery after the commit (ledger_log_outbox.go).
func (l *Ledger) writeCredit(ctx context.Context, userID, tokenID int, delta int64, log *Log, within func(tx *gorm.DB) error) ([]stagedLog, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*statementTimeout(l.store.Cfg))
	defer cancel()
	if log != nil {
		log.Quota = delta
		if log.CreatedAt == 0 {
			log.CreatedAt = time.Now().Unix()
		}
	}
	var staged []stagedLog
	err := l.store.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if within != nil {
			if err := within(tx); err != nil {
				return err
			}
		}
		var res *gorm.DB
		if tokenID != 0 {
			res = tx.Model(&Token{}).Where("id = ?", tokenID).Update("remain_quota", gorm.Expr("remain_quota + ?", delta))
		} else {
			res = tx.Model(&User{}).Where("id = ?", userID).Update("quota", gorm.Expr("quota + ?", delta))
		}
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if tokenID != 0 {
				return ErrTokenNotFound
			}
			return ErrUserNotFound
		}
		if tokenID == 0 && delta > 0 {
			if err := clearQuotaNotice(tx, userID); err != nil {
				return err
			}
		}
		if log == nil {
			return nil
		}
		var err error
		staged, err = l.store.logIn(tx, log)
		return err
	})
	if err != nil {
		return nil, errs.As(err)
	}
	return staged, nil
}

// UserFigures returns a user's quota (not yet spent, in-flight holds
// included) and used quota as the ledger sees them now, and whether the
// ledger holds the user at all.
func (l *Ledger) UserFigures(id int) (quota, used int64, ok bool) {
	return l.figures(l.users, id)
}

// TokenFigures is UserFigures for a token's remain_quota and used_quota.
func (l *Ledger) TokenFigures(id int) (remain, used int64, ok bool) {
	return l.figures(l.tokens, id)
}

func (l *Ledger) figures(m map[int]*balance, id int) (int64, int64, bool) {
	l.mu.Lock()
	b := m[id]
	l.mu.Unlock()
	if b == nil {
		return 0, 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.loaded {
		return 0, 0, false
	}
	return b.remain + b.reserved, b.used, true
}

// Remaining is what a token may still reserve now (for auth checks);
// ok is false when the ledger has not loaded the token yet.
func (l *Ledger) Remaining(tokenID int) (remain int64, ok bool) {
	if l.shared != nil {
		// Not asked of Redis: that would add a round trip to every relayed
		// call, and Reserve refuses an empty token anyway. The flush marks
		// it exhausted within FlushInterval, and token auth refuses it from
		// the cache from then on.
		return 0, false
	}
	l.mu.Lock()
	b := l.tokens[tokenID]
	l.mu.Unlock()
	if b == nil {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remain, b.loaded
}

func (l *Ledger) overlayToken(t *Token) {
	l.overlayPeriod(true, t.ID, &t.Period)
	if l.shared != nil {
		// Redis holds what may be reserved; used_quota is the flushed row.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if remain, ok := l.shared.available(ctx, l.shared.tokenKey(t.ID)); ok {
			t.RemainQuota = remain
		}
		return
	}
	if remain, used, ok := l.TokenFigures(t.ID); ok {
		t.RemainQuota, t.UsedQuota = remain, used
	}
}

func (l *Ledger) overlayUser(u *User) {
	l.overlayPeriod(false, u.ID, &u.Period)
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if quota, ok := l.shared.available(ctx, l.shared.userKey(u.ID)); ok {
			u.Quota = quota
		}
		return
	}
	if quota, used, ok := l.UserFigures(u.ID); ok {
		u.Quota, u.UsedQuota = quota, used
	}
}

// forget drops a deleted account's balance.
func (l *Ledger) forget(userID int) {
	l.mu.Lock()
	delete(l.users, userID)
	l.mu.Unlock()
}

// OpenReservations is how many reservations are not yet settled.
func (l *Ledger) OpenReservations() int64 { return l.open.Load() }

func (l *Ledger) run() {
	defer close(l.done)
	tick := time.NewTicker(FlushInterval)
	defer tick.Stop()
	var lastBeat, lastMinute, lastPrune time.Time
	backoff := time.Duration(0)
	var retryAt time.Time
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		case <-l.kick:
		}
		now := time.Now()
		if now.Sub(lastBeat) >= dbBeat {
			ctx, cancel := context.WithTimeout(context.Background(), dbBeat)
			l.beatNode(ctx)
			if l.shared != nil {
				l.shared.heartbeat(ctx)
			}
			cancel()
			lastBeat = now
		}
		if l.shared != nil {
			l.shared.probe()
		}
		if now.Sub(lastMinute) >= time.Minute && !lastMinute.IsZero() {
			l.minutely()
			lastMinute = now
		} else if lastMinute.IsZero() {
			lastMinute = now
		}
		if l.store.Cfg.IsMaster() && now.Sub(lastPrune) >= time.Hour {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := l.prune(ctx); err != nil {
				slog.Warn("ledger: pruning old batch ids failed", "err", err)
			}
			cancel()
			lastPrune = now
		}
		if now.Before(retryAt) {
			continue
		}
		if err := l.flush(context.Background(), false); err != nil {
			// Kept and retried with backoff; settlements keep queueing
			// and are cut into their own batches meanwhile.
			backoff = min(max(2*backoff, flushBackoffMin), flushBackoffMax)
			retryAt = now.Add(backoff)
			slog.Error("ledger: flush failed; the batch is kept and retried", "err", err, "retry_in", backoff.String(), "backlog", l.Backlog())
		} else {
			backoff, retryAt = 0, time.Time{}
		}
	}
}

// minutely releases what dead nodes left: reservations in Redis, outbox
// batches and checkpoints.
func (l *Ledger) minutely() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if l.shared != nil {
		if _, err := l.ReleaseOrphans(ctx); err != nil {
			slog.Warn("ledger: releasing dead nodes' reservations failed", "err", err)
		}
	}
	if _, err := l.RecoverOutbox(ctx, outboxGrace); err != nil {
		slog.Warn("ledger: recovering the outbox failed", "err", err)
	}
	if _, err := l.RecoverCheckpoints(ctx); err != nil {
		slog.Warn("ledger: charging orphaned checkpoints failed", "err", err)
	}
}

// close stops the flusher and writes what is queued.
func (l *Ledger) close() error {
	if l.tool {
		return nil
	}
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := l.Flush(ctx)
	for _, ci := range []*chunkedInsert{l.logIns, l.logInsLogDB, l.ckptSnaps, l.ckptTombs} {
		ci.close()
	}
	if l.shared != nil {
		l.shared.stop(ctx)
	}
	if err == nil {
		// A node with batches left unwritten keeps its row, so its
		// checkpoints are not charged by others before it expires.
		l.unregisterNode(ctx)
	}
	return err
}

// kill stops the flusher without writing anything, as kill -9 would.
func (l *Ledger) kill() {
	if l.tool {
		return
	}
	close(l.stop)
	<-l.done
}
