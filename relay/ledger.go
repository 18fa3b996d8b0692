package relay

import (
	"context"

	"switchyard/model"
	"switchyard/model/limit"
)

// Ledger reserves quota before a call goes upstream. *model.Ledger is the
// one implementation (through StoreLedger); tests use a fake.
type Ledger interface {
	// Reserve holds estimate quota (or what is left, if less) on acct. It
	// fails with an *errs.Error when a balance is empty.
	Reserve(ctx context.Context, acct model.Account, estimate int64) (Reservation, error)
}

// Reservation is held quota, settled exactly once.
type Reservation interface {
	// Settle charges cost and queues log as the consume record; cost 0 with
	// a nil log releases the reservation (the call failed). It returns
	// what was charged.
	Settle(cost int64, log *model.Log) int64
}

// Checkpointer is implemented by reservations that can make a stream's
// charge so far durable (*model.Reservation does; see its Checkpoint doc):
// call Checkpoint(costSoFar, log) once when a stream starts delivering and
// CheckpointFigures about once a second after, so a crash bills what the
// client received. It is a separate interface so test fakes of
// Reservation need not implement it.
type Checkpointer interface {
	Checkpoint(cost int64, log *model.Log)
	CheckpointFigures(cost int64, f model.StreamFigures)
}

// StoreLedger adapts the store's ledger to the relay's interface.
type StoreLedger struct{ L *model.Ledger }

// Reserve implements Ledger.
func (s StoreLedger) Reserve(ctx context.Context, acct model.Account, estimate int64) (Reservation, error) {
	r, err := s.L.Reserve(ctx, acct, estimate)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ReserveAlong implements AlongReserver.
func (s StoreLedger) ReserveAlong(ctx context.Context, acct model.Account, estimate int64, along *limit.Pending) (Reservation, error) {
	r, err := s.L.ReserveAlong(ctx, acct, estimate, along)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// AlongReserver is a Ledger that can carry a rate-limit admission on its
// reservation's round trip (model.Ledger.ReserveAlong).
type AlongReserver interface {
	ReserveAlong(ctx context.Context, acct model.Account, estimate int64, along *limit.Pending) (Reservation, error)
}

// AlongSettler is a Reservation that can carry the call's rate-limit
// settles on its settlement's round trip (model.Reservation.SettleAlong).
type AlongSettler interface {
	SettleAlong(cost int64, log *model.Log, along *limit.Settles) int64
}

// Backlog implements Backlogger.
func (s StoreLedger) Backlog() int { return s.L.Backlog() }
