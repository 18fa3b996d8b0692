package model

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// A node that died on this machine is known dead at once. Each
// ledger_nodes row carries its process's identity on Linux: the kernel's
// boot id, its pid namespace and the process's start time. A starting
// node that finds a fresh row with the same boot id and pid namespace
// (the same kernel, the same pid space: the same host or container)
// whose pid no longer runs, or runs a process started at another time (a
// reused pid), knows that node is gone: kill -9, an OOM kill, a crash.
// It deletes the row and the node's Redis heartbeat, so the start itself
// gives back that node's reservations and charges its open streams at
// their checkpoints, instead of refusing to start (no Redis) or waiting
// out the heartbeat TTLs (15 s in the database, 30 s in Redis) for the
// next minutely recovery. Rows of other hosts or containers, and rows
// without an identity (not Linux), keep waiting for their TTL: liveness
// there cannot be checked.

// procIdentity is pid's identity as this process sees it, or "" when it
// cannot be read (no such process, not Linux).
func procIdentity(pid int) string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	start := procStart(pid)
	if start == "" {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns + "/" + start
}

// procStart is field 22 of /proc/<pid>/stat (start time in clock ticks
// since boot), or "" when the process does not exist.
func procStart(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 is the 20th after the command name
}

// selfIdentity is this process's identity.
func selfIdentity() string { return procIdentity(os.Getpid()) }

// deadHere reports whether o is a node of this kernel and pid space whose
// process is gone.
func deadHere(o LedgerNode) bool {
	self := selfIdentity()
	if o.Proc == "" || self == "" {
		return false
	}
	i := strings.LastIndexByte(o.Proc, '/')
	j := strings.LastIndexByte(self, '/')
	if i < 0 || j < 0 || o.Proc[:i] != self[:j] {
		return false // another host, container or boot
	}
	return procStart(o.Pid) != o.Proc[i+1:]
}

// forgetDeadNode removes a node found dead on this host: its row, and its
// Redis heartbeat so that ReleaseOrphans gives its holds back now.
func (l *Ledger) forgetDeadNode(ctx context.Context, o LedgerNode) error {
	if err := l.store.DB.WithContext(ctx).Delete(&LedgerNode{}, "id = ?", o.ID).Error; err != nil {
		return fmt.Errorf("ledger: remove a dead node's heartbeat: %w", err)
	}
	if l.shared != nil {
		if err := l.shared.rdb.Del(ctx, l.shared.nodeKey(o.ID)).Err(); err != nil {
			slog.Warn("ledger: could not remove a dead node's redis heartbeat; its holds come back when it expires", "node", o.ID, "err", err)
		}
	}
	slog.Warn("ledger: a node on this host died without stopping; recovering what it left now", "node", o.ID, "pid", o.Pid)
	return nil
}
