package main

import (
	"testing"
	"time"

	"github.com/dualread/dualread/internal/localstack"
)

// TestLocalStackCommandLines parses every command line the local stack
// gives its dualread children with the real subcommands' flag sets, so a
// renamed or removed flag fails here rather than at `make run`.
func TestLocalStackCommandLines(t *testing.T) {
	cfg := localstack.Config{Ports: localstack.DefaultPorts(), RunDir: t.TempDir(), Binary: "dualread",
		Demo: true, DemoRate: 3, DemoDuration: time.Minute}
	root := newRootCmd()
	for role, args := range localstack.CommandLines(cfg) {
		sub, rest, err := root.Find(args)
		if err != nil || sub == root {
			if role == "kds-bridge" && !hasSubcommand(root, "kds-bridge") {
				t.Logf("kds-bridge is not in this binary yet; the stack runs without it")
				continue
			}
			t.Errorf("%s: no subcommand for %q: %v", role, args, err)
			continue
		}
		if err := sub.ParseFlags(rest); err != nil {
			t.Errorf("%s: %s rejects %q: %v", role, sub.CommandPath(), rest, err)
		}
		if err := sub.ValidateArgs(sub.Flags().Args()); err != nil {
			t.Errorf("%s: stray arguments in %q: %v", role, rest, err)
		}
	}
}
