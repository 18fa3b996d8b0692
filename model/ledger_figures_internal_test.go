package model

import (
	"testing"

	"switchyard/internal/raceflag"
)

// TestStreamFiguresAllocateNothing: a held stream's checkpoint after its
// first one, and the node's figures encoded for the next write once the
// buffer has grown, allocate nothing (issue 14: a node holding 1,000
// streams grew by 2.8 MiB/s writing a record per stream per second).
func TestStreamFiguresAllocateNothing(t *testing.T) {
	l := &Ledger{dirty: map[*Reservation]struct{}{}, ckOpen: map[*Reservation]struct{}{}}
	rs := make([]*Reservation, 200)
	for i := range rs {
		rs[i] = &Reservation{l: l, acct: Account{UserID: 1, TokenID: 2}}
		rs[i].Checkpoint(10, &Log{ModelName: "m", PromptTokens: 5})
	}
	l.snapshotCheckpoints() // the records are on their way
	l.encodeFigures()
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		n++
		for _, r := range rs {
			r.CheckpointFigures(int64(10+n), StreamFigures{Prompt: 5, Completion: n, Cached: 1})
		}
		l.encodeFigures()
	})
	if allocs != 0 && !raceflag.Enabled {
		t.Fatalf("%.1f allocations per second of 200 held streams, want 0", allocs)
	}
	got, err := decodeFigures(l.encodeFigures())
	if err != nil || len(got) != len(rs) {
		t.Fatalf("decoded %d figures, err %v", len(got), err)
	}
	for _, r := range rs {
		if f := got[r.id]; f.cost != r.ckCost || f.StreamFigures != r.ckFig {
			t.Fatalf("figures of %s: %+v, want cost %d %+v", r.id, f, r.ckCost, r.ckFig)
		}
	}
}

// TestDecodeFiguresRefusesCutData: data cut anywhere is an error, never
// a panic or a wrong figure read as right.
func TestDecodeFiguresRefusesCutData(t *testing.T) {
	b := append([]byte{figuresVersion}, appendFigures(nil, "abc", 1234567, StreamFigures{1, 2, 3, 4, 5})...)
	b = appendFigures(b, "de", -1, StreamFigures{})
	if m, err := decodeFigures(b); err != nil || len(m) != 2 || m["abc"].cost != 1234567 || m["abc"].Reasoning != 5 {
		t.Fatalf("whole data: %v %v", m, err)
	}
	for i := 1; i < len(b); i++ {
		if m, err := decodeFigures(b[:i]); err == nil && len(m) == 2 {
			t.Fatalf("data cut at %d read whole: %v", i, m)
		}
	}
	if _, err := decodeFigures([]byte{9, 1}); err == nil {
		t.Fatal("an unknown version was read")
	}
}
