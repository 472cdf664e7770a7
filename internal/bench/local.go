package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// standinsScript starts AWS's DynamoDB Local; the path is relative to the
// repository root.
const standinsScript = "deploy/local/standins.sh"

// LocalProcess is a DynamoDB Local started by LaunchDynamoDBLocal.
type LocalProcess struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	logFile  *os.File
}

// LaunchDynamoDBLocal starts AWS's DynamoDB Local (the reference target of
// a comparison) with deploy/local/standins.sh on a free loopback port, in
// its own process group, and waits until it answers. The repository is
// found by walking up from the working directory. Stop it when done.
//
// It deliberately does not reuse internal/testenv, which imports package
// testing and so does not belong in the dualread binary.
func LaunchDynamoDBLocal(ctx context.Context, log *slog.Logger) (*LocalProcess, error) {
	if log == nil {
		log = slog.Default()
	}
	root, err := findRepoRoot()
	if err != nil {
		return nil, err
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp("", "bench-dynamodblocal-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(root, standinsScript), "dynamodb", strconv.Itoa(port))
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: Stop kills the script and its JVM together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.Remove(logFile.Name())
		return nil, fmt.Errorf("bench: start DynamoDB Local: %w", err)
	}
	p := &LocalProcess{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{}), logFile: logFile}
	go func() { _ = cmd.Wait(); close(p.done) }()
	log.Info("bench: starting DynamoDB Local", "endpoint", p.Endpoint, "pid", cmd.Process.Pid)
	if err := p.waitReady(ctx); err != nil {
		out, _ := os.ReadFile(logFile.Name())
		p.Stop()
		return nil, fmt.Errorf("%w\n--- DynamoDB Local output ---\n%s", err, out)
	}
	return p, nil
}

func (p *LocalProcess) waitReady(ctx context.Context) error {
	// The first start may install DynamoDB Local through npm, hence a minute.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint+"/", nil)
		// Any HTTP answer means it is listening (DynamoDB Local answers an
		// unsigned GET / with 400).
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return errors.New("bench: DynamoDB Local exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("bench: DynamoDB Local at %s did not answer: %w", p.Endpoint, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop kills the process group this LocalProcess started and waits for it.
func (p *LocalProcess) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
	p.logFile.Close()
	os.Remove(p.logFile.Name())
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, standinsScript)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("bench: %s not found above the working directory; run from the dualread repository or pass a DynamoDB Local endpoint", standinsScript)
		}
		dir = parent
	}
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
