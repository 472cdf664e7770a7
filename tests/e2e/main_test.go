package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

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
