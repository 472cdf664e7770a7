package testenv

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRepoRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy/local/standins.sh")); err != nil {
		t.Fatalf("root %s has no deploy/local/standins.sh: %v", root, err)
	}
	if _, err := RepoRoot(t.TempDir()); err == nil {
		t.Fatal("a folder outside any module must not have a root")
	}
}

// TestLaunchAndStop starts a real DynamoDB Local, talks to it with the raw
// signed client, and checks Stop really ends the process.
func TestLaunchAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	p, err := LaunchDynamoDBLocal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	c := NewRawClient(p.Endpoint)
	resp, err := c.Do(context.Background(), "ListTables", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ TableNames []string }
	if resp.Status != 200 || json.Unmarshal(resp.Body, &out) != nil || out.TableNames == nil {
		t.Fatalf("ListTables on a fresh instance: %d %s", resp.Status, resp.Body)
	}
	resp, err = c.Do(context.Background(), "NoSuchOperation", []byte(`{}`))
	if err != nil || resp.Status != 400 || !strings.Contains(string(resp.Body), "UnknownOperationException") {
		t.Fatalf("unknown operation: %v %d %s", err, resp.Status, resp.Body)
	}
	pid := p.proc.PID()
	p.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive after Stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
