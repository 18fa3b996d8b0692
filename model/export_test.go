package model

import (
	"time"

	"gorm.io/gorm"
)

// WriteCheckpointForTest writes one checkpoint row change the way a
// batch does, as one retried late would.
func (l *Ledger) WriteCheckpointForTest(id string, cost int64, settled bool) error {
	return l.store.DB.Transaction(func(tx *gorm.DB) error {
		return l.writeCheckpoints(tx, []ckptWrite{{ID: id, Node: "late", Cost: cost, Log: "{}", Settled: settled}}, time.Now().Unix())
	})
}
