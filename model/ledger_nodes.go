package model

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm/clause"
)

// Node heartbeats in the main database. Every process writes a
// ledger_nodes row when it starts and refreshes it every dbBeat. Two
// things read it:
//
//   - Start refuses to run a second node on one database without Redis:
//     the single-node ledger keeps balances in memory and assumes it is
//     the only writer, so two of them would each spend the whole balance
//     (ARCHITECTURE.md, "Several nodes"). A node without Redis refuses when
//     any other node is live; a node with Redis refuses when a live node
//     runs without it.
//   - Checkpoint recovery charges only the checkpoints of nodes that are
//     not live.
//
// A node is live while its row is younger than dbNodeTTL. A clean stop
// deletes the row. After a crash, a start on the same host or container
// knows the dead node at once (ledger_nodes_local.go); elsewhere it waits
// out the TTL (the refusal says so), which a restart policy does by
// itself.

// LedgerNode is one running process.
type LedgerNode struct {
	ID    string `gorm:"primaryKey;size:48"`
	Host  string `gorm:"size:255"`
	Pid   int
	Redis bool
	// Proc identifies the process on its host (ledger_nodes_local.go).
	Proc      string `gorm:"size:128"`
	StartedAt int64
	BeatAt    int64 `gorm:"index"`
}

// Heartbeat timing in the database.
const (
	dbBeat    = 5 * time.Second
	dbNodeTTL = 15 * time.Second
)

// ErrAnotherNode is returned by Open when another live node shares the
// database and either of them runs without Redis.
type ErrAnotherNode struct {
	Host      string
	Pid       int
	Redis     bool
	SeenAgo   time.Duration
	SelfRedis bool
}

func (e *ErrAnotherNode) Error() string {
	why := "this node has no REDIS_CONN_STRING"
	if e.SelfRedis {
		why = "that node runs without Redis"
	}
	return fmt.Sprintf("another Switchyard node (host %s, pid %d) is running on this database (its heartbeat is %s old) and %s: "+
		"without Redis each node would spend every balance on its own. Give every node the same REDIS_CONN_STRING, or run one node. "+
		"If that node crashed, its heartbeat expires %s after it was written; start again then",
		e.Host, e.Pid, e.SeenAgo.Round(time.Second), why, dbNodeTTL)
}

// registerNode checks for conflicting nodes and writes this node's row.
func (l *Ledger) registerNode(ctx context.Context) error {
	now := time.Now()
	var others []LedgerNode
	if err := l.store.DB.WithContext(ctx).Where("beat_at >= ? AND id <> ?", now.Add(-dbNodeTTL).Unix(), l.node).Find(&others).Error; err != nil {
		return fmt.Errorf("ledger: read node heartbeats: %w", err)
	}
	self := l.shared != nil
	for _, o := range others {
		if deadHere(o) {
			if err := l.forgetDeadNode(ctx, o); err != nil {
				return err
			}
			continue
		}
		if !self || !o.Redis {
			return &ErrAnotherNode{Host: o.Host, Pid: o.Pid, Redis: o.Redis, SeenAgo: now.Sub(time.Unix(o.BeatAt, 0)), SelfRedis: self}
		}
	}
	host, _ := os.Hostname()
	row := LedgerNode{ID: l.node, Host: host, Pid: os.Getpid(), Redis: self, Proc: selfIdentity(), StartedAt: now.Unix(), BeatAt: now.Unix()}
	return l.store.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// beatNode refreshes this node's row (re-creating it if it was removed).
func (l *Ledger) beatNode(ctx context.Context) {
	now := time.Now().Unix()
	res := l.store.DB.WithContext(ctx).Model(&LedgerNode{}).Where("id = ?", l.node).Update("beat_at", now)
	if res.Error != nil {
		slog.Warn("ledger: node heartbeat failed", "err", res.Error)
		return
	}
	if res.RowsAffected == 0 {
		host, _ := os.Hostname()
		l.store.DB.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&LedgerNode{ID: l.node, Host: host, Pid: os.Getpid(), Redis: l.shared != nil, Proc: selfIdentity(), StartedAt: now, BeatAt: now})
	}
}

// liveNodes lists the ids of nodes whose heartbeat is fresh, this one
// included.
func (l *Ledger) liveNodes(ctx context.Context) ([]string, error) {
	var ids []string
	err := l.store.DB.WithContext(ctx).Model(&LedgerNode{}).Where("beat_at >= ?", time.Now().Add(-dbNodeTTL).Unix()).Pluck("id", &ids).Error
	return append(ids, l.node), err
}

// unregisterNode removes this node's row at a clean stop.
func (l *Ledger) unregisterNode(ctx context.Context) {
	l.store.DB.WithContext(ctx).Delete(&LedgerNode{}, "id = ?", l.node)
	l.qmu.Lock()
	open := len(l.ckOpen)
	l.qmu.Unlock()
	if open == 0 {
		l.store.DB.WithContext(ctx).Delete(&LedgerStreamFigures{}, "node = ?", l.node)
	}
}
