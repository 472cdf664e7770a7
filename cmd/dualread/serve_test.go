package main

import (
	"bufio"
	"context"
	"io"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/server"
	"github.com/dualread/dualread/adapter/store"
)

func TestMain(m *testing.M) {
	// Re-executed by TestSignalShutdown to run the real main.
	if os.Getenv("DUALREAD_TEST_MAIN") == "1" {
		os.Args = append([]string{"dualread"}, strings.Fields(os.Getenv("DUALREAD_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// addrWriter captures stdout and hands over the served address once printed.
type addrWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	addr chan string
	once sync.Once
}

var addrRE = regexp.MustCompile(`on (http://\S+)`)

func newAddrWriter() *addrWriter { return &addrWriter{addr: make(chan string, 1)} }

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := addrRE.FindStringSubmatch(w.buf.String()); m != nil {
		w.once.Do(func() { w.addr <- m[1] })
	}
	return len(p), nil
}

func baseConfig() serveConfig {
	return serveConfig{listen: "127.0.0.1:0", backend: "embedded", region: "us-east-1", auth: "identify",
		logLevel: "error", logFormat: "json", shutdownTimeout: 10 * time.Second}
}

func TestServeRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("AKIA: {service: x}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*serveConfig)
		wantErr string
	}{
		{"unknown auth", func(c *serveConfig) { c.auth = "sigv2" }, "--auth"},
		{"verify without credentials", func(c *serveConfig) { c.auth = "verify" }, "--auth verify needs --credentials"},
		{"missing credentials file", func(c *serveConfig) { c.credentials = filepath.Join(dir, "nope") }, "--credentials"},
		{"credentials without secret", func(c *serveConfig) { c.credentials = bad }, "has no secret"},
		{"bad log level", func(c *serveConfig) { c.logLevel = "loud" }, "--log-level"},
		{"bad log format", func(c *serveConfig) { c.logFormat = "xml" }, "--log-format"},
		{"bad listen address", func(c *serveConfig) { c.listen = "127.0.0.1:-1" }, "listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.edit(&c)
			open := func(context.Context, adapter.Config) (*adapter.Adapter, error) {
				t.Fatal("backend opened despite a bad flag")
				return nil, nil
			}
			err := runServe(context.Background(), c, io.Discard, io.Discard, open)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

// nopStore is a store that holds nothing; the shutdown test never reaches it.
type nopStore struct{ closed chan struct{} }

func (nopStore) CreateSpace(context.Context, string) error { return nil }
func (nopStore) DropSpace(context.Context, string) error   { return nil }
func (nopStore) Get(context.Context, string, []byte) ([]byte, bool, error) {
	return nil, false, nil
}
func (nopStore) Scan(context.Context, string, store.Range) iter.Seq2[store.Row, error] {
	return func(func(store.Row, error) bool) {}
}
func (nopStore) Update(context.Context, func(context.Context, store.Txn) error) error { return nil }
func (s nopStore) Close() error                                                       { close(s.closed); return nil }

// blockingExecutor holds every request until released.
type blockingExecutor struct{ started, release chan struct{} }

func (e blockingExecutor) Do(ctx context.Context, op string, body []byte) ([]byte, error) {
	close(e.started)
	<-e.release
	return []byte(`{"TableNames":[]}`), nil
}

func TestServeDrainsInFlightRequestsOnShutdown(t *testing.T) {
	exec := blockingExecutor{started: make(chan struct{}), release: make(chan struct{})}
	st := nopStore{closed: make(chan struct{})}
	var gotCfg adapter.Config
	open := func(_ context.Context, cfg adapter.Config) (*adapter.Adapter, error) {
		gotCfg = cfg
		return &adapter.Adapter{Store: st, Handler: server.New(exec, cfg.Server)}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newAddrWriter()
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, baseConfig(), out, io.Discard, open) }()
	addr := <-out.addr
	if gotCfg.Backend != "embedded" || gotCfg.Region != "us-east-1" || gotCfg.Server.Auth != server.AuthIdentify {
		t.Fatalf("adapter config = %+v", gotCfg)
	}

	respc := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", addr, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			close(respc)
			return
		}
		respc <- resp
	}()
	<-exec.started
	cancel() // as SIGTERM does
	select {
	case err := <-done:
		t.Fatalf("serve returned %v while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(exec.release)
	resp := <-respc
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("in-flight request: %+v", resp)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	select {
	case <-st.closed:
	default:
		t.Fatal("backend not closed on shutdown")
	}
}

// TestServeEmbeddedWithAWSSDK runs the real wiring (embedded Bigtable
// emulator, executor, protocol handler) and talks to it with the AWS SDK.
func TestServeEmbeddedWithAWSSDK(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newAddrWriter()
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, baseConfig(), out, io.Discard, openBackend) }()
	var addr string
	select {
	case addr = <-out.addr:
	case err := <-done:
		t.Fatalf("serve failed to start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}

	resp, err := http.Get(addr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "healthy: dynamodb.us-east-1.amazonaws.com " {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}

	client := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(addr),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSRV", "secret", ""),
		RetryMaxAttempts: 1,
	})
	lt, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if len(lt.TableNames) != 0 {
		t.Fatalf("fresh embedded backend lists tables %v", lt.TableNames)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestSignalShutdown runs the real main in a child process and stops it
// with SIGTERM, as an orchestrator would.
func TestSignalShutdown(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DUALREAD_TEST_MAIN=1",
		"DUALREAD_TEST_ARGS=serve --listen 127.0.0.1:0 --log-format text --log-level info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !addrRE.MatchString(line) {
		t.Fatalf("first line %q (%v); stderr:\n%s", line, err, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Fatalf("no clean stop logged:\n%s", stderr.String())
	}
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "dualread "+buildVersion()+" (go") {
		t.Fatalf("version printed %q", out.String())
	}
	if err := func() error { root := newRootCmd(); root.SetArgs([]string{"version", "extra"}); return root.Execute() }(); err == nil {
		t.Fatal("version accepted an argument")
	}
}
