//go:build unix

package main

import (
	"log/slog"
	"syscall"
)

// fdsPerStream is what one relayed stream holds open: the client's
// connection and the upstream's.
const fdsPerStream = 2

// fdReserve is kept back from the stream capacity for the database pool,
// Redis, idle upstream connections and the listener.
const fdReserve = 256

// raiseFileLimit lifts the soft open-file limit to the hard one, as a
// relay holding thousands of streams needs (each holds two descriptors),
// and logs the stream capacity that results. Failing to raise it is not
// fatal: the process runs with the limit it was given.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		slog.Warn("could not read the open-file limit", "err", err)
		return
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			slog.Warn("could not raise the open-file limit", "soft", lim.Cur, "hard", lim.Max, "err", err)
		} else {
			lim = want
		}
	}
	capacity := int64(0)
	if int64(lim.Cur) > fdReserve {
		capacity = (int64(lim.Cur) - fdReserve) / fdsPerStream
	}
	slog.Info("open-file limit set", "limit", lim.Cur, "stream_capacity", capacity)
}
