package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchyard/common/crypto"
)

// Group commit, made idempotent (ARCHITECTURE.md "The ledger's
// guarantees"). Settlements queue in memory and are cut into batches; each
// batch gets an id once, when it is cut, and keeps it through every retry.
// Its transaction first inserts that id into ledger_batches: a batch whose
// id is already there was applied by an earlier attempt whose COMMIT reply
// was lost, and is done. So a retry after an unknown outcome applies
// nothing twice, and a batch that fails stays whole with its id (nothing
// is merged into it) while later batches are cut and written beside it.
//
// With LOG_SQL_DSN the logs live in another database and no transaction
// spans both. The batch is then written as an outbox: first, in the log
// database, its log rows together with a ledger_outbox row that carries
// the batch's balance deltas (the outbox row's id is the batch id, so a
// retry writes the logs once); then, in the main database, the deltas
// guarded by ledger_batches as above; then the outbox row is marked
// applied. A crash between the two leaves an unapplied outbox row, which
// the next start (and every node, each minute, for rows older than
// outboxGrace) applies through the same guard. Neither step can happen
// twice and the second always follows the first.

// LedgerBatch records an applied settlement batch (main database).
type LedgerBatch struct {
	ID        string `gorm:"primaryKey;size:48"`
	CreatedAt int64  `gorm:"index"`
}

// LedgerOutbox is a batch's deltas written beside its logs in the log
// database, until the main database has applied them.
type LedgerOutbox struct {
	ID        string `gorm:"primaryKey;size:48"`
	Payload   string `gorm:"type:text"`
	Applied   bool   `gorm:"index;default:false"`
	CreatedAt int64  `gorm:"index"`
}

func init() {
	registerModels(&LedgerBatch{}, &LedgerCheckpoint{}, &LedgerStreamFigures{}, &LedgerNode{})
	registerLogModels(&LedgerOutbox{})
}

// Tuning of retries and retention.
const (
	flushBackoffMin = 100 * time.Millisecond
	flushBackoffMax = 5 * time.Second
	// batchRetention is how long applied batch ids (and checkpoint
	// tombstones) are kept: a retry older than this could apply twice.
	// A batch is retried for as long as the process lives, so this is
	// far beyond any database outage a node survives.
	batchRetention = 7 * 24 * time.Hour
	// outboxGrace is how old an unapplied outbox row must be before a
	// node other than its writer applies it.
	outboxGrace = 30 * time.Second
)

type userDelta struct {
	Charged  int64 `json:"c"`
	Requests int64 `json:"r"`
	// Periods is what was charged per period start (ledger_period.go).
	Periods map[int64]int64 `json:"p,omitempty"`
}

type tokenDelta struct {
	Charged int64           `json:"c"`
	Remain  int64           `json:"r"`
	Limited bool            `json:"l,omitempty"`
	Periods map[int64]int64 `json:"p,omitempty"`
}

// deltas is what one batch changes in the main database.
type deltas struct {
	Users       map[int]*userDelta  `json:"u,omitempty"`
	Tokens      map[int]*tokenDelta `json:"t,omitempty"`
	Channels    map[int]int64       `json:"c,omitempty"`
	Checkpoints []ckptWrite         `json:"k,omitempty"`
}

// batch is a cut of the settlement queue with its one id.
type batch struct {
	id    string
	items []settlement
	ckpts []ckptWrite
	d     deltas
	logs  []*Log
	// failures counts failed attempts, for the log line.
	failures int
	// recovered marks a batch that charges another node's checkpoint:
	// its charges were never held in this node's balances.
	recovered bool
}

func newBatch(id string, items []settlement, ckpts []ckptWrite) *batch {
	b := &batch{id: id, items: items, ckpts: ckpts}
	b.d = deltas{Users: map[int]*userDelta{}, Tokens: map[int]*tokenDelta{}, Channels: map[int]int64{}}
	for _, s := range items {
		ud := b.d.Users[s.acct.UserID]
		if ud == nil {
			ud = &userDelta{}
			b.d.Users[s.acct.UserID] = ud
		}
		ud.Charged += s.charged
		ud.Requests++
		if s.periods[0] != 0 {
			ud.Periods = addPeriod(ud.Periods, s.periods[0], s.charged)
		}
		if s.acct.TokenID != 0 {
			td := b.d.Tokens[s.acct.TokenID]
			if td == nil {
				td = &tokenDelta{}
				b.d.Tokens[s.acct.TokenID] = td
			}
			td.Charged += s.charged
			if s.periods[1] != 0 {
				td.Periods = addPeriod(td.Periods, s.periods[1], s.charged)
			}
			if !s.acct.UnlimitedToken {
				td.Remain += s.charged
				td.Limited = true
			}
		}
		if s.log != nil {
			b.logs = append(b.logs, s.log)
			if s.log.ChannelID != 0 {
				b.d.Channels[s.log.ChannelID] += s.charged
			}
		}
		if s.ckptID != "" {
			ckpts = append(ckpts, ckptWrite{ID: s.ckptID, Settled: true})
		}
	}
	// Snapshots first, tombstones after: a stream checkpointed and settled
	// within one batch ends settled.
	sort.SliceStable(ckpts, func(i, j int) bool { return !ckpts[i].Settled && ckpts[j].Settled })
	b.d.Checkpoints = ckpts
	return b
}

