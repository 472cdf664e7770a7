package standin

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sh is a Spec running a shell script: real processes, so process groups,
// signals and exit codes behave as they do for the stand-ins.
func sh(t *testing.T, name, script string) Spec {
	t.Helper()
	return Spec{Name: name, Path: "/bin/sh", Args: []string{"-c", script},
		LogPath: filepath.Join(t.TempDir(), name+".log"), Timeout: 20 * time.Second}
}

// waitGone fails t unless pid disappears: a child left running would hold
// ports and memory on a shared machine.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); Alive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPID waits for the file a script writes its grandchild's pid into.
func readPID(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, err := os.ReadFile(path)
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("pid file %q: %v", b, err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopKillsTheWholeGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "grandchild")
	// The shell ignores TERM and spawns a grandchild: only a group kill
	// ends both.
	spec := sh(t, "group", `trap "" TERM; sleep 300 & echo $! > `+pidFile+`; echo ready; wait`)
	spec.Ready = LogContains(spec.LogPath, "ready")
	p, err := Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	grandchild := readPID(t, pidFile)
	if !Alive(p.PID()) || !Alive(grandchild) {
		t.Fatal("processes not running after Start")
	}
	p.Stop()
	waitGone(t, p.PID())
	waitGone(t, grandchild)
	if _, err := os.Stat(spec.LogPath); err != nil {
		t.Fatalf("a named log must be kept: %v", err)
	}
	p.Stop() // twice is harmless
}

func TestShutdown(t *testing.T) {
	cases := []struct {
		name, script string
		grace        time.Duration
		wantErr      string // "" for a clean exit
	}{
		{"clean exit on TERM", `trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done`, 10 * time.Second, ""},
		{"non-zero exit on TERM", `trap "exit 3" TERM; echo ready; while :; do sleep 0.05; done`, 10 * time.Second, "exit status 3"},
		{"ignores TERM: killed after grace", `trap "" TERM; echo ready; while :; do sleep 0.05; done`, 300 * time.Millisecond, "did not exit"},
		{"already exited", `echo ready; exit 0`, time.Second, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := sh(t, "shutdown", tc.script)
			p, err := Launch(spec)
			if err != nil {
				t.Fatal(err)
			}
			// Signals must come after the trap is set.
			if err := p.WaitReady(context.Background(), Spec{Name: "shutdown", Ready: LogContains(spec.LogPath, "ready")}); err != nil && !p.Exited() {
				t.Fatal(err)
			}
			if tc.name == "already exited" {
				<-p.Done()
			}
			err = p.Shutdown(syscall.SIGTERM, tc.grace)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Shutdown: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Shutdown = %v, want an error with %q", err, tc.wantErr)
			}
			waitGone(t, p.PID())
		})
	}
}

func TestStartFailures(t *testing.T) {
	t.Run("exits before ready", func(t *testing.T) {
		spec := sh(t, "quitter", `echo "config is broken" >&2; exit 7`)
		spec.Ready = func(context.Context) bool { return false }
		_, err := Start(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "config is broken") {
			t.Fatalf("err = %v, want the exit and the program's output", err)
		}
	})
	t.Run("not ready in time", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		spec := sh(t, "slow", `echo $$ > `+pidFile+`; echo "still starting"; sleep 300`)
		spec.Ready, spec.Timeout = func(context.Context) bool { return false }, 300*time.Millisecond
		_, err := Start(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), "not ready within") || !strings.Contains(err.Error(), "still starting") {
			t.Fatalf("err = %v", err)
		}
		waitGone(t, readPID(t, pidFile)) // a failed start leaves nothing running
	})
	t.Run("no such program", func(t *testing.T) {
		_, err := Start(context.Background(), Spec{Name: "ghost", Path: "/nonexistent/ghost"})
		if err == nil {
			t.Fatal("started a missing program")
		}
	})
	t.Run("temporary log removed by Stop", func(t *testing.T) {
		p, err := Start(context.Background(), Spec{Name: "tmp", Path: "/bin/sh", Args: []string{"-c", "sleep 300"}})
		if err != nil {
			t.Fatal(err)
		}
		log := p.LogPath
		if _, err := os.Stat(log); err != nil {
			t.Fatal(err)
		}
		p.Stop()
		if _, err := os.Stat(log); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary log %s left behind: %v", log, err)
		}
	})
}

func TestProbes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx := context.Background()
	if !TCPOpen(addr)(ctx) {
		t.Fatal("TCPOpen false on a listening port")
	}
	if err := CheckPort(port); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("CheckPort on a held port = %v, want ErrPortInUse", err)
	}
	ln.Close()
	if TCPOpen(addr)(ctx) {
		t.Fatal("TCPOpen true on a closed port")
	}
	if err := CheckPort(port); err != nil {
		t.Fatalf("CheckPort on a released port: %v", err)
	}
	if HTTPStatus("http://" + addr + "/")(ctx) {
		t.Fatal("HTTPStatus true with nothing listening")
	}

	log := filepath.Join(t.TempDir(), "log")
	p := LogContains(log, "listening")
	if p(ctx) {
		t.Fatal("LogContains true before the file exists")
	}
	os.WriteFile(log, []byte("starting\nlistening on 1\n"), 0o644)
	if !p(ctx) || All(p, LogContains(log, "absent"))(ctx) || !All()(ctx) {
		t.Fatal("LogContains / All")
	}
}

func TestRepoRootAndScript(t *testing.T) {
	root, script, err := Script()
	if err != nil {
		t.Fatal(err)
	}
	if script != filepath.Join(root, ScriptPath) {
		t.Fatalf("script %s not under root %s", script, root)
	}
	if _, err := RepoRoot(t.TempDir()); err == nil {
		t.Fatal("a folder outside any module must not have a root")
	}
}

// TestStandIns starts the real Bigtable emulator and kinesalite through
// their Specs (the cheap ones; testenv's tests cover the others through the
// same Specs) and checks Stop ends them.
func TestStandIns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts stand-ins")
	}
	for _, mk := range []func(int) (Spec, error){BigtableEmulator, Kinesalite} {
		spec, err := OnFreePort(mk)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Start(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if p.Addr != spec.Addr || !spec.Ready(context.Background()) {
			t.Fatalf("%s: Addr %q, ready %v", spec.Name, p.Addr, spec.Ready(context.Background()))
		}
		if err := p.Shutdown(syscall.SIGTERM, 10*time.Second); err != nil {
			// A server killed by its TERM default action is not an error
			// of the launcher; anything else is.
			if !strings.Contains(err.Error(), "signal: terminated") {
				t.Fatalf("%s: %v", spec.Name, err)
			}
		}
		waitGone(t, p.PID())
		if spec.Ready(context.Background()) {
			t.Fatalf("%s still answers after Shutdown", spec.Name)
		}
	}
}
