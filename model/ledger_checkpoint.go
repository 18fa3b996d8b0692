package model

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"time"

	"gorm.io/gorm"

	"switchyard/common/crypto"
)

// Stream checkpoints. A stream's reservation records, now and then, what
// the client has received so far (Reservation.Checkpoint). The figure is
// kept in memory and written by the next group commit as one row per open
// stream in ledger_checkpoints, so checkpointing costs no write per event
// and no transaction of its own. Settling writes a tombstone (settled =
// true) in its batch. A row still unsettled whose node is gone (its
// ledger_nodes heartbeat expired) is charged at its checkpoint, with a
// consume log, by the next node that starts or (with several nodes) by any
// node within a minute, in a batch whose id is derived from the row's, so
// it is charged once however many nodes try.

// LedgerCheckpoint is an open stream's charge so far (main database).
type LedgerCheckpoint struct {
	ID        string `gorm:"primaryKey;size:48"`
	Node      string `gorm:"index;size:48"`
	UserID    int
	TokenID   int
	Unlimited bool
	Cost      int64
	Log       string `gorm:"type:text"`
	Settled   bool   `gorm:"index;default:false"`
	UpdatedAt int64  `gorm:"autoUpdateTime:false"`
	// fig is what the node's figures row says the stream delivered since
	// its record was written (recovery only).
	fig *StreamFigures `gorm:"-"`
}

// ckptWrite is one checkpoint row change inside a batch.
type ckptWrite struct {
	ID        string `json:"id"`
	Settled   bool   `json:"s,omitempty"`
	Node      string `json:"n,omitempty"`
	UserID    int    `json:"u,omitempty"`
	TokenID   int    `json:"t,omitempty"`
	Unlimited bool   `json:"x,omitempty"`
	Cost      int64  `json:"c,omitempty"`
	Log       string `json:"l,omitempty"`
}

// StreamFigures are what a stream has delivered so far, in tokens.
type StreamFigures struct {
	Prompt, Completion, Cached, CacheCreation, Reasoning int
}

// figuresOf reads a log's token counts.
func figuresOf(l *Log) StreamFigures {
	return StreamFigures{l.PromptTokens, l.CompletionTokens, l.CachedTokens, l.CacheCreationTokens, l.ReasoningTokens}
}

// Checkpoint records that the client of this (streamed) reservation has
// received cost so far, with log as the consume record to write should the
// process die before Settle. It is cheap: it changes memory only, and the
// next group commit (within FlushInterval) writes the record as the
// stream's row in ledger_checkpoints, in the same transaction as the
// settlements. Call it once when a stream starts delivering (and again
// only if the record itself changes), then CheckpointFigures about once a
// second while it runs.
//
// After a crash, the next start charges each reservation that was
// checkpointed and never settled at its last written figures (capped at
// what the balances hold), exactly once, with log as its consume row. A
// Settle after Checkpoint replaces the checkpoint: the final cost is
// charged once and the checkpoint never is. Checkpoint after Settle does
// nothing. What a crash can under-bill is what was delivered since the
// last figures that reached the database: the relay's checkpoint interval
// plus figuresEvery plus FlushInterval.
func (r *Reservation) Checkpoint(cost int64, log *Log) {
	cp := Log{}
	if log != nil {
		cp = *log
	}
	r.mu.Lock()
	if r.settled {
		r.mu.Unlock()
		return
	}
	if r.id == "" {
		r.id = crypto.RandomString(24)
	}
	r.ckCost = max(cost, 0)
	r.ckLog = &cp
	r.ckFig = figuresOf(&cp)
	r.mu.Unlock()
	l := r.l
	l.qmu.Lock()
	l.dirty[r] = struct{}{}
	l.ckOpen[r] = struct{}{}
	l.qmu.Unlock()
	l.ckChanged.Store(true)
}

// CheckpointFigures records what a checkpointed stream has delivered
// since: its cost and token counts so far, on the record its Checkpoint
// gave. It allocates nothing and queues no row: the next figures write
// (one row per node, figuresEvery) carries it. Before any Checkpoint, or
// after Settle, it does nothing. (Issue 14: writing each open stream's
// whole record every second made 2.9 KB of garbage per stream-second, so a
// node holding 1,000 streams grew by 2.8 MiB/s.)
func (r *Reservation) CheckpointFigures(cost int64, f StreamFigures) {
	r.mu.Lock()
	if r.settled || r.id == "" {
		r.mu.Unlock()
		return
	}
	r.ckCost, r.ckFig = max(cost, 0), f
	r.mu.Unlock()
	r.l.ckChanged.Store(true)
}