func (b *batch) size() int { return len(b.items) + len(b.ckpts) }

// Backlog is how many settlements and checkpoints wait to be written:
// the queue, the batch being written and the batches waiting for a retry.
func (l *Ledger) Backlog() int {
	l.qmu.Lock()
	n := len(l.queue) + len(l.dirty)
	for _, b := range l.pending {
		n += b.size()
	}
	// Read under qmu: Flush moves a batch between pending and in flight
	// while holding it.
	n += int(l.inflight.Load())
	l.qmu.Unlock()
	return n
}

// LedgerStatus is what /readyz reports of the ledger.
type LedgerStatus struct {
	// Backlog is Backlog().
	Backlog int
	// RetryingBatches is how many batches failed and wait for a retry.
	RetryingBatches int
	// RedisOffline is set while the shared ledger cannot reach Redis.
	RedisOffline bool
}

// Status reports the ledger's backlog and Redis state.
func (l *Ledger) Status() LedgerStatus {
	l.qmu.Lock()
	retrying := len(l.pending)
	l.qmu.Unlock()
	return LedgerStatus{Backlog: l.Backlog(), RetryingBatches: retrying, RedisOffline: l.shared != nil && l.shared.Offline()}
}

// Flush writes every queued settlement and checkpoint now: batches that
// failed before are retried first, each under its own id, then the queue
// is cut into a new batch. It returns the first error; a failed batch is
// kept, whole, for the next attempt.
func (l *Ledger) Flush(ctx context.Context) error { return l.flush(ctx, true) }

// flush is Flush; the figures row is written at once when figuresNow is
// set, else at most every figuresEvery (the background flusher).
func (l *Ledger) flush(ctx context.Context, figuresNow bool) error {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	l.qmu.Lock()
	todo := l.pending
	l.pending = nil
	items := l.queue
	l.queue = nil
	// Everything taken off the queues counts as in flight from here, so
	// Backlog never misses a settlement between the queue and its write
	// (it read one short while an earlier batch was being retried).
	for _, b := range todo {
		l.inflight.Add(int64(b.size()))
	}
	l.inflight.Add(int64(len(items)))
	l.qmu.Unlock()
	ckpts := l.snapshotCheckpoints()
	if len(items) > 0 || len(ckpts) > 0 {
		b := newBatch(crypto.RandomString(24), items, ckpts)
		l.inflight.Add(int64(b.size() - len(items)))
		todo = append(todo, b)
	}
	var first error
	var failed []*batch
	for _, b := range todo {
		// BEGIN and COMMIT run outside gorm's statement callbacks: bound
		// the whole transaction too.
		bctx, cancel := context.WithTimeout(ctx, 2*statementTimeout(l.store.Cfg))
		_, err := l.writeBatch(bctx, b)
		cancel()
		if err == nil {
			l.inflight.Add(-int64(b.size()))
		} else {
			b.failures++
			if first == nil {
				first = fmt.Errorf("batch %s (%d settlements, attempt %d): %w", b.id, len(b.items), b.failures, err)
			}
			failed = append(failed, b)
		}
	}
	if err := l.writeFigures(ctx, figuresNow); err != nil && first == nil {
		first = fmt.Errorf("stream figures: %w", err)
	}
	if len(failed) > 0 {
		l.qmu.Lock()
		l.pending = append(failed, l.pending...)
		// Counted as pending now, no longer in flight.
		for _, b := range failed {
			l.inflight.Add(-int64(b.size()))
		}
		l.qmu.Unlock()
	}
	return first
}

