package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// EnvDynamoDBEndpoint names an already running DynamoDB Local to use as the
// oracle instead of starting one (e.g. the shared one at 127.0.0.1:18000).
const EnvDynamoDBEndpoint = "DUALREAD_DYNAMODB_ENDPOINT"

// startTimeout bounds how long a DynamoDB Local may take to answer HTTP; the
// first run also installs it through npm, which is why it is generous.
const startTimeout = 60 * time.Second

// Process is a DynamoDB Local started by this package.
type Process struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	log      *os.File
}

// LaunchDynamoDBLocal runs `deploy/local/standins.sh dynamodb PORT` in its own
// process group on a free loopback port and waits until it answers HTTP.
// TestMain has no testing.TB, hence this form; tests use StartDynamoDBLocal.
func LaunchDynamoDBLocal(ctx context.Context) (*Process, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := RepoRoot(wd)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "dynamodblocal-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(root, "deploy/local/standins.sh"), "dynamodb", strconv.Itoa(port))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group so Stop can kill the script and the JVM together;
	// Pdeathsig so a test binary killed by -timeout leaves no JVM behind
	// (standins.sh execs java, so the JVM is the direct child).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Process{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		out, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("%w\n--- DynamoDB Local output ---\n%s", err, out)
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint+"/", nil)
		// Any HTTP answer will do: DynamoDB Local answers GET / with a 400
		// MissingAuthenticationToken rather than AWS's "healthy: ..." text.
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return errors.New("testenv: DynamoDB Local exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("testenv: DynamoDB Local at %s did not answer: %w", p.Endpoint, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop kills the process group and waits for the process to go.
func (p *Process) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
	if p.log != nil {
		p.log.Close()
		os.Remove(p.log.Name())
	}
}

// StartDynamoDBLocal returns the endpoint of a DynamoDB Local for this test:
// the one named by DUALREAD_DYNAMODB_ENDPOINT if set, otherwise a fresh
// process killed when the test ends.
func StartDynamoDBLocal(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv(EnvDynamoDBEndpoint); ep != "" {
		return ep
	}
	return startOwnDynamoDBLocal(t)
}

// startOwnDynamoDBLocal always starts a process, ignoring the env var: a
// second, independent instance is what the differential test needs when no
// adapter is present.
func startOwnDynamoDBLocal(t testing.TB) string {
	t.Helper()
	p, err := LaunchDynamoDBLocal(context.Background())
	if err != nil {
		t.Fatalf("start DynamoDB Local: %v", err)
	}
	t.Cleanup(p.Stop)
	return p.Endpoint
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
