package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/dualread/dualread/adapter/store"
)

// Shard is one shard as the stream lists it.
type Shard struct {
	ID string
	// Parents are the shards it was split or merged from (a merge has two).
	Parents []string
}

// Config configures a Coordinator.
type Config struct {
	Store store.Store
	// Stream names the group of shards in the lease table (a Kinesis
	// stream name; "dynamodbstreams", whose shard ids carry their stream's
	// ARN): leases of different groups never mix, and the fair share is
	// computed over the group's listed shards.
	Stream string
	// Owner identifies this instance in the lease table; default random.
	// Each process must have its own.
	Owner string
	// LeaseDuration is how long a lease lives without renewal (default
	// 10 s): a dead instance's shards are taken over after at most this
	// plus one Tick.
	LeaseDuration time.Duration
	// Tick is how often leases are renewed and the shard list re-read
	// (default LeaseDuration/4).
	Tick time.Duration
	// List returns every shard the stream still lists (open and closed).
	List func(ctx context.Context) ([]Shard, error)
	// Work reads one held shard from w.Checkpoint(), saving progress with
	// w.Save after each batch was applied. It returns nil once the shard
	// was read to its end (the Coordinator then checkpoints ShardEnd),
	// ErrLost when a Save found the lease gone, or ctx's error.
	Work func(ctx context.Context, w *Worker) error
	// Trace, when set, is called on "take", "start", "end" (ShardEnd
	// checkpointed) and "lost" of each shard; tests use it.
	Trace  func(event, shard string)
	Logger *slog.Logger
}

// Coordinator runs the lease rounds of one stream for one instance.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	table *Table

	mu   sync.Mutex
	held map[string]*Worker
	// stopped are the workers Run stopped on its way out: their leases are
	// still ours until Release frees them (or they expire).
	stopped []*Worker
}

// Worker is a lease this instance holds and the goroutine reading its
// shard; Work gets it.
type Worker struct {
	c       *Coordinator
	mu      sync.Mutex // serialises renewals and checkpoints (both check the counter)
	lease   *Lease
	start   Lease    // the lease as taken: checkpoint and state to start from
	parents []*Lease // the parents' rows when the lease was taken
	cancel  context.CancelFunc
	done    chan struct{}
	renewed time.Time
	end     json.RawMessage // state to save with ShardEnd, when set
}

// Shard is the shard this worker reads.
func (w *Worker) Shard() string { return w.start.Shard }

// Checkpoint is where reading starts: the last checkpointed sequence
// number, or "" for the beginning of the shard.
func (w *Worker) Checkpoint() string { return w.start.Checkpoint }

// State is the reader state saved with Checkpoint (nil if none).
func (w *Worker) State() json.RawMessage { return w.start.State }

// Parents are the lease rows of the shard's parents when it was taken
// (each at ShardEnd, with its final State), for readers that carry state
// along the lineage. Trimmed parents are absent.
func (w *Worker) Parents() []*Lease { return w.parents }

// EndState sets the reader state saved with the ShardEnd checkpoint once
// Work returns nil (children read it from Parents). Without it the state
// of the last Save stays.
func (w *Worker) EndState(state json.RawMessage) { w.end = state }

// Save checkpoints seq (and the reader's state there) if the lease is
// still ours; ErrLost otherwise. Call it only after every record up to
// seq was applied.
func (w *Worker) Save(ctx context.Context, seq string, state json.RawMessage) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	nl, err := w.c.table.update(ctx, w.lease.Shard, w.c.cfg.Owner, w.lease.Counter, false, func(l *Lease) {
		l.Checkpoint = seq
		if state != nil {
			l.State = state
		}
	})
	if err != nil {
		return err
	}
	w.lease = nl
	return nil
}

// New checks cfg and creates the lease space.
func New(ctx context.Context, cfg Config) (*Coordinator, error) {
	if cfg.Store == nil || cfg.Stream == "" || cfg.List == nil || cfg.Work == nil {
		return nil, errors.New("lease: Store, Stream, List and Work are required")
	}
	if cfg.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		cfg.Owner = hex.EncodeToString(b)
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = 10 * time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = cfg.LeaseDuration / 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Trace == nil {
		cfg.Trace = func(string, string) {}
	}
	if err := cfg.Store.CreateSpace(ctx, Space); err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, log: cfg.Logger.With("stream", cfg.Stream, "owner", cfg.Owner),
		table: NewTable(cfg.Store, cfg.Stream), held: map[string]*Worker{}}, nil
}

