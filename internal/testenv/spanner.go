package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvSpannerEmulatorBinary names the emulator_main binary to use instead of
// looking for the one gcloud installs.
const EnvSpannerEmulatorBinary = "DUALREAD_SPANNER_EMULATOR"

// spannerEmulatorPackage is the Debian package that ships emulator_main.
const spannerEmulatorPackage = "google-cloud-cli-spanner-emulator"

// spannerEmulatorStart bounds the wait for the emulator's port; it listens
// within ~0.3 s on an idle machine, much later on a loaded one.
const spannerEmulatorStart = 30 * time.Second

// SpannerEmulatorBinary finds the official Cloud Spanner emulator: the path in
// $DUALREAD_SPANNER_EMULATOR, the file the Debian package installed (asked of
// dpkg, so a relocated SDK is found too), or the usual SDK locations. It
// returns "" when there is none.
func SpannerEmulatorBinary() string {
	if p := os.Getenv(EnvSpannerEmulatorBinary); p != "" {
		return p
	}
	if out, err := exec.Command("dpkg", "-L", spannerEmulatorPackage).Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if filepath.Base(line) == "emulator_main" && isExecutable(line) {
				return line
			}
		}
	}
	for _, root := range []string{"/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"} {
		p := filepath.Join(root, "bin", "cloud_spanner_emulator", "emulator_main")
		if isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// StartSpannerEmulator starts a fresh Cloud Spanner emulator on a free
// loopback port, waits until it accepts TCP connections and returns its
// host:port (the value for SPANNER_EMULATOR_HOST). The process is killed, by
// PID, when t ends. The test is skipped when the emulator is not installed.
//
// Use one emulator per test package or suite, not one for a whole CI run:
// emulator 1.5.28's clock drifts ahead under sustained load and strong reads
// then wait longer and longer (cloud-spanner-emulator#277).
func StartSpannerEmulator(t testing.TB) (hostPort string) {
	t.Helper()
	bin := SpannerEmulatorBinary()
	if bin == "" {
		t.Skipf("Cloud Spanner emulator not found: install the Debian package %s or set %s to emulator_main", spannerEmulatorPackage, EnvSpannerEmulatorBinary)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--host_port", addr)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Pdeathsig: a test binary killed by -timeout leaves no emulator behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(spannerEmulatorStart); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("Spanner emulator exited before listening on %s:\n%s", addr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Spanner emulator did not listen on %s within %v: %v\n%s", addr, spannerEmulatorStart, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer collects a child's output; the exec package copies stdout and
// stderr from goroutines of its own while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