// writeBatch applies one batch exactly once, however many times it is
// called; fresh reports that this call applied it.
func (l *Ledger) writeBatch(ctx context.Context, b *batch) (fresh bool, err error) {
	// An earlier attempt may have set primary keys on the log structs; a
	// retry must insert them afresh (or, when applied, not at all).
	for _, lg := range b.logs {
		lg.ID = 0
	}
	if l.shared != nil && !b.recovered {
		l.shared.flushing(ctx, 2*statementTimeout(l.store.Cfg)+time.Second)
	}
	var flipped []int
	if l.store.LogDB == l.store.DB {
		err = l.store.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			fresh, err = claimBatch(tx, b.id)
			if err != nil || !fresh {
				return err
			}
			if flipped, err = l.applyDeltas(tx, &b.d); err != nil {
				return err
			}
			return l.logIns.insert(ctx, tx, l.store.DB, l.store.Dialect, b.logs)
		})
		if err != nil {
			return false, err
		}
	} else if fresh, flipped, err = l.writeBatchOutbox(ctx, b); err != nil {
		return false, err
	}
	l.afterApply(ctx, b, flipped)
	return fresh, nil
}

// afterApply tells the caches which tokens ran dry, tells users whose
// quota ran low (quota_notice.go) and, with Redis, lets the shared
// balances forget the charges that the rows now hold.
func (l *Ledger) afterApply(ctx context.Context, b *batch, flipped []int) {
	for _, id := range flipped {
		l.store.Bus.Publish(ctx, TopicToken, strconv.Itoa(id))
	}
	if len(b.d.Users) > 0 {
		l.remindLowQuota(ctx, sortedKeys(b.d.Users))
	}
	if l.shared != nil && !b.recovered {
		l.shared.flushed(b)
	}
}

// writeBatchOutbox is writeBatch with the logs in their own database.
func (l *Ledger) writeBatchOutbox(ctx context.Context, b *batch) (bool, []int, error) {
	db, ldb := l.store.DB.WithContext(ctx), l.store.LogDB.WithContext(ctx)
	var done int64
	if b.failures > 0 {
		// A retry: the outbox row may be applied already (and, after
		// batchRetention, pruned), so ask the main database first.
		if err := db.Model(&LedgerBatch{}).Where("id = ?", b.id).Count(&done).Error; err != nil {
			return false, nil, err
		}
	}
	if done > 0 {
		// Applied already (by an attempt whose reply was lost, or by a
		// node recovering the outbox): only the mark may be missing.
		ldb.Model(&LedgerOutbox{}).Where("id = ?", b.id).Update("applied", true)
		return false, nil, nil
	}
	payload, err := json.Marshal(&b.d)
	if err != nil {
		return false, nil, err
	}
	err = ldb.Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&LedgerOutbox{ID: b.id, Payload: string(payload), CreatedAt: time.Now().Unix()})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // written by an earlier attempt: logs are in
		}
		return l.logInsLogDB.insert(ctx, tx, l.store.LogDB, l.store.LogDialect, b.logs)
	})
	if err != nil {
		return false, nil, err
	}
	return l.applyOutbox(ctx, b.id, &b.d)
}

// applyOutbox applies an outbox row's deltas to the main database once and
// marks it applied.
func (l *Ledger) applyOutbox(ctx context.Context, id string, d *deltas) (fresh bool, flipped []int, err error) {
	err = l.store.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		fresh, err = claimBatch(tx, id)
		if err != nil || !fresh {
			return err
		}
		flipped, err = l.applyDeltas(tx, d)
		return err
	})
	if err != nil {
		return false, nil, err
	}
	if err := l.store.LogDB.WithContext(ctx).Model(&LedgerOutbox{}).Where("id = ?", id).Update("applied", true).Error; err != nil {
		// Harmless: the next recovery finds the id applied and marks it.
		slog.Warn("ledger: batch applied, its outbox mark failed", "batch", id, "err", err)
	}
	return fresh, flipped, nil
}

// RecoverOutbox applies outbox rows that a crash left unapplied (logs
// written, balances not) and delivers credit logs left in the main
// database's outbox (ledger_log_outbox.go). Rows younger than minAge are
// left to the node writing them. It returns how many batches it applied.
func (l *Ledger) RecoverOutbox(ctx context.Context, minAge time.Duration) (int, error) {
	if l.store.LogDB == l.store.DB {
		return 0, nil
	}
	if _, err := l.recoverLogOutbox(ctx, minAge); err != nil {
		return 0, err
	}
	var rows []LedgerOutbox
	cutoff := time.Now().Add(-minAge).Unix()
	if err := l.store.LogDB.WithContext(ctx).Where("applied = ? AND created_at <= ?", false, cutoff).Order("created_at").Limit(1000).Find(&rows).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		var d deltas
		if err := json.Unmarshal([]byte(row.Payload), &d); err != nil {
			slog.Error("ledger: unreadable outbox row left in place", "batch", row.ID, "err", err)
			continue
		}
		_, flipped, err := l.applyOutbox(ctx, row.ID, &d)
		if err != nil {
			return n, err
		}
		for _, id := range flipped {
			l.store.Bus.Publish(ctx, TopicToken, strconv.Itoa(id))
		}
		if len(d.Users) > 0 || len(d.Tokens) > 0 {
			slog.Warn("ledger: applied a batch a crash left in the log database's outbox", "batch", row.ID)
		}
		n++
	}
	return n, nil
}