// Owner is this instance's lease owner id.
func (c *Coordinator) Owner() string { return c.cfg.Owner }

// Held lists the shards this instance holds now.
func (c *Coordinator) Held() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for s := range c.held {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Run does lease rounds until ctx ends and returns ctx's error once every
// worker stopped; leases are not released (a stopped instance is
// indistinguishable from a crashed one, and its shards move after
// LeaseDuration). Call Release afterwards for a graceful hand-over.
func (c *Coordinator) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Tick)
	defer t.Stop()
	defer c.stopAll()
	for {
		if err := c.tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("lease round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Coordinator) stopAll() {
	c.mu.Lock()
	ws := make([]*Worker, 0, len(c.held))
	for _, w := range c.held {
		w.cancel()
		ws = append(ws, w)
	}
	c.held = map[string]*Worker{}
	c.stopped = append(c.stopped, ws...)
	c.mu.Unlock()
	for _, w := range ws {
		<-w.done
	}
}

// Release stops every worker and frees this instance's leases, so others
// take the shards at their next round instead of after expiry. Call it
// after Run returned, or instead of cancelling Run.
func (c *Coordinator) Release(ctx context.Context) {
	c.mu.Lock()
	ws := c.stopped
	for _, w := range c.held {
		ws = append(ws, w)
	}
	c.held, c.stopped = map[string]*Worker{}, nil
	c.mu.Unlock()
	for _, w := range ws {
		w.cancel()
		<-w.done
		c.free(ctx, w)
	}
}

// free hands back the lease of a stopped worker. It checks only that we
// still own it, not the counter: a renewal whose commit raced with
// cancellation may have bumped the counter without our knowing, and with
// the worker stopped nothing of ours can use the lease any more.
func (c *Coordinator) free(ctx context.Context, w *Worker) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return c.table.release(ctx, w.lease.Shard, c.cfg.Owner) == nil
}

