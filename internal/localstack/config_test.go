package localstack

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/standin"
)

// freePorts gives every role a distinct free port.
func freePorts(t *testing.T) Ports {
	t.Helper()
	seen := map[int]bool{}
	next := func() int {
		for {
			p, err := standin.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			if !seen[p] {
				seen[p] = true
				return p
			}
		}
	}
	return Ports{next(), next(), next(), next(), next(), next(), next(), next(), next()}
}

func TestPortsCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port

	cases := []struct {
		name  string
		edit  func(p *Ports)
		wants []string // substrings of the error; none: no error
	}{
		{"all free", func(*Ports) {}, nil},
		{"busy", func(p *Ports) { p.Audit = busy },
			[]string{"port " + strconv.Itoa(busy) + " for the audit service is already in use", "--audit-port"}},
		{"shared", func(p *Ports) { p.Streamproc = p.Adapter },
			[]string{"given to both the adapter and streamproc's metrics", "--streamproc-port"}},
		{"out of range", func(p *Ports) { p.Bigtable = 70000 }, []string{"70000", "--bigtable-port"}},
		{"every problem at once", func(p *Ports) { p.Admin = busy; p.Kinesis = 0 },
			[]string{"--admin-port", "--kinesis-port"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := freePorts(t)
			tc.edit(&p)
			err := p.check()
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	d := DefaultPorts()
	if d.Adapter != 8000 || d.Admin != 8001 {
		t.Fatalf("defaults %+v: the docs promise the adapter on 8000 and the admin API on 8001", d)
	}
	seen := map[int]bool{}
	for _, n := range d.named() {
		if seen[n.port] {
			t.Fatalf("default port %d used twice", n.port)
		}
		seen[n.port] = true
	}
}

// TestCleanStop: a stand-in killed by our TERM (or a JVM exiting 143 after
// its hooks) stopped as asked; dualread's own children must exit 0.
func TestCleanStop(t *testing.T) {
	cases := []struct {
		name       string
		script     string
		thirdParty bool
		clean      bool
	}{
		{"stand-in killed by TERM", `echo ready; sleep 300`, true, true},
		{"stand-in exits 143", `trap "exit 143" TERM; echo ready; while :; do sleep 0.05; done`, true, true},
		{"stand-in exits 1", `trap "exit 1" TERM; echo ready; while :; do sleep 0.05; done`, true, false},
		{"dualread child killed by TERM", `echo ready; sleep 300`, false, false},
		{"dualread child exits 0", `trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done`, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "log")
			spec := standin.Spec{Name: tc.name, Path: "/bin/sh", Args: []string{"-c", tc.script}, LogPath: log,
				Ready: standin.LogContains(log, "ready"), Timeout: 20 * time.Second}
			p, err := standin.Start(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			ch := &child{role: "x", spec: spec, proc: p, thirdParty: tc.thirdParty}
			err = p.Shutdown(syscall.SIGTERM, 10*time.Second)
			if got := ch.cleanStop(err); got != tc.clean {
				t.Fatalf("cleanStop(%v) = %v, want %v", err, got, tc.clean)
			}
		})
	}
}

// TestChildren: the dualread children get the flags the stack's wiring
// depends on (a renamed flag elsewhere would otherwise surface only when
// `make run` fails).
func TestChildren(t *testing.T) {
	c := Config{Ports: DefaultPorts(), RunDir: "/run/x", Binary: "/bin/dualread", Demo: true, DemoRate: 5, DemoDuration: time.Minute}
	args := func(ch *child) string { return strings.Join(ch.spec.Args, " ") }
	checks := []struct {
		ch    *child
		wants []string
	}{
		{c.adapterChild(), []string{"serve ", "--backend bigtable", "--shadow-endpoint http://127.0.0.1:8010", "--shadow-sample 1",
			"--audit 127.0.0.1:9180", "--access-influx http://127.0.0.1:8086", "--admin-listen 127.0.0.1:8001", "--credentials /run/x/credentials.yaml"}},
		{c.auditChild(), []string{"audit ", "--influx http://127.0.0.1:8086", "--pairs-instance " + PairsInstance, "--reread-adapter http://127.0.0.1:8000"}},
		{c.streamprocChild(), []string{"streamproc ", "--stream " + Stream, "--source-endpoint http://127.0.0.1:4567", "--metrics-interval 1s", "--metrics-listen 127.0.0.1:9181"}},
		{c.bridgeChild(), []string{"kds-bridge ", "--dynamodb-endpoint http://127.0.0.1:8010", "--kinesis-endpoint http://127.0.0.1:4567", "--stream " + Stream, "--enable-streams"}},
		{c.demoChild(), []string{"demo ", "--adapter http://127.0.0.1:8000", "--dynamodb http://127.0.0.1:8010", "--rate 5", "--duration 1m0s"}},
	}
	for _, tc := range checks {
		for _, w := range tc.wants {
			if !strings.Contains(args(tc.ch)+" ", w) {
				t.Errorf("%s: %q lacks %q", tc.ch.role, args(tc.ch), w)
			}
		}
		if !strings.Contains(strings.Join(tc.ch.spec.Env, " "), "BIGTABLE_EMULATOR_HOST=127.0.0.1:9010") {
			t.Errorf("%s: no emulator in its environment", tc.ch.role)
		}
		if tc.ch.spec.LogPath != filepath.Join("/run/x", tc.ch.role+".log") {
			t.Errorf("%s logs to %s", tc.ch.role, tc.ch.spec.LogPath)
		}
	}
}
