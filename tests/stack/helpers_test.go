package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dualread/dualread/internal/localstack"
	"github.com/dualread/dualread/internal/standin"
	"github.com/dualread/dualread/internal/testenv"
)

// Options change how startStack runs `make run`.
type Options struct {
	// NoDemo passes --demo=false: no demo tables, no demo traffic.
	NoDemo bool
	// DemoRate is the demo's operations per second (default 20).
	DemoRate float64
	// Args are more `dualread local up` flags.
	Args []string
}

// Stack is one `make run` started by a test: the local stack as a new user
// gets it, on free ports and with its own run folder.
type Stack struct {
	// Endpoints are where the servers answer (see localstack.Endpoints).
	Endpoints localstack.Endpoints
	// State is stack.json as written once everything was ready: the stack
	// process's PID and each child's role, PID and log.
	State  localstack.State
	RunDir string

	root string // the repository

	cmd     *exec.Cmd
	out     *testenv.LockedBuffer
	done    chan struct{}
	err     error // make's exit, valid once done is closed
	stopped bool
}

// startStack runs `make run ARGS=...` from the repository root in a process
// group of its own, waits for the ready banner (bounded: a cold build and a
// first InfluxDB start take minutes) and returns the running stack. When t
// ends the stack is stopped with SIGINT, as Ctrl-C would, unless the test
// stopped it itself; a leftover process fails the test.
//
// This is the hook for end-to-end tests over the whole stack (the drill,
// the Grafana panel queries): start one with startStack, talk to
// s.Endpoints, query InfluxDB with s.Influx.
func startStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("runs make run: builds the binary and starts every stand-in")
	}
	wd, _ := os.Getwd()
	root, err := testenv.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{RunDir: t.TempDir(), root: root, out: &testenv.LockedBuffer{}, done: make(chan struct{})}
	// --exit-with-parent: a test binary killed by -timeout takes make down
	// (Pdeathsig below) and make's death then stops the stack.
	args := append([]string{"--run-dir", s.RunDir, "--exit-with-parent"}, freePortArgs(t)...)
	rate := opts.DemoRate
	if rate <= 0 {
		rate = 20
	}
	args = append(args, "--demo="+strconv.FormatBool(!opts.NoDemo), "--demo-rate", strconv.FormatFloat(rate, 'g', -1, 64))
	args = append(args, opts.Args...)

	s.cmd = makeRun(root, args)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("make run: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		if !s.stopped {
			s.Stop(t)
		}
		if t.Failed() {
			t.Logf("--- make run output ---\n%s", s.out.String())
			s.logTails(t)
		}
	})

	began := time.Now()
	deadline := began.Add(15 * time.Minute)
	for !strings.Contains(s.out.String(), localstack.ReadyBanner) {
		select {
		case <-s.done:
			t.Fatalf("make run exited before the stack was up (%v):\n%s", s.err, s.out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 15 minutes:\n%s", localstack.ReadyBanner, s.out.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(s.RunDir, localstack.StateFile))
	if err != nil {
		t.Fatalf("stack.json: %v", err)
	}
	if err := json.Unmarshal(b, &s.State); err != nil {
		t.Fatalf("stack.json: %v\n%s", err, b)
	}
	s.Endpoints = s.State.Endpoints
	t.Logf("make run: stack up in %v (build, stand-ins, %d children)", time.Since(began).Round(time.Second), len(s.State.Children))
	return s
}

// makeRun is `make run ARGS=...` in the repository root, in a process group
// of its own as a shell gives a foreground job, so that SIGINT to the group
// is what Ctrl-C sends. Pdeathsig: a test binary killed by -timeout takes
// make down, and with --exit-with-parent the stack follows.
func makeRun(root string, args []string) *exec.Cmd {
	cmd := exec.Command("make", "--no-print-directory", "-C", root, "run", "ARGS="+strings.Join(args, " "))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// portFlags are `local up`'s port flags.
var portFlags = []string{"--adapter-port", "--admin-port", "--dynamodb-port", "--kinesis-port", "--influxdb-port",
	"--influxdb-rpc-port", "--bigtable-port", "--audit-port", "--streamproc-port"}

// freePortArgs gives every port flag a free port: the defaults (8000, ...)
// may be taken on a shared machine, and two stacks must not meet.
func freePortArgs(t *testing.T) []string {
	t.Helper()
	var args []string
	seen := map[int]bool{}
	for _, flag := range portFlags {
		port, err := standin.FreePort()
		for err == nil && seen[port] { // the kernel may hand a released port out again
			port, err = standin.FreePort()
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[port] = true
		args = append(args, flag, strconv.Itoa(port))
	}
	return args
}

// Output is what make run printed so far.
func (s *Stack) Output() string { return s.out.String() }

// Stop sends SIGINT to make's process group, as Ctrl-C does, waits for make
// and the stack to exit, and fails t unless the stack reported a clean stop
// and no process it started is left. It returns the output.
func (s *Stack) Stop(t *testing.T) string {
	t.Helper()
	s.stopped = true
	began := time.Now()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(3 * time.Minute):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		for _, c := range s.State.Children {
			_ = syscall.Kill(-c.PID, syscall.SIGKILL)
		}
		<-s.done
		t.Fatalf("make run did not exit within 3 minutes of SIGINT")
	}
	t.Logf("make run: stopped %v after SIGINT", time.Since(began).Round(100*time.Millisecond))
	out := s.out.String()
	// make re-raises the SIGINT it got once its child is gone, so its own
	// status is "interrupted" even when the stack stopped cleanly; the
	// stack's verdict is its last line.
	if !strings.Contains(out, localstack.StoppedLine+": every child exited cleanly, none left running") {
		t.Errorf("no clean-stop line after SIGINT (make: %v)", s.err)
	}
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !(ws.Exited() && ws.ExitStatus() == 0) && !(ws.Signaled() && ws.Signal() == syscall.SIGINT) {
		t.Errorf("make exited with %v, want success or SIGINT", s.err)
	}
	pids := map[string]int{"dualread local up": s.State.PID}
	for _, c := range s.State.Children {
		pids[c.Role] = c.PID
	}
	for role, pid := range pids {
		if pid > 0 && standin.Alive(pid) {
			t.Errorf("%s (pid %d) still running after the stack stopped", role, pid)
		}
		if err := syscall.Kill(-pid, 0); err != syscall.ESRCH && role != "dualread local up" {
			t.Errorf("process group of %s (%d) still has members: %v", role, pid, err)
		}
	}
	return out
}

// logTails logs the end of every child's log, for a failed test.
func (s *Stack) logTails(t *testing.T) {
	t.Helper()
	for _, c := range s.State.Children {
		b, err := os.ReadFile(c.Log)
		if err != nil {
			continue
		}
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("--- %s (%s) ---\n%s", c.Role, c.Log, b)
	}
}

// Client is an SDK client for endpoint signing with accessKeyID (the
// adapter names the caller after it, or after the service the stack's
// credentials file maps it to).
func Client(endpoint, accessKeyID string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       testenv.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, "secret", ""),
		Retryer:      retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3 }),
	})
}

// Influx runs an InfluxQL query on the stack's database.
func (s *Stack) Influx(ctx context.Context, q string) (*testenv.InfluxResult, error) {
	return testenv.InfluxQuery(ctx, s.Endpoints.InfluxDB, localstack.InfluxDatabase, q)
}

// eventually retries check every 500 ms until it returns nil or d passes,
// then fails t with the last error.
func eventually(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if err = check(); err == nil {
			return
		}
	}
	t.Fatalf("%s: not within %v: %v", what, d, err)
}

// sums returns sum(field) per value of tag for measurement since the stack
// started, e.g. the audit's pairs per class of one table.
func (s *Stack) sums(ctx context.Context, measurement, field, where, tag string) (map[string]float64, error) {
	q := fmt.Sprintf(`SELECT sum(%s) FROM %s WHERE %s GROUP BY %s`, testenv.QuoteInfluxIdent(field), measurement, where, testenv.QuoteInfluxIdent(tag))
	res, err := s.Influx(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, r := range res.Results {
		for _, series := range r.Series {
			for _, v := range series.Values {
				if n, ok := v[1].(float64); ok {
					out[series.Tags[tag]] += n
				}
			}
		}
	}
	return out, nil
}
