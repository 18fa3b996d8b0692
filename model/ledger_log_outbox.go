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

// A credit (top-up, redemption, admin quota change, a new user's starting
// quota) changes one balance and writes one log row, and the ledger's sums
// count that row: quota + used_quota equals the credit logs. With
// LOG_SQL_DSN the two rows live in two databases and no transaction spans
// them. Writing the log first leaves a log without its credit when the
// main transaction fails; writing it after the commit loses it when the
// log database fails. So the log goes first into ledger_log_outbox in the
// main database, inside the credit's own transaction, and is delivered to
// the log database after the commit. The delivery claims the outbox id in
// the log database's ledger_outbox (applied from birth, so the batch
// recovery never looks at it) in the transaction that inserts the log:
// a delivery retried after an unknown outcome inserts nothing twice. Rows
// a failed delivery or a crash left are delivered by the next start and,
// once older than outboxGrace, by every node each minute.

// LedgerLogOutbox is a credit's log row waiting in the main database
// until the log database holds it (LOG_SQL_DSN only).
type LedgerLogOutbox struct {
	ID        string `gorm:"primaryKey;size:48"`
	Payload   string `gorm:"type:text"`
	CreatedAt int64  `gorm:"index"`
}

func init() { registerModels(&LedgerLogOutbox{}) }

// stagedLog is a log written to the outbox, to be delivered after commit.
type stagedLog struct {
	id  string
	log *Log
}

// logOutboxPrefix marks a delivered credit log's claim in ledger_outbox
// apart from the settlement batches' ids.
const logOutboxPrefix = "log:"

// logIn writes logs inside tx, a transaction on the main database: into
// the logs table when it lives there, else into the outbox, staged for
// Ledger.deliverStaged once tx has committed. A row written this way
// exists if and only if the transaction's other writes do.
func (s *Store) logIn(tx *gorm.DB, logs ...*Log) ([]stagedLog, error) {
	if s.LogDB == s.DB {
		return nil, tx.Create(logs).Error
	}
	return stageLogs(tx, logs...)
}

// stageLogs writes logs into the outbox inside tx, the credit's
// transaction in the main database.
func stageLogs(tx *gorm.DB, logs ...*Log) ([]stagedLog, error) {
	staged := make([]stagedLog, 0, len(logs))
	rows := make([]LedgerLogOutbox, 0, len(logs))
	now := time.Now().Unix()
	for _, l := range logs {
		if l.CreatedAt == 0 {
			l.CreatedAt = now
		}
		payload, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		id := crypto.RandomString(24)
		staged = append(staged, stagedLog{id: id, log: l})
		rows = append(rows, LedgerLogOutbox{ID: id, Payload: string(payload), CreatedAt: now})
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return staged, tx.Create(&rows).Error
}

// deliverStaged delivers logs staged by a transaction that committed. A
// failure is not the caller's: the credit stands, and recovery delivers
// the log later.
func (l *Ledger) deliverStaged(ctx context.Context, staged []stagedLog) {
	for _, s := range staged {
		if err := l.deliverLog(ctx, s.id, s.log); err != nil {
			slog.Warn("ledger: a credit's log row waits in the outbox; recovery delivers it", "outbox", s.id, "user", s.log.UserID, "err", err)
			return
		}
	}
}

// deliverLog inserts one staged log into the log database once, then
// drops its outbox row.
func (l *Ledger) deliverLog(ctx context.Context, id string, lg *Log) error {
	ctx, cancel := context.WithTimeout(ctx, 2*statementTimeout(l.store.Cfg))
	defer cancel()
	err := l.store.LogDB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		claim := &LedgerOutbox{ID: logOutboxPrefix + id, Applied: true, CreatedAt: time.Now().Unix()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(claim)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // delivered by an earlier attempt
		}
		row := *lg
		row.ID = 0
		return tx.Create(&row).Error
	})
	if err != nil {
		return err
	}
	return l.store.DB.WithContext(ctx).Where("id = ?", id).Delete(&LedgerLogOutbox{}).Error
}

// recoverLogOutbox delivers staged logs older than minAge. It returns how
// many it delivered.
func (l *Ledger) recoverLogOutbox(ctx context.Context, minAge time.Duration) (int, error) {
	var rows []LedgerLogOutbox
	cutoff := time.Now().Add(-minAge).Unix()
	if err := l.store.DB.WithContext(ctx).Where("created_at <= ?", cutoff).Order("created_at").Limit(1000).Find(&rows).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		var lg Log
		if err := json.Unmarshal([]byte(row.Payload), &lg); err != nil {
			slog.Error("ledger: unreadable log outbox row left in place", "outbox", row.ID, "err", err)
			continue
		}
		if err := l.deliverLog(ctx, row.ID, &lg); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		slog.Warn("ledger: delivered credit log rows left in the outbox", "rows", n)
	}
	return n, nil
}
