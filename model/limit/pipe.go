package limit

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-redis/redis/v8"
)

// Admits and settles that do not ride the ledger's own round trips
// (Pending.Board, Settles.Board) reach Redis through one pipeline per
// node, in order: they are queued, and a single worker sends what has
// queued up as one batch (one round trip, one write and one read syscall
// for the lot) while the previous batch's answers come back. Order keeps
// the limits exact on a node: a settle queued before the next admit is
// applied before it. Queued settles are not waited for.

// maxBatch caps the calls in one pipeline.
const maxBatch = 256

type redisOp struct {
	script *redis.Script
	args   []any
	// done receives the answer of an admit; nil for a settle.
	done chan *redis.Cmd
	// A settle that could not be applied counts its tokens on this node
	// instead (settled), so the node still limits.
	settled settledOp
}

type settledOp struct {
	l      *Limiter
	rules  []Rule
	tokens int64
	now    time.Time
}

// failed handles an op Redis did not apply.
func (op *redisOp) failed(err error) {
	switch {
	case op.settled.l != nil:
		logSettleFailure(err)
		op.settled.l.mem.count(op.settled.rules, op.settled.tokens, op.settled.now)
	case op.script == carryScript:
		slog.Warn("rate-limit estimates in flight not carried into the new minute", "err", err)
	}
}

func (l *Limiter) pipeline() {
	defer close(l.drained)
	batch := make([]*redisOp, 0, maxBatch)
	for {
		select {
		case <-l.stop:
			// Apply what is queued (settles of calls that ended), then stop.
			for {
				select {
				case op := <-l.queue:
					l.send([]*redisOp{op})
				default:
					return
				}
			}
		case op := <-l.queue:
			batch = append(batch[:0], op)
		fill:
			for len(batch) < maxBatch {
				select {
				case op := <-l.queue:
					batch = append(batch, op)
				default:
					break fill
				}
			}
			l.send(batch)
		}
	}
}

// send runs one batch and hands out the answers.
func (l *Limiter) send(batch []*redisOp) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p := l.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, op := range batch {
		cmds[i] = op.script.EvalSha(ctx, p, nil, op.args...)
	}
	_, _ = p.Exec(ctx)
	reloaded := false
	for i, op := range batch {
		// A Redis that restarted forgot the scripts: the op is run again
		// after loading them. Both are loaded whenever one is missing,
		// because a settle refused with NOSCRIPT while the admit behind it
		// ran would apply after that admit, which then saw the settled
		// call still holding its estimate (TestEstimateHeldWhileInFlight
		// failed so when another test had loaded only the admit script).
		if isNoScript(cmds[i].Err()) {
			if !reloaded {
				l.loadScripts()
				reloaded = true
			}
			cmds[i] = op.script.Run(ctx, l.rdb, nil, op.args...)
		}
		if op.done != nil {
			op.done <- cmds[i]
		} else if err := cmds[i].Err(); err != nil {
			op.failed(err)
		}
	}
}

// do queues op; after Close it runs at once on the caller's goroutine.
// Close takes closeMu to stop the queue, so no op lands in a queue that
// nobody reads any more.
func (l *Limiter) do(ctx context.Context, op *redisOp) {
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		l.send([]*redisOp{op})
		return
	}
	l.queue <- op
	l.closeMu.RUnlock()
}

// loadScripts loads every script of the pipeline into Redis, so that
// they are there or gone together: EVALSHA refused for one op only while
// the ops after it run would reorder the batch.
func (l *Limiter) loadScripts() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range []*redis.Script{admitScript, settleScript, carryScript} {
		if err := s.Load(ctx, l.rdb).Err(); err != nil {
			slog.Warn("rate-limit scripts not loaded into redis", "err", err)
			return
		}
	}
}

func logSettleFailure(err error) { slog.Warn("rate-limit settle failed in redis", "err", err) }
