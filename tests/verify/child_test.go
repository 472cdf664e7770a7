package verify_test

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

// child is one run of `dualread verify`.
type child struct {
	cmd    *exec.Cmd
	stdout *testenv.LockedBuffer
	stderr *testenv.LockedBuffer
	done   chan struct{}
	err    error // Wait's result, set before done closes
}

// verifyCmd starts `dualread verify ARGS...` against source and target
// with test credentials. The child dies with the test binary (Pdeathsig)
// and is SIGKILLed at cleanup if still running.
func (e *env) verifyCmd(t *testing.T, target string, args ...string) *child {
	t.Helper()
	c := &child{stdout: &testenv.LockedBuffer{}, stderr: &testenv.LockedBuffer{}, done: make(chan struct{})}
	args = append([]string{"verify", "--source", e.ddb, "--target", target, "--log-format", "text"}, args...)
	c.cmd = exec.Command(e.bin, args...)
	c.cmd.Env = testenv.ChildEnv(filepath.Join(t.TempDir(), "none"))
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start dualread verify: %v", err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("--- dualread %v\nstdout:\n%s\nstderr (tail):\n%s", args, c.stdout.String(), tail(c.stderr.String(), 3000))
		}
	})
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL (nothing is flushed or saved) and waits for the end.
func (c *child) kill() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// wait waits up to d for the process to exit by itself and returns its
// exit code (-1 if it had to be killed).
func (c *child) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		c.kill()
		t.Fatalf("dualread verify still running after %v", d)
	}
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
