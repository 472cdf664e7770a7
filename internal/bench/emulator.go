package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Emulator is a Bigtable or Spanner emulator process started for one
// comparison. A fresh one per measurement: the Spanner emulator's clock
// drifts ahead under sustained load and its strong reads get slower and
// slower on a long-lived instance (STANDINS.md).
type Emulator struct {
	Addr    string // host:port on 127.0.0.1, the value for *_EMULATOR_HOST
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	logFile *os.File
}

// EnvSpannerEmulatorBinary names the emulator_main to use instead of the one
// the Debian package installed (as in internal/testenv).
const EnvSpannerEmulatorBinary = "DUALREAD_SPANNER_EMULATOR"

// LaunchBigtableEmulator runs `deploy/local/standins.sh bigtable PORT` (the
// Cloud SDK's cbtemulator, or the same emulator built from
// cloud.google.com/go/bigtable) on a free loopback port.
func LaunchBigtableEmulator(ctx context.Context, log *slog.Logger) (*Emulator, error) {
	root, err := findRepoRoot()
	if err != nil {
		return nil, err
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(root, standinsScript), "bigtable", strconv.Itoa(port))
	cmd.Dir = root
	// The first start may build the emulator with go install.
	return launchEmulator(ctx, log, "Bigtable emulator", cmd, port, 3*time.Minute)
}

// LaunchSpannerEmulator runs the official Cloud Spanner emulator
// (emulator_main) on a free loopback port.
func LaunchSpannerEmulator(ctx context.Context, log *slog.Logger) (*Emulator, error) {
	bin := spannerEmulatorBinary()
	if bin == "" {
		return nil, fmt.Errorf("bench: Cloud Spanner emulator not found: install the Debian package google-cloud-cli-spanner-emulator or set %s", EnvSpannerEmulatorBinary)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--host_port", "127.0.0.1:"+strconv.Itoa(port))
	return launchEmulator(ctx, log, "Spanner emulator", cmd, port, 30*time.Second)
}

// spannerEmulatorBinary finds emulator_main as internal/testenv does (which
// this package cannot import: it imports package testing).
func spannerEmulatorBinary() string {
	if p := os.Getenv(EnvSpannerEmulatorBinary); p != "" {
		return p
	}
	if out, err := exec.Command("dpkg", "-L", "google-cloud-cli-spanner-emulator").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if filepath.Base(line) == "emulator_main" && executable(line) {
				return line
			}
		}
	}
	for _, root := range []string{"/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"} {
		if p := filepath.Join(root, "bin", "cloud_spanner_emulator", "emulator_main"); executable(p) {
			return p
		}
	}
	return ""
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// launchEmulator starts cmd in its own process group (Stop kills the group
// by the child's PID) and waits until port accepts TCP connections.
func launchEmulator(ctx context.Context, log *slog.Logger, name string, cmd *exec.Cmd, port int, timeout time.Duration) (*Emulator, error) {
	if log == nil {
		log = slog.Default()
	}
	logFile, err := os.CreateTemp("", "bench-emulator-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: a bench killed hard leaves no emulator behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.Remove(logFile.Name())
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	e := &Emulator{Addr: "127.0.0.1:" + strconv.Itoa(port), name: name, cmd: cmd, done: make(chan struct{}), logFile: logFile}
	go func() { _ = cmd.Wait(); close(e.done) }()
	log.Info("bench: starting "+name, "addr", e.Addr, "pid", cmd.Process.Pid)
	if err := e.waitReady(ctx, timeout); err != nil {
		out, _ := os.ReadFile(logFile.Name())
		e.Stop()
		return nil, fmt.Errorf("%w\n--- %s output ---\n%s", err, name, out)
	}
	return e, nil
}

func (e *Emulator) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", e.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.done:
			return errors.New("bench: " + e.name + " exited before listening")
		case <-ctx.Done():
			return fmt.Errorf("bench: %s at %s did not listen: %w", e.name, e.Addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop kills the emulator's process group and waits for it. Safe on nil.
func (e *Emulator) Stop() {
	if e == nil || e.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
	}
	e.logFile.Close()
	os.Remove(e.logFile.Name())
}
