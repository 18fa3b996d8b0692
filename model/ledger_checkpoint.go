package model

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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

// Checkpoint records that the client of this (streamed) reservation has
// received cost so far, with log as the consume record to write should the
// process die before Settle. It is cheap: it changes memory only, and the
// next group commit (within FlushInterval) writes the latest figure of
// every checkpointed reservation in the same transaction as the
// settlements. Call it about once a second while a stream runs.
//
// After a crash, the next start charges each reservation that was
// checkpointed and never settled at its last written checkpoint (capped at
// what the balances hold), exactly once, with log as its consume row. A
// Settle after Checkpoint replaces the checkpoint: the final cost is
// charged once and the checkpoint never is. Checkpoint after Settle does
// nothing. What a crash can under-bill is what was delivered since the
// last checkpoint that reached the database: the checkpoint interval plus
// FlushInterval.
func (r *Reservation) Checkpoint(cost int64, log *Log) {
	if cost < 0 {
		cost = 0
	}
	r.mu.Lock()
	if r.settled {
		r.mu.Unlock()
		return
	}
	if r.id == "" {
		r.id = crypto.RandomString(24)
	}
	r.ckCost = cost
	cp := Log{}
	if log != nil {
		cp = *log
	}
	r.ckLog = &cp
	r.mu.Unlock()
	l := r.l
	l.qmu.Lock()
	l.dirty[r] = struct{}{}
	l.qmu.Unlock()
}

// snapshotCheckpoints takes the checkpoints changed since the last flush.
func (l *Ledger) snapshotCheckpoints() []ckptWrite {
	l.qmu.Lock()
	dirty := l.dirty
	if len(dirty) == 0 {
		l.qmu.Unlock()
		return nil
	}
	l.dirty = map[*Reservation]struct{}{}
	l.qmu.Unlock()
	var out []ckptWrite
	for r := range dirty {
		r.mu.Lock()
		if !r.settled {
			// From here on the row may exist, so Settle writes a tombstone.
			r.ckWritten = true
			raw, _ := json.Marshal(r.ckLog)
			out = append(out, ckptWrite{ID: r.id, Node: l.node, UserID: r.acct.UserID, TokenID: r.acct.TokenID,
				Unlimited: r.acct.UnlimitedToken, Cost: r.ckCost, Log: string(raw)})
		}
		r.mu.Unlock()
	}
	return out
}

// writeCheckpoint applies one checkpoint change in tx. A snapshot never
// overwrites a tombstone, whatever order their batches are written in.
func writeCheckpoint(tx *gorm.DB, c ckptWrite, now int64) error {
	if c.Settled {
		res := tx.Model(&LedgerCheckpoint{}).Where("id = ?", c.ID).Updates(map[string]any{"settled": true, "updated_at": now})
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&LedgerCheckpoint{ID: c.ID, Settled: true, UpdatedAt: now}).Error
	}
	res := tx.Model(&LedgerCheckpoint{}).Where("id = ? AND settled = ?", c.ID, false).
		Updates(map[string]any{"cost": c.Cost, "log": c.Log, "updated_at": now})
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&LedgerCheckpoint{ID: c.ID, Node: c.Node, UserID: c.UserID,
		TokenID: c.TokenID, Unlimited: c.Unlimited, Cost: c.Cost, Log: c.Log, UpdatedAt: now}).Error
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
	n := 0
	for _, row := range rows {
		if err := l.chargeCheckpoint(ctx, row); err != nil {
			return n, err
		}
		n++
	}
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
