package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// BuildDualread builds bin/dualread from the repository into dir and
// returns its path: the suites that run the binary as child processes
// (SIGKILL, restart, takeover) build it once in TestMain.
func BuildDualread(ctx context.Context, dir string) (string, error) {
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dualread")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/dualread")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// ChildEnv is the environment of a dualread child process: this process's,
// the test credentials, and no AWS configuration from the machine (none
// names a file that does not exist), plus extra.
func ChildEnv(none string, extra ...string) []string {
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+none,
		"AWS_SHARED_CREDENTIALS_FILE="+none,
	)
	return append(env, extra...)
}

// LockedBuffer is a bytes.Buffer safe for a child's output written by one
// goroutine while the test reads it from another.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
