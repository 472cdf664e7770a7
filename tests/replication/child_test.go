package replication

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

// child is one run of the dualread binary.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *testenv.LockedBuffer
	done chan struct{}
	err  error // Wait's result, set before done closes
	hwm  atomic.Int64
}

// start runs `dualread ARGS...` with the emulator and test credentials in
// its environment. The child dies with the test binary (Pdeathsig) and is
// SIGKILLed at cleanup if still running; its output is logged on failure.
func (e *env) start(t *testing.T, name string, args ...string) *child {
	t.Helper()
	return e.startEnv(t, name, nil, args...)
}

// startEnv is start with extra environment variables (e.g. GOMAXPROCS).
func (e *env) startEnv(t *testing.T, name string, extra []string, args ...string) *child {
	t.Helper()
	c := &child{name: name, out: &testenv.LockedBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(e.bin, args...)
	c.cmd.Env = testenv.ChildEnv(filepath.Join(t.TempDir(), "none"), append([]string{"BIGTABLE_EMULATOR_HOST=" + e.bigtable}, extra...)...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	go c.watchHWM()
	t.Cleanup(func() {
		c.kill(t)
		if t.Failed() {
			t.Logf("--- %s output (tail) ---\n%s", name, tail(c.out.String(), 4000))
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

// kill sends SIGKILL (no chance to release leases or flush anything) and
// waits for the process to be gone.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop sends SIGTERM and waits up to d for a clean exit.
func (c *child) stop(t *testing.T, d time.Duration) error {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		c.kill(t)
		return fmt.Errorf("%s did not exit within %v of SIGTERM", c.name, d)
	}
}

// wait waits up to d for the process to exit by itself.
func (c *child) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		c.kill(t)
		return fmt.Errorf("%s still running after %v", c.name, d)
	}
}

// maxRSS is the child's peak resident set: the largest VmHWM read from
// /proc/PID/status while it ran (sampled every 20 ms; VmHWM is itself a
// high-water mark, so only growth in the last 20 ms before exit is missed).
// wait4's ru_maxrss is no good here: Linux carries the pre-exec RSS of the
// forked test process over into it (exec_mmap keeps the old mm's high-water
// mark), so it reports the test binary's size, not the child's.
func (c *child) maxRSS() int64 { return c.hwm.Load() }

func (c *child) watchHWM() {
	path := fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					if kb*1024 > c.hwm.Load() {
						c.hwm.Store(kb * 1024)
					}
				}
			}
		}
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// cpu is the child's user+system CPU time, valid once it exited.
func (c *child) cpu() time.Duration {
	if c.cmd.ProcessState == nil {
		return 0
	}
	return c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
