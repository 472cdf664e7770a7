package processtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/internal/testenv"
)

// env is what the tests share: the binary and the stand-ins.
type env struct {
	bin      string
	ddb      string // DynamoDB Local URL
	kinesis  string // kinesalite URL
	bigtable string // Bigtable emulator host:port
}

// shared is set by TestMain before any test runs and only read after.
var shared *env

func TestMain(m *testing.M) {
	testenv.RunShared(m, "processtest", testenv.Needs{Binary: true, DynamoDB: true, Kinesis: true, Bigtable: true}, 5*time.Minute, func(s *testenv.Shared) {
		shared = &env{bin: s.Bin, ddb: s.DynamoDB, kinesis: s.Kinesis, bigtable: s.Bigtable}
		// The in-process adapter that reads the target finds the emulator
		// as the children do.
		os.Setenv("BIGTABLE_EMULATOR_HOST", s.Bigtable)
	})
}

func sharedEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() || shared == nil {
		t.Skip("needs the dualread binary, DynamoDB Local, kinesalite and the Bigtable emulator")
	}
	return shared
}

// child is one run of the dualread binary.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *testenv.LockedBuffer
	done chan struct{}
	err  error // Wait's result, set before done closes
}

// start runs `dualread ARGS...` with the emulator and test credentials in
// its environment; it dies with the test binary and is SIGKILLed at
// cleanup if still running; its output is logged when the test failed.
func (e *env) start(t *testing.T, name string, args ...string) *child {
	t.Helper()
	c := &child{name: name, out: &testenv.LockedBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(e.bin, args...)
	c.cmd.Env = testenv.ChildEnv(filepath.Join(t.TempDir(), "none"), "BIGTABLE_EMULATOR_HOST="+e.bigtable)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			out := c.out.String()
			t.Logf("--- %s output (tail) ---\n%s", name, out[max(0, len(out)-4000):])
		}
	})
	return c
}

// kill SIGKILLs the child (no release, no flush) and waits for it.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop sends sig and waits up to d for the child to exit; its exit error.
func (c *child) stop(t *testing.T, sig syscall.Signal, d time.Duration) error {
	t.Helper()
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		c.kill()
		return fmt.Errorf("%s did not exit within %v of %v", c.name, d, sig)
	}
}

// waitOutput waits until the child printed a line containing s and
// returns that line.
func (c *child) waitOutput(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(c.out.String(), "\n") {
			if strings.Contains(line, s) {
				return line
			}
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited (%v) before printing %q:\n%s", c.name, c.err, s, c.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not print %q", c.name, s)
	return ""
}

// target opens the Bigtable instance the children write to.
func (e *env) target(t *testing.T, ctx context.Context, instance string) *adapter.Adapter {
	t.Helper()
	a, err := adapter.Open(ctx, adapter.Config{Backend: adapter.BackendBigtable, BigtableProject: "p", BigtableInstance: instance})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// targetArgs are the flags that point a child at the instance.
func targetArgs(instance string) []string {
	return []string{"--backend", "bigtable", "--bigtable-project", "p", "--bigtable-instance", instance, "--log-format", "text"}
}

const schema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`

// createTables creates the tables on DynamoDB Local (with streams when
// asked) and in the target.
func (e *env) createTables(t *testing.T, ctx context.Context, a *adapter.Adapter, stream bool, tables ...string) {
	t.Helper()
	ddb := testenv.NewRawClient(e.ddb)
	spec := ""
	if stream {
		spec = `,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}`
	}
	for _, tb := range tables {
		if r, err := ddb.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s%s}`, tb, schema, spec))); err != nil || r.Status != 200 {
			t.Fatalf("CreateTable %s: %v %s", tb, err, r.Body)
		}
		t.Cleanup(func() { ddb.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, tb))) })
		if _, err := a.Executor.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s}`, tb, schema))); err != nil {
			t.Fatal(err)
		}
	}
}

// differences compares the tables in the target with DynamoDB Local.
func (e *env) differences(t *testing.T, ctx context.Context, a *adapter.Adapter, tables ...string) string {
	t.Helper()
	ddb := testenv.NewRawClient(e.ddb)
	var out []string
	for _, tb := range tables {
		want := testenv.ScanByPK(t, ddb.ScanVia(ctx), tb)
		got := testenv.ScanByPK(t, func(body string) ([]byte, error) { return a.Executor.Do(ctx, "Scan", []byte(body)) }, tb)
		if d := testenv.DiffByPK(want, got); d != "" {
			out = append(out, tb+": "+d)
		}
	}
	return strings.Join(out, "\n")
}

func (e *env) waitConverged(t *testing.T, ctx context.Context, a *adapter.Adapter, what string, tables ...string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		d := e.differences(t, ctx, a, tables...)
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: target never equalled DynamoDB Local:\n%s", what, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
