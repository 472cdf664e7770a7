package btstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigtable/bttest"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/storetest"
)

// TestConformanceEmbedded runs the suite on the in-process emulator, a fresh
// one per subtest.
func TestConformanceEmbedded(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := NewEmbedded(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestConformanceEmulatorBinary runs the suite against gcloud's cbtemulator
// (a separate process, reached through BIGTABLE_EMULATOR_HOST like in
// production) when it is installed.
func TestConformanceEmulatorBinary(t *testing.T) {
	addr := startEmulatorBinary(t)
	t.Setenv("BIGTABLE_EMULATOR_HOST", addr)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), "proj", "inst")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestDataSurvivesReopen checks that Open finds existing tables and data
// (a restart of the adapter process) instead of recreating them.
func TestDataSurvivesReopen(t *testing.T) {
	srv, err := bttest.NewServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("BIGTABLE_EMULATOR_HOST", srv.Addr)
	ctx := t.Context()
	for i := range 3 {
		s, err := Open(ctx, "proj", "inst")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSpace(ctx, "keep"); err != nil {
			t.Fatal(err)
		}
		v, ok, err := s.Get(ctx, "keep", []byte("n"))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(i)
		if i == 0 {
			want = ""
		}
		if string(v) != want || ok != (i > 0) {
			t.Fatalf("open #%d: n = %q (present %v), want %q", i, v, ok, want)
		}
		err = s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			tx.Put("keep", []byte("n"), []byte(fmt.Sprint(i+1)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// emulatorBinary finds cbtemulator: $CBTEMULATOR, $PATH, or the gcloud
// component google-cloud-cli-bigtable-emulator.
func emulatorBinary() string {
	if p := os.Getenv("CBTEMULATOR"); p != "" {
		return p
	}
	if p, err := exec.LookPath("cbtemulator"); err == nil {
		return p
	}
	for _, root := range []string{"/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk"} {
		p := filepath.Join(root, "platform", "bigtable-emulator", "cbtemulator")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func startEmulatorBinary(t *testing.T) string {
	t.Helper()
	bin := emulatorBinary()
	if bin == "" {
		t.Skip("cbtemulator not found (install google-cloud-cli-bigtable-emulator or set CBTEMULATOR); the in-process emulator tests still ran")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", fmt.Sprint(port))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("cbtemulator did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
