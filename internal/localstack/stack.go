package localstack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/dualread/dualread/internal/demo"
	"github.com/dualread/dualread/internal/standin"
)

// Stack is a running local stack.
type Stack struct {
	cfg      Config
	mu       sync.Mutex
	children []*child
	down     bool
}

// Up starts the stack and returns once every server is ready. On any
// failure, or when ctx ends first, whatever was started is stopped again.
func Up(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg.defaults()
	if cfg.Binary == "" {
		if cfg.Binary, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	if err := cfg.Ports.check(); err != nil {
		return nil, err
	}
	if err := cfg.prepareRunDir(); err != nil {
		return nil, err
	}
	s := &Stack{cfg: cfg}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Down())
		}
	}()
	standIns, err := cfg.standIns()
	if err != nil {
		return nil, err
	}
	if err := s.start(ctx, standIns...); err != nil {
		return nil, err
	}
	e := cfg.endpoints()
	if err := standin.CreateInfluxDatabases(ctx, e.InfluxDB, InfluxDatabase); err != nil {
		return nil, err
	}
	if err := createStream(ctx, e.Kinesis, Stream); err != nil {
		return nil, err
	}
	// One at a time: the adapter and streamproc both create the store's
	// catalog on the emulator when it is missing, and the audit must
	// listen before the adapter connects its pair stream.
	next := []*child{cfg.auditChild(), cfg.adapterChild(), cfg.streamprocChild()}
	if cfg.Bridge {
		next = append(next, cfg.bridgeChild())
	} else {
		fmt.Fprintln(cfg.Out, "kds-bridge: not in this dualread binary; DynamoDB Local's changes will not reach the store")
	}
	if cfg.Demo {
		next = append(next, cfg.demoChild())
	}
	for _, ch := range next {
		if err := s.start(ctx, ch); err != nil {
			return nil, err
		}
	}
	if err := s.writeState(); err != nil {
		return nil, err
	}
	return s, nil
}

// prepareRunDir creates the run folder with a fresh InfluxDB data folder
// (every other store of the stack is in memory, so old metrics would
// describe tables that no longer exist) and the credentials file naming the
// demo's services.
func (c *Config) prepareRunDir() error {
	if c.RunDir == "" {
		root, _, err := standin.Script()
		if err != nil {
			return err
		}
		c.RunDir = filepath.Join(root, ".cache", "run")
	}
	abs, err := filepath.Abs(c.RunDir)
	if err != nil {
		return err
	}
	c.RunDir = abs
	if err := os.MkdirAll(c.RunDir, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(c.RunDir, "influxdb")); err != nil {
		return err
	}
	creds := demo.CredentialsYAML(map[string]demo.Service{AccessKeyID: {Secret: SecretAccessKey, Name: "dualread-local"}})
	return os.WriteFile(filepath.Join(c.RunDir, "credentials.yaml"), []byte(creds), 0o600)
}

