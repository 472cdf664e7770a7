// Package standin starts and stops the local server processes dualread runs
// next to: the stand-ins (DynamoDB Local, kinesalite, InfluxDB, the Bigtable
// and Spanner emulators) and, for the local stack, dualread's own children.
// It is the one process launcher outside tests: internal/testenv (tests),
// internal/bench (comparisons) and internal/localstack (`make run`) all use
// it, so each child is started, awaited and stopped the same way:
//
//   - in its own process group, so stopping it also stops anything it spawned
//     (standins.sh execs the server, but a server may fork helpers);
//   - with Pdeathsig, so a parent killed hard (a test binary past -timeout, a
//     SIGKILLed stack) leaves nothing behind;
//   - with its output in a log file, whose tail is part of every start error;
//   - ready only when a probe says so, or failed when it exits or times out.
//
// The package must not import testing: it is linked into the dualread binary.
package standin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Spec says how to start one process and how to tell it is ready.
type Spec struct {
	// Name is used in errors and logs, e.g. "DynamoDB Local".
	Name string
	// Addr is what clients connect to once it is ready: a URL for the HTTP
	// services, a bare host:port for the gRPC ones ("" when it serves none).
	Addr string
	// Path and Args are the program and its arguments (Args without argv[0]).
	Path string
	Args []string
	// Dir is the working directory ("" for the caller's).
	Dir string
	// Env is added to the parent's environment (later entries win).
	Env []string
	// LogPath is where stdout and stderr go, created or truncated. Empty:
	// a temporary file that Stop removes.
	LogPath string
	// Ready is one probe; nil means ready as soon as the process started.
	Ready Probe
	// Timeout bounds the wait for Ready (default one minute). It covers a
	// first run's install too when the program installs what is missing.
	Timeout time.Duration
	// Poll is the pause between probes (default 100 ms).
	Poll time.Duration
}

// Process is one started child. Its methods are safe for concurrent use.
type Process struct {
	Name    string
	Addr    string // Spec.Addr
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // Wait's result; read only after done is closed
	log     *os.File
	tempLog bool
}

// Start runs spec's program in its own process group and waits until
// spec.Ready reports it ready. On failure nothing is left running and the
// error carries the tail of the program's output, where the reason is.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	p, err := Launch(spec)
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx, spec); err != nil {
		tail := p.LogTail(8 << 10)
		p.Stop()
		return nil, fmt.Errorf("%w\n--- %s output (%s) ---\n%s", err, spec.Name, p.LogPath, tail)
	}
	return p, nil
}

// Launch starts spec's program without waiting for readiness; call
// WaitReady, or use Start. Several children can be launched first and
// awaited together.
func Launch(spec Spec) (*Process, error) {
	if spec.Path == "" {
		return nil, fmt.Errorf("standin: %s: no program", spec.Name)
	}
	var (
		logf *os.File
		err  error
	)
	if spec.LogPath == "" {
		logf, err = os.CreateTemp("", "standin-*.log")
	} else {
		logf, err = os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("standin: %s log: %w", spec.Name, err)
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	if len(spec.Env) > 0 {
		cmd.Env = append(os.Environ(), spec.Env...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: signals to -pid reach the program and whatever it
	// spawned, and a terminal's Ctrl-C reaches only the parent, which then
	// stops its children in order. Pdeathsig: a parent killed hard leaves
	// no server behind (standins.sh execs the server, so it is the child).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		if spec.LogPath == "" {
			os.Remove(logf.Name())
		}
		return nil, fmt.Errorf("standin: start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, Addr: spec.Addr, LogPath: logf.Name(), cmd: cmd, done: make(chan struct{}), log: logf, tempLog: spec.LogPath == ""}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// WaitReady polls spec.Ready until it answers, the process exits, ctx ends
// or spec.Timeout passes.
func (p *Process) WaitReady(ctx context.Context, spec Spec) error {
	if spec.Ready == nil {
		return nil
	}
	timeout, poll := spec.Timeout, spec.Poll
	if timeout <= 0 {
		timeout = time.Minute
	}
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if spec.Ready(ctx) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("standin: %s exited before it was ready (%v)", p.Name, p.err)
		case <-ctx.Done():
			return fmt.Errorf("standin: %s was not ready within %v: %w", p.Name, timeout, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// PID is the child's process id, which is also its process group id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error (nil for status 0); valid once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// WaitStatus is how the process ended; ok is false while it runs.
func (p *Process) WaitStatus() (ws syscall.WaitStatus, ok bool) {
	if !p.Exited() || p.cmd.ProcessState == nil {
		return 0, false
	}
	ws, ok = p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ws, ok
}

// Stop kills the process group at once (SIGKILL) and waits for the process
// to go; a temporary log is removed. Safe on nil and safe to call twice.
func (p *Process) Stop() {
	if p == nil {
		return
	}
	p.signalGroup(syscall.SIGKILL)
	p.await(10 * time.Second)
	p.closeLog()
}

// Shutdown asks the process group to stop with sig (SIGTERM or SIGINT),
// gives it grace to exit, then kills the group. It returns nil when the
// process exited by itself with status 0 (or was already gone cleanly), and
// otherwise says what happened. The log file is kept unless temporary.
func (p *Process) Shutdown(sig syscall.Signal, grace time.Duration) error {
	if p == nil {
		return nil
	}
	if p.Exited() {
		p.signalGroup(syscall.SIGKILL) // anything it spawned and left behind
		p.closeLog()
		return p.exitError()
	}
	p.signalGroup(sig)
	if p.await(grace) {
		p.signalGroup(syscall.SIGKILL)
		p.closeLog()
		return p.exitError()
	}
	p.signalGroup(syscall.SIGKILL)
	p.await(10 * time.Second)
	p.closeLog()
	return fmt.Errorf("standin: %s did not exit within %v of %v; killed", p.Name, grace, sig)
}

func (p *Process) exitError() error {
	if err := p.Err(); err != nil {
		return fmt.Errorf("standin: %s: %w", p.Name, err)
	}
	return nil
}

// signalGroup signals the whole process group; ESRCH (nothing left) is fine.
//
// Once the leader has exited and been reaped, its PID, and so the group's
// id, is free for the kernel to hand out again (pid_max is 32768 on these
// machines, and a test run forks thousands of processes): signalling -pid
// then could kill another test's stand-in. Members the leader left behind
// keep the group alive, and the kernel does not reuse an id that is still
// a live group's, so the group is signalled only while no process has the
// leader's PID: with the leader gone, one that has it is a newcomer.
func (p *Process) signalGroup(sig syscall.Signal) {
	if p.cmd.Process == nil {
		return
	}
	pid := p.cmd.Process.Pid
	if p.Exited() && syscall.Kill(pid, 0) == nil {
		return // the PID belongs to someone else now
	}
	_ = syscall.Kill(-pid, sig)
}

func (p *Process) await(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *Process) closeLog() {
	if p.log == nil {
		return
	}
	// Only the first caller closes; later Stops find nothing to do.
	if p.log.Close() == nil && p.tempLog {
		os.Remove(p.log.Name())
	}
}

// LogTail returns up to n bytes from the end of the process's log.
func (p *Process) LogTail(n int64) string {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// Alive reports whether a process with this pid still runs. A zombie (exited,
// not yet reaped by its parent) counts as gone: it holds no port or memory.
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) // no /proc: trust kill
	}
	// The state letter follows the command name, which is in parentheses
	// and may itself contain spaces or parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