// snapshotCheckpoints takes the checkpoint records changed since the last
// flush: each is written as its stream's row.
func (l *Ledger) snapshotCheckpoints() []ckptWrite {
	l.qmu.Lock()
	if len(l.dirty) == 0 {
		l.qmu.Unlock()
		return nil
	}
	rs := make([]*Reservation, 0, len(l.dirty))
	for r := range l.dirty {
		rs = append(rs, r)
	}
	clear(l.dirty)
	l.qmu.Unlock()
	var out []ckptWrite
	for _, r := range rs {
		r.mu.Lock()
		if !r.settled {
			// From here on the row may exist, so Settle writes a tombstone.
			r.ckWritten = true
			lg := *r.ckLog
			lg.PromptTokens, lg.CompletionTokens, lg.CachedTokens, lg.CacheCreationTokens, lg.ReasoningTokens =
				r.ckFig.Prompt, r.ckFig.Completion, r.ckFig.Cached, r.ckFig.CacheCreation, r.ckFig.Reasoning
			raw, _ := json.Marshal(&lg)
			out = append(out, ckptWrite{ID: r.id, Node: l.node, UserID: r.acct.UserID, TokenID: r.acct.TokenID,
				Unlimited: r.acct.UnlimitedToken, Cost: r.ckCost, Log: string(raw)})
		}
		r.mu.Unlock()
	}
	return out
}

// ckptColumns are ledger_checkpoints' columns in ckptValues' order.
var ckptColumns = []string{"id", "node", "user_id", "token_id", "unlimited", "cost", "log", "settled", "updated_at"}

// newCheckpointInserter prepares the upsert of checkpoint rows: snapshots
// (a stream's record) that never overwrite a tombstone, or tombstones
// (settled) that replace whatever is there. One statement per chunk of
// rows, as the consume logs go in: a gorm update-then-insert per stream
// was 16 KB of garbage each, and a node opening 9,000 streams wrote 9,000
// of them in their first second.
func newCheckpointInserter(tombstones bool) *chunkedInsert {
	return &chunkedInsert{sql: func(d Dialect, n int) string {
		q := quoteOf(d)
		t := q + "ledger_checkpoints" + q
		ins := insertSQL(d, "ledger_checkpoints", ckptColumns, n)
		switch {
		case tombstones && d == MySQL:
			return ins + " ON DUPLICATE KEY UPDATE `settled` = TRUE, `updated_at` = VALUES(`updated_at`)"
		case tombstones:
			return ins + ` ON CONFLICT ("id") DO UPDATE SET "settled" = TRUE, "updated_at" = excluded."updated_at"`
		case d == MySQL:
			return ins + " ON DUPLICATE KEY UPDATE `cost` = IF(`settled`, `cost`, VALUES(`cost`)), `log` = IF(`settled`, `log`, VALUES(`log`))," +
				" `updated_at` = IF(`settled`, `updated_at`, VALUES(`updated_at`))"
		default:
			return ins + ` ON CONFLICT ("id") DO UPDATE SET "cost" = excluded."cost", "log" = excluded."log", "updated_at" = excluded."updated_at"` +
				` WHERE ` + t + `."settled" = FALSE`
		}
	}}
}

// ckptValues appends c's row in ckptColumns' order.
func ckptValues(args []any, c *ckptWrite, now int64) []any {
	return append(args, c.ID, c.Node, c.UserID, c.TokenID, c.Unlimited, c.Cost, c.Log, c.Settled, now)
}