// tick is one lease round: discover shards, renew what we hold, take what
// is free or expired (children only once their parents are done), up to a
// fair share, and shed leases beyond the fair share so a new instance gets
// work.
func (c *Coordinator) tick(ctx context.Context) error {
	shards, err := c.cfg.List(ctx)
	if err != nil {
		return fmt.Errorf("list shards: %w", err)
	}
	listed := map[string]bool{}
	for _, s := range shards {
		listed[s.ID] = true
		if err := c.table.Ensure(ctx, s.ID, s.Parents); err != nil {
			return err
		}
	}
	c.renewAll(ctx)
	all, err := c.table.List(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	parentsDone := func(l *Lease) bool {
		for _, p := range l.Parents {
			// A parent no longer listed was trimmed past retention: nothing
			// left to read there.
			if pl := all[p]; listed[p] && (pl == nil || pl.Checkpoint != ShardEnd) {
				return false
			}
		}
		return true
	}
	// Only listed shards are work: a row of a shard no longer listed was
	// trimmed (nothing left to read), and in a group shared by several
	// deployments (Config.Stream) rows of shards another one lists are
	// theirs to read.
	workable := func(l *Lease) bool { return listed[l.Shard] && l.Checkpoint != ShardEnd && parentsDone(l) }
	owners := map[string]bool{c.cfg.Owner: true}
	nwork := 0
	for _, l := range all {
		if !workable(l) {
			continue
		}
		nwork++
		if !l.expired(now) {
			owners[l.Owner] = true
		}
	}
	target := (nwork + len(owners) - 1) / len(owners)
	c.mu.Lock()
	nheld := len(c.held)
	c.mu.Unlock()
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	take := func(l *Lease, steal bool) error {
		nl, err := c.table.take(ctx, l.Shard, c.cfg.Owner, l.Counter, now, c.cfg.LeaseDuration, steal)
		if errors.Is(err, ErrLost) {
			return nil // someone else was faster
		}
		if err != nil {
			return err
		}
		c.log.Info("lease taken", "shard", l.Shard, "previous", l.Owner, "stolen", steal, "checkpoint", nl.Checkpoint)
		c.cfg.Trace("take", l.Shard)
		var parents []*Lease
		for _, p := range nl.Parents {
			if pl := all[p]; pl != nil {
				parents = append(parents, pl)
			}
		}
		c.start(ctx, nl, parents)
		nheld++
		return nil
	}
	perOwner := map[string][]*Lease{}
	for _, id := range ids {
		l := all[id]
		if !workable(l) {
			continue
		}
		if !l.expired(now) {
			perOwner[l.Owner] = append(perOwner[l.Owner], l)
			continue
		}
		if nheld < target {
			if err := take(l, false); err != nil {
				return err
			}
		}
	}
	// Still short of a fair share: steal one lease per round from the most
	// loaded instance, if it holds more than its share (as the KCL does).
	// Without this, an instance started after another grabbed every shard
	// would never get work, as live owners are only seen through leases.
	if nheld < target {
		var victim []*Lease
		for o, ls := range perOwner {
			if o != c.cfg.Owner && len(ls) > len(victim) {
				victim = ls
			}
		}
		if len(victim) > target {
			if err := take(victim[len(victim)-1], true); err != nil {
				return err
			}
		}
	}
	if nheld > target+1 { // hysteresis: stealing corrects the last step
		c.shedOne(ctx)
	}
	return nil
}

func (c *Coordinator) start(ctx context.Context, l *Lease, parents []*Lease) {
	wctx, cancel := context.WithCancel(ctx)
	w := &Worker{c: c, lease: l, start: *l, parents: parents, cancel: cancel, done: make(chan struct{}), renewed: time.Now()}
	c.mu.Lock()
	c.held[l.Shard] = w
	c.mu.Unlock()
	go func() {
		defer close(w.done)
		defer cancel()
		c.cfg.Trace("start", l.Shard)
		err := c.cfg.Work(wctx, w)
		if err == nil {
			err = w.Save(wctx, ShardEnd, w.end)
			if err == nil {
				c.cfg.Trace("end", l.Shard)
				c.log.Info("shard finished", "shard", l.Shard)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrLost):
			c.cfg.Trace("lost", l.Shard)
			c.log.Info("lease lost", "shard", l.Shard)
		case wctx.Err() != nil:
		default:
			c.log.Warn("shard worker stopped", "shard", l.Shard, "err", err)
		}
		c.mu.Lock()
		if c.held[l.Shard] == w {
			delete(c.held, l.Shard)
			if ctx.Err() != nil && !errors.Is(err, ErrLost) {
				// Run is ending and its cancellation stopped us before
				// stopAll could: the lease is still ours for Release.
				c.stopped = append(c.stopped, w)
			}
		}
		c.mu.Unlock()
	}()
}

// renewAll renews every held lease; a worker whose lease is lost, or that
// could not renew for longer than the lease lives (another instance may
// own the shard by now), is stopped.
func (c *Coordinator) renewAll(ctx context.Context) {
	c.mu.Lock()
	ws := make([]*Worker, 0, len(c.held))
	for _, w := range c.held {
		ws = append(ws, w)
	}
	c.mu.Unlock()
	for _, w := range ws {
		w.mu.Lock()
		nl, err := c.table.update(ctx, w.lease.Shard, c.cfg.Owner, w.lease.Counter, true, func(l *Lease) {
			l.Expiry = time.Now().Add(c.cfg.LeaseDuration)
		})
		switch {
		case err == nil:
			w.lease, w.renewed = nl, time.Now()
		case errors.Is(err, ErrLost) || time.Since(w.renewed) > c.cfg.LeaseDuration:
			w.cancel()
		}
		w.mu.Unlock()
	}
}

// shedOne hands back one lease (after its worker stopped between batches),
// so instances converge on a fair share.
func (c *Coordinator) shedOne(ctx context.Context) {
	c.mu.Lock()
	var w *Worker
	for _, x := range c.held {
		if w == nil || x.lease.Shard > w.lease.Shard {
			w = x
		}
	}
	if w != nil {
		delete(c.held, w.lease.Shard)
	}
	c.mu.Unlock()
	if w == nil {
		return
	}
	w.cancel()
	<-w.done
	if c.free(ctx, w) {
		c.log.Info("lease shed", "shard", w.lease.Shard)
	}
}
