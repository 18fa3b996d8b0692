//go:build !race

// Package raceflag tells tests whether the race detector is on: its
// instrumentation allocates, so allocation bounds hold only without it.
// scripts/test.sh runs the allocation tests once more without -race.
package raceflag

// Enabled reports whether the binary was built with -race.
const Enabled = false