// writeCheckpoints applies a batch's checkpoint changes in tx: snapshots
// first, then tombstones, so a stream checkpointed and settled in one
// batch ends settled.
func (l *Ledger) writeCheckpoints(tx *gorm.DB, cs []ckptWrite, now int64) error {
	var snaps, tombs []*ckptWrite
	for i := range cs {
		if cs[i].Settled {
			tombs = append(tombs, &cs[i])
		} else {
			snaps = append(snaps, &cs[i])
		}
	}
	ctx := tx.Statement.Context
	for _, part := range []struct {
		ci   *chunkedInsert
		rows []*ckptWrite
	}{{l.ckptSnaps, snaps}, {l.ckptTombs, tombs}} {
		rows := part.rows
		if err := part.ci.run(ctx, tx, l.store.DB, l.store.Dialect, len(rows), func(args []any, i int) []any { return ckptValues(args, rows[i], now) }); err != nil {
			return err
		}
	}
	return nil
}

// RecoverCheckpoints charges the checkpoints of reservations whose node is
// gone and that were never settled, and returns how many it charged.
func (l *Ledger) RecoverCheckpoints(ctx context.Context) (int, error) {
	live, err := l.liveNodes(ctx)
	if err != nil {
		return 0, err
	}
	q := l.store.DB.WithContext(ctx).Where("settled = ? AND node <> ?", false, l.node)
	if len(live) > 0 {
		q = q.Where("node NOT IN ?", live)
	}
	var rows []LedgerCheckpoint
	if err := q.Limit(1000).Find(&rows).Error; err != nil {
		return 0, err
	}
	var nodes []string
	for _, row := range rows {
		if !slices.Contains(nodes, row.Node) {
			nodes = append(nodes, row.Node)
		}
	}
	figs, err := l.figuresOfNodes(ctx, nodes)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		if f, ok := figs[row.ID]; ok && f.cost > row.Cost {
			row.Cost = f.cost
			row.fig = &f.StreamFigures
		}
		if err := l.chargeCheckpoint(ctx, row); err != nil {
			return n, err
		}
		n++
	}
	l.dropFiguresOf(ctx, nodes)
	return n, nil
}

// chargeCheckpoint charges one orphaned checkpoint in a batch whose id is
// the row's, so that it happens once.
func (l *Ledger) chargeCheckpoint(ctx context.Context, row LedgerCheckpoint) error {
	acct := Account{UserID: row.UserID, TokenID: row.TokenID, UnlimitedToken: row.Unlimited}
	charged := row.Cost
	var u User
	if err := l.store.DB.WithContext(ctx).Select("id", "quota").First(&u, row.UserID).Error; err != nil && !notFound(err) {
		return err
	}
	charged = min(charged, max(u.Quota, 0))
	if acct.TokenID != 0 && !acct.UnlimitedToken {
		var t Token
		if err := l.store.DB.WithContext(ctx).Select("id", "remain_quota").First(&t, row.TokenID).Error; err != nil && !notFound(err) {
			return err
		}
		charged = min(charged, max(t.RemainQuota, 0))
	}
	lg := &Log{}
	if row.Log != "" {
		if err := json.Unmarshal([]byte(row.Log), lg); err != nil {
			lg = &Log{}
		}
	}
	if f := row.fig; f != nil {
		lg.PromptTokens, lg.CompletionTokens, lg.CachedTokens, lg.CacheCreationTokens, lg.ReasoningTokens =
			f.Prompt, f.Completion, f.Cached, f.CacheCreation, f.Reasoning
	}
	lg.ID = 0
	lg.Quota, lg.Type = charged, LogConsume
	lg.UserID, lg.TokenID = row.UserID, row.TokenID
	if lg.CreatedAt == 0 {
		lg.CreatedAt = l.Now().Unix()
	}
	// The charge belongs to the period its log is created in, capped at
	// what that period has left in the rows.
	periods, charged, err := l.recoveredPeriods(ctx, acct, time.Unix(lg.CreatedAt, 0), charged)
	if err != nil {
		return err
	}
	lg.Quota = charged
	if lg.Content == "" {
		lg.Content = "stream charged at its last checkpoint: its node stopped before it ended"
	}
	b := newBatch("ckpt:"+row.ID, []settlement{{acct: acct, charged: charged, log: lg, ckptID: row.ID, periods: periods}}, nil)
	b.recovered = true
	fresh, err := l.writeBatch(ctx, b)
	if err != nil || !fresh {
		return err
	}
	l.debitRecovered(ctx, row.Node, acct, charged, periods)
	slog.Warn("ledger: charged an open stream at its checkpoint after its node stopped", "node", row.Node, "user", row.UserID, "charged", charged)
	return nil
}
