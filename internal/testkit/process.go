package testkit

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchyard/common/config"
	"switchyard/model"
)

// The switchyard binary the process tests run, built once per package run
// into a directory RemoveBinaries deletes (call it from TestMain).
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary builds the switchyard command (once per test binary) and returns
// its path. A build failure fails the test with the compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		root, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(root)) == "" {
			binErr = fmt.Errorf("testkit: cannot find the module root (go env GOMOD): %v", err)
			return
		}
		binDir, binErr = os.MkdirTemp("", "switchyard-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "switchyard")
		// No symbol table or DWARF: the link is the slow part of the build.
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", binPath, ".")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("testkit: go build switchyard: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// RemoveBinaries deletes what Binary built; TestMain calls it after m.Run.
func RemoveBinaries() {
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
}

// Process is a switchyard binary running as a child process, as an
// operator runs it: its own pid, its own port, configured by environment
// only. App.URL reaches it; App.Store is nil (use Tool to read its
// databases).
type Process struct {
	*App
	t    testing.TB
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartProcess runs the switchyard binary with vars (from Env) on a free
// loopback port and waits until its /readyz answers 200. A process that
// exits first fails the test with its log. It is killed when the test
// ends if still running.
func StartProcess(t testing.TB, vars map[string]string) *Process {
	t.Helper()
	bin := Binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := map[string]string{}
	for k, v := range vars {
		env[k] = v
	}
	env["HOST"], env["PORT"] = "127.0.0.1", strconv.Itoa(port)
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("testkit: process config: %v", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &Process{App: &App{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Cfg: cfg}, t: t, cmd: cmd,
		out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testkit: start %s: %v", bin, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.Exited() {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	Eventually(t, 30*time.Second, "the switchyard process answers /readyz", func() bool {
		if p.Exited() {
			t.Fatalf("testkit: switchyard exited before it was ready (%v):\n%s", p.err, p.Log())
		}
		resp, err := client.Get(p.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	priceFixturesOverHTTP(t, p.App)
	return p
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Log is everything the process wrote so far.
func (p *Process) Log() string { return p.out.String() }

// Kill sends SIGKILL (kill -9: no shutdown, no flush) and waits for the
// process to be gone.
func (p *Process) Kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.Exited() {
		p.t.Fatalf("testkit: kill -9 %d: %v", p.Pid(), err)
	}
	<-p.done
}

// Stop sends SIGTERM, waits for the clean shutdown and fails the test if
// the process did not exit cleanly.
func (p *Process) Stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("testkit: switchyard did not stop within a minute of SIGTERM:\n%s", p.Log())
	}
	if p.err != nil {
		p.t.Fatalf("testkit: switchyard stopped with %v:\n%s", p.err, p.Log())
	}
}

// Tool opens a store on the process's databases that does not register as
// a node (model.OpenTool), for reading rows beside a running process.
func (p *Process) Tool(t testing.TB) *model.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := model.OpenTool(ctx, p.Cfg)
	if err != nil {
		t.Fatalf("testkit: open the process's databases: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