// claimBatch inserts the batch id; fresh is false when it was there.
func claimBatch(tx *gorm.DB, id string) (fresh bool, err error) {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&LedgerBatch{ID: id, CreatedAt: time.Now().Unix()})
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// applyDeltas writes a batch's balance increments, channel usage,
// exhausted-status flips and checkpoint rows inside tx. It returns the
// tokens it marked exhausted.
func (l *Ledger) applyDeltas(tx *gorm.DB, d *deltas) ([]int, error) {
	now := time.Now().Unix()
	for _, id := range sortedKeys(d.Users) {
		u := d.Users[id]
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{
			"quota":         gorm.Expr("quota - ?", u.Charged),
			"used_quota":    gorm.Expr("used_quota + ?", u.Charged),
			"request_count": gorm.Expr("request_count + ?", u.Requests),
		}).Error; err != nil {
			return nil, err
		}
		if err := applyPeriods(tx, "users", id, u.Periods); err != nil {
			return nil, err
		}
	}
	var limited []int
	for _, id := range sortedKeys(d.Tokens) {
		t := d.Tokens[id]
		if err := tx.Model(&Token{}).Where("id = ?", id).Updates(map[string]any{
			"remain_quota":  gorm.Expr("remain_quota - ?", t.Remain),
			"used_quota":    gorm.Expr("used_quota + ?", t.Charged),
			"accessed_time": now,
		}).Error; err != nil {
			return nil, err
		}
		if err := applyPeriods(tx, "tokens", id, t.Periods); err != nil {
			return nil, err
		}
		if t.Limited {
			limited = append(limited, id)
		}
	}
	if len(d.Channels) > 0 && l.hasChannels(tx) {
		for _, id := range sortedKeys(d.Channels) {
			if err := tx.Model(&Channel{}).Where("id = ?", id).Update("used_quota", gorm.Expr("used_quota + ?", d.Channels[id])).Error; err != nil {
				return nil, err
			}
		}
	}
	if err := l.writeCheckpoints(tx, d.Checkpoints, now); err != nil {
		return nil, err
	}
	var flipped []int
	if len(limited) > 0 {
		// A limited token whose balance reached zero shows as exhausted,
		// and the token caches learn it, on every node.
		q := tx.Model(&Token{}).Where("id IN ? AND status = ? AND unlimited_quota = ? AND remain_quota <= 0", limited, TokenEnabled, false)
		if err := q.Pluck("id", &flipped).Error; err != nil {
			return nil, err
		}
		if len(flipped) > 0 {
			if err := tx.Model(&Token{}).Where("id IN ?", flipped).Update("status", TokenExhausted).Error; err != nil {
				return nil, err
			}
		}
	}
	return flipped, nil
}

// sortedKeys orders row updates by id, so two nodes' batches lock rows in
// the same order and never deadlock each other.
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// hasChannels reports whether the channels table exists yet (it belongs
// to the relay and may be migrated after the ledger starts).
func (l *Ledger) hasChannels(tx *gorm.DB) bool {
	if l.channelsTable.Load() {
		return true
	}
	ok := tx.Migrator().HasTable("channels")
	l.channelsTable.Store(ok)
	return ok
}

// prune drops applied batch ids, applied outbox rows and checkpoint
// tombstones older than batchRetention (master only, hourly).
func (l *Ledger) prune(ctx context.Context) error {
	cutoff := time.Now().Add(-batchRetention).Unix()
	err := errors.Join(
		l.store.DB.WithContext(ctx).Where("created_at < ?", cutoff).Delete(&LedgerBatch{}).Error,
		l.store.DB.WithContext(ctx).Where("settled = ? AND updated_at < ?", true, cutoff).Delete(&LedgerCheckpoint{}).Error,
		l.store.DB.WithContext(ctx).Where("updated_at < ?", cutoff).Delete(&LedgerStreamFigures{}).Error,
	)
	if l.store.LogDB != l.store.DB {
		err = errors.Join(err, l.store.LogDB.WithContext(ctx).Where("applied = ? AND created_at < ?", true, cutoff).Delete(&LedgerOutbox{}).Error)
	}
	return err
}
