package model

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"gorm.io/gorm/clause"
)

// Stream figures. A checkpointed stream's record (its consume log, who
// pays) is written once, as its row in ledger_checkpoints; what it has
// delivered since moves every second and is written here instead, as one
// row per node holding the cost and token counts of all its open streams,
// encoded into a buffer the ledger reuses. So holding 9,000 streams costs
// one small write a second and no garbage per stream (issue 14), where a
// row per stream per second cost 2.9 KB of garbage each.
//
// The figures row is written outside the settlement batches: it only ever
// raises what a crash charges an open stream, and the stream's row decides
// whether there is anything to charge (a settled stream's row is a
// tombstone, whatever its node's figures say).

// figuresEvery is how often the figures row is written while streams
// move; Flush called by hand writes it at once.
const figuresEvery = time.Second

// LedgerStreamFigures is one node's open streams' figures (main database).
type LedgerStreamFigures struct {
	Node      string `gorm:"primaryKey;size:48"`
	Data      []byte
	UpdatedAt int64 `gorm:"autoUpdateTime:false"`
}

// figures is one stream's entry in a figures row.
type figures struct {
	cost int64
	StreamFigures
}

const figuresVersion = 1

// appendFigures encodes one entry: the checkpoint's id, its cost and its
// token counts.
func appendFigures(b []byte, id string, cost int64, f StreamFigures) []byte {
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendVarint(b, cost)
	for _, n := range [...]int{f.Prompt, f.Completion, f.Cached, f.CacheCreation, f.Reasoning} {
		b = binary.AppendVarint(b, int64(n))
	}
	return b
}

// StreamCosts decodes a ledger_stream_figures row's data into each open
// stream's cost so far, by checkpoint id (for tools and tests that read
// what a crash would bill).
func StreamCosts(data []byte) (map[string]int64, error) {
	m, err := decodeFigures(data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(m))
	for id, f := range m {
		out[id] = f.cost
	}
	return out, nil
}

// decodeFigures reads a figures row's data.
func decodeFigures(b []byte) (map[string]figures, error) {
	out := map[string]figures{}
	if len(b) == 0 {
		return out, nil
	}
	if b[0] != figuresVersion {
		return nil, errors.New("ledger: stream figures of an unknown version")
	}
	b = b[1:]
	bad := errors.New("ledger: stream figures cut short")
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, bad
		}
		id := string(b[k : k+int(n)])
		b = b[k+int(n):]
		var vals [6]int64
		for i := range vals {
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, bad
			}
			vals[i], b = v, b[k:]
		}
		out[id] = figures{cost: vals[0], StreamFigures: StreamFigures{int(vals[1]), int(vals[2]), int(vals[3]), int(vals[4]), int(vals[5])}}
	}
	return out, nil
}

// encodeFigures writes this node's open streams' figures into l.figBuf.
// Only streams whose row is written or on its way count: a figure without
// a row is never charged.
func (l *Ledger) encodeFigures() []byte {
	b := append(l.figBuf[:0], figuresVersion)
	l.qmu.Lock()
	for r := range l.ckOpen {
		r.mu.Lock()
		if !r.settled && r.ckWritten {
			b = appendFigures(b, r.id, r.ckCost, r.ckFig)
		}
		r.mu.Unlock()
	}
	l.qmu.Unlock()
	l.figBuf = b
	return b
}

// writeFigures writes the figures row when figures moved, at most every
// figuresEvery unless now is set. Flush calls it, one at a time.
func (l *Ledger) writeFigures(ctx context.Context, now bool) error {
	if !l.ckChanged.Load() || (!now && time.Since(l.figWritten) < figuresEvery) {
		return nil
	}
	// Cleared first: a figure that moves while this write runs is written
	// by the next one.
	l.ckChanged.Store(false)
	data := l.encodeFigures()
	err := l.store.DB.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "node"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "updated_at"}),
	}).Create(&LedgerStreamFigures{Node: l.node, Data: data, UpdatedAt: time.Now().Unix()}).Error
	if err != nil {
		l.ckChanged.Store(true)
		return err
	}
	l.figWritten = time.Now()
	return nil
}

// figuresOfNodes reads the figures rows of nodes, by checkpoint id.
func (l *Ledger) figuresOfNodes(ctx context.Context, nodes []string) (map[string]figures, error) {
	out := map[string]figures{}
	if len(nodes) == 0 {
		return out, nil
	}
	var rows []LedgerStreamFigures
	if err := l.store.DB.WithContext(ctx).Where("node IN ?", nodes).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, row := range rows {
		m, err := decodeFigures(row.Data)
		if err != nil {
			// A row this build cannot read: its streams are charged at
			// their records' figures, which never over-charges.
			continue
		}
		for id, f := range m {
			out[id] = f
		}
	}
	return out, nil
}

// dropFiguresOf deletes the figures rows of gone nodes that have no open
// checkpoint left.
func (l *Ledger) dropFiguresOf(ctx context.Context, nodes []string) {
	for _, n := range nodes {
		var open int64
		if err := l.store.DB.WithContext(ctx).Model(&LedgerCheckpoint{}).Where("node = ? AND settled = ?", n, false).Count(&open).Error; err != nil || open > 0 {
			continue
		}
		l.store.DB.WithContext(ctx).Delete(&LedgerStreamFigures{}, "node = ?", n)
	}
}