// start launches the children together and waits until all are ready.
func (s *Stack) start(ctx context.Context, children ...*child) error {
	for _, ch := range children {
		fmt.Fprintf(s.cfg.Out, "starting %-18s %s\n", ch.role, ch.spec.Addr)
		p, err := standin.Launch(ch.spec)
		if err != nil {
			return err
		}
		ch.proc = p
		s.mu.Lock()
		s.children = append(s.children, ch)
		s.mu.Unlock()
	}
	errs := make([]error, len(children))
	var wg sync.WaitGroup
	for i, ch := range children {
		wg.Go(func() {
			began := time.Now()
			if err := ch.proc.WaitReady(ctx, ch.spec); err != nil {
				errs[i] = fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, ch.proc.LogPath, ch.proc.LogTail(4<<10))
				return
			}
			fmt.Fprintf(s.cfg.Out, "ready    %-18s pid %d, %.1fs\n", ch.role, ch.proc.PID(), time.Since(began).Seconds())
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted while starting: %w", err)
	}
	return errors.Join(errs...)
}

// Wait returns nil when ctx ends (Ctrl-C), or an error as soon as a child
// other than the demo exits: the stack would be broken in a way the user
// might not notice. The demo ending is reported and the stack keeps going.
func (s *Stack) Wait(ctx context.Context) error {
	type exit struct{ ch *child }
	exits := make(chan exit, len(s.children))
	for _, ch := range s.children {
		go func() {
			select {
			case <-ch.proc.Done():
				exits <- exit{ch}
			case <-ctx.Done():
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-exits:
			err := e.ch.proc.Err()
			if e.ch.optional {
				if err != nil {
					fmt.Fprintf(s.cfg.Out, "demo traffic failed: %v (see %s); the stack keeps running\n", err, e.ch.proc.LogPath)
				} else {
					fmt.Fprintf(s.cfg.Out, "demo traffic finished (%s); the stack keeps running\n", e.ch.proc.LogPath)
				}
				continue
			}
			return fmt.Errorf("%s exited unexpectedly (%v); last lines of %s:\n%s", e.ch, err, e.ch.proc.LogPath, e.ch.proc.LogTail(2<<10))
		}
	}
}

// Down stops every child, by stage (see child.stage), each by its process
// group: TERM, the child's grace, then KILL. It returns an error naming any
// child that did not stop cleanly or left a process behind. Safe to call
// twice.
func (s *Stack) Down() error {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return nil
	}
	s.down = true
	children := slices.Clone(s.children)
	s.mu.Unlock()
	slices.SortStableFunc(children, func(a, b *child) int { return cmp.Compare(a.stage, b.stage) })
	var (
		mu   sync.Mutex
		errs []error
	)
	for i := 0; i < len(children); {
		j := i
		for j < len(children) && children[j].stage == children[i].stage {
			j++
		}
		var wg sync.WaitGroup
		for _, ch := range children[i:j] {
			wg.Go(func() {
				// A demo that ended before (Wait reported how) has
				// nothing to stop.
				ended := ch.optional && ch.proc.Exited()
				err := ch.proc.Shutdown(syscall.SIGTERM, ch.grace)
				if ended {
					err = nil
				}
				if !ch.cleanStop(err) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w (see %s)", ch, err, ch.proc.LogPath))
					mu.Unlock()
				}
				fmt.Fprintf(s.cfg.Out, "stopped  %-18s pid %d\n", ch.role, ch.proc.PID())
			})
		}
		wg.Wait()
		i = j
	}
	for _, ch := range children {
		if standin.Alive(ch.proc.PID()) {
			errs = append(errs, fmt.Errorf("%s is still running after stop", ch))
		}
		if err := syscall.Kill(-ch.proc.PID(), 0); !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("process group %d of %s still has members (%v)", ch.proc.PID(), ch.role, err))
		}
	}
	if len(errs) == 0 {
		os.Remove(s.statePath())
	}
	return errors.Join(errs...)
}

// PIDs are the children's process ids (each also its process group id).
func (s *Stack) PIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, ch := range s.children {
		m[ch.role] = ch.proc.PID()
	}
	return m
}

// State is what stack.json in the run folder records while the stack runs,
// for scripts and tests that need the children's PIDs or endpoints.
type State struct {
	PID       int          `json:"pid"` // the stack process (dualread local up)
	Endpoints Endpoints    `json:"endpoints"`
	Children  []ChildState `json:"children"`
}

// ChildState is one child in stack.json.
type ChildState struct {
	Role string `json:"role"`
	PID  int    `json:"pid"`
	Addr string `json:"addr,omitempty"`
	Log  string `json:"log"`
}

// StateFile is stack.json's name in the run folder.
const StateFile = "stack.json"

func (s *Stack) statePath() string { return filepath.Join(s.cfg.RunDir, StateFile) }

func (s *Stack) writeState() error {
	st := State{PID: os.Getpid(), Endpoints: s.cfg.endpoints()}
	for _, ch := range s.children {
		st.Children = append(st.Children, ChildState{ch.role, ch.proc.PID(), ch.spec.Addr, ch.proc.LogPath})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(s.statePath(), append(b, '\n'), 0o644)
}
