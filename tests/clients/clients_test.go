// Package clients runs real non-Go clients (boto3 under pytest, the AWS CLI)
// against the system under test.
package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

// env is created once per test binary in TestMain; tests only read it.
var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	env, err = testenv.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	defer env.Close()
	return m.Run()
}

// clientEnv isolates the tools from any AWS configuration on the machine.
func clientEnv(endpoint string) []string {
	return append(os.Environ(),
		"DUALREAD_ENDPOINT="+endpoint,
		"AWS_ACCESS_KEY_ID="+testenv.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+testenv.SecretAccessKey,
		"AWS_DEFAULT_REGION="+testenv.Region,
		"AWS_REGION="+testenv.Region,
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"PYTHONDONTWRITEBYTECODE=1",
	)
}

func runTool(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env, c.Dir = cmd.Env, cmd.Dir
	out, err := c.CombinedOutput()
	t.Logf("%s\n%s", c.String(), out)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(c.Path), err)
	}
}

// TestBoto3 runs test_boto3.py with Debian's python3-boto3 and pytest.
func TestBoto3(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import boto3, pytest").Run(); err != nil {
		t.Skipf("%s with boto3 and pytest is not available (apt-get install -y python3-boto3 python3-pytest): %v", python, err)
	}
	target := env.Target(t)
	cmd := exec.Command(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_boto3.py")
	cmd.Env = clientEnv(target.Endpoint)
	runTool(t, cmd)
}

// TestAWSCLI runs awscli_test.sh with the AWS CLI, preferring Debian's
// /usr/bin/aws over whatever else is on PATH.
func TestAWSCLI(t *testing.T) {
	aws := "/usr/bin/aws"
	if _, err := os.Stat(aws); err != nil {
		p, err := exec.LookPath("aws")
		if err != nil {
			t.Skip("the AWS CLI is not installed (apt-get install -y awscli)")
		}
		aws = p
	}
	if err := exec.Command(aws, "--version").Run(); err != nil {
		t.Skipf("%s does not run: %v", aws, err)
	}
	target := env.Target(t)
	cmd := exec.Command("/bin/bash", "awscli_test.sh")
	cmd.Env = append(clientEnv(target.Endpoint), "AWS="+aws)
	runTool(t, cmd)
}
