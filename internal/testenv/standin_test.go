package testenv

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// assertStopped stops s and fails t unless its process is gone and its
// scratch folder removed: a stand-in left running would hold a port and
// memory on a shared CI machine.
func assertStopped(t *testing.T, s *StandIn) {
	t.Helper()
	pid := s.proc.proc.PID()
	s.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after Stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.dir != "" {
		if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
			t.Fatalf("scratch folder %s left behind (stat: %v)", s.dir, err)
		}
	}
	s.Stop() // a second Stop must be harmless
}
