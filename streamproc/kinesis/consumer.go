// Package kinesis consumes Kinesis Data Streams for DynamoDB: it lists the
// stream's shards, shares them between instances with leases kept in the
// target backend (lease.go), reads each shard with GetRecords respecting
// lineage (a child only after its parents reached SHARD_END), applies the
// records through a streamproc.Applier and checkpoints each batch after it
// was applied.
package kinesis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/metrics"
	"github.com/dualread/dualread/streamproc/record"
)

// API is the part of the Kinesis client the consumer uses.
type API interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Config configures a Consumer.
type Config struct {
	Client  API
	Stream  string // addressed by name (kinesalite resolves names only)
	Store   store.Store
	Applier *streamproc.Applier
	Metrics *metrics.Recorder
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
	// Idle is the pause after a GetRecords that returned nothing (default
	// 1 s; AWS allows 5 GetRecords per second per shard).
	Idle time.Duration
	// BatchLimit caps records per GetRecords (default 1000).
	BatchLimit int32
	// Trace, when set, is called on "take", "start", "end" (SHARD_END
	// checkpointed) and "lost" of each shard; tests use it.
	Trace  func(event, shard string)
	Logger *slog.Logger
}

// Consumer is one instance of the stream consumer.
type Consumer struct {
	cfg    Config
	log    *slog.Logger
	leases *leases

	mu   sync.Mutex
	held map[string]*holder
}

// holder is a lease this instance holds and the worker reading its shard.
type holder struct {
	mu      sync.Mutex // serialises renewals and checkpoints (both check the counter)
	lease   *Lease
	cancel  context.CancelFunc
	done    chan struct{}
	renewed time.Time
}

// New checks cfg and creates the lease space.
func New(ctx context.Context, cfg Config) (*Consumer, error) {
	if cfg.Client == nil || cfg.Store == nil || cfg.Applier == nil || cfg.Stream == "" {
		return nil, errors.New("kinesis: Client, Store, Applier and Stream are required")
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
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	if cfg.BatchLimit <= 0 {
		cfg.BatchLimit = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Trace == nil {
		cfg.Trace = func(string, string) {}
	}
	if err := cfg.Store.CreateSpace(ctx, LeaseSpace); err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg, log: cfg.Logger.With("stream", cfg.Stream, "owner", cfg.Owner),
		leases: &leases{st: cfg.Store, stream: cfg.Stream}, held: map[string]*holder{}}, nil
}

// Owner is this instance's lease owner id.
func (c *Consumer) Owner() string { return c.cfg.Owner }

// Held lists the shards this instance holds now.
func (c *Consumer) Held() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for s := range c.held {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Run consumes until ctx ends. It returns ctx's error; leases are not
// released (a stopped instance is indistinguishable from a crashed one, and
// its shards move after LeaseDuration). Use Release first for a graceful
// hand-over.
func (c *Consumer) Run(ctx context.Context) error {
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

func (c *Consumer) stopAll() {
	c.mu.Lock()
	hs := make([]*holder, 0, len(c.held))
	for _, h := range c.held {
		h.cancel()
		hs = append(hs, h)
	}
	c.held = map[string]*holder{}
	c.mu.Unlock()
	for _, h := range hs {
		<-h.done
	}
}

// Release stops every worker and frees this instance's leases, so others
// take the shards at their next tick instead of after expiry.
func (c *Consumer) Release(ctx context.Context) {
	c.mu.Lock()
	hs := c.held
	c.held = map[string]*holder{}
	c.mu.Unlock()
	for _, h := range hs {
		h.cancel()
		<-h.done
		h.mu.Lock()
		_, _ = c.leases.update(ctx, h.lease.Shard, c.cfg.Owner, h.lease.Counter, true, func(l *Lease) { l.Owner = "" })
		h.mu.Unlock()
	}
}

// listShards returns every shard of the stream (open and closed, as long
// as Kinesis still lists them).
func (c *Consumer) listShards(ctx context.Context) ([]types.Shard, error) {
	var out []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(c.cfg.Stream)}
	for {
		page, err := c.cfg.Client.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Shards...)
		if page.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// tick is one lease round: discover shards, renew what we hold, take what
// is free or expired (children only once their parents are done), up to a
// fair share, and shed leases beyond the fair share so a new instance gets
// work.
func (c *Consumer) tick(ctx context.Context) error {
	shards, err := c.listShards(ctx)
	if err != nil {
		return fmt.Errorf("list shards: %w", err)
	}
	listed := map[string]bool{}
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		listed[id] = true
		var parents []string
		for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
			if p != nil {
				parents = append(parents, *p)
			}
		}
		if err := c.leases.ensure(ctx, id, parents); err != nil {
			return err
		}
	}
	c.renewAll(ctx)
	all, err := c.leases.list(ctx)
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
	owners := map[string]bool{c.cfg.Owner: true}
	workable := 0
	for _, l := range all {
		if l.Checkpoint == ShardEnd || !parentsDone(l) {
			continue
		}
		workable++
		if !l.expired(now) {
			owners[l.Owner] = true
		}
	}
	target := (workable + len(owners) - 1) / len(owners)
	c.mu.Lock()
	nheld := len(c.held)
	c.mu.Unlock()
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	take := func(l *Lease, steal bool) error {
		nl, err := c.leases.take(ctx, l.Shard, c.cfg.Owner, l.Counter, now, c.cfg.LeaseDuration, steal)
		if errors.Is(err, errLeaseLost) {
			return nil // someone else was faster
		}
		if err != nil {
			return err
		}
		c.log.Info("lease taken", "shard", l.Shard, "previous", l.Owner, "stolen", steal, "checkpoint", nl.Checkpoint)
		c.cfg.Trace("take", l.Shard)
		c.start(ctx, nl)
		nheld++
		return nil
	}
	perOwner := map[string][]*Lease{}
	for _, id := range ids {
		l := all[id]
		if l.Checkpoint == ShardEnd || !parentsDone(l) {
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

func (c *Consumer) start(ctx context.Context, l *Lease) {
	wctx, cancel := context.WithCancel(ctx)
	h := &holder{lease: l, cancel: cancel, done: make(chan struct{}), renewed: time.Now()}
	c.mu.Lock()
	c.held[l.Shard] = h
	c.mu.Unlock()
	go func() {
		defer close(h.done)
		err := c.work(wctx, h)
		switch {
		case err == nil: // SHARD_END
		case errors.Is(err, errLeaseLost):
			c.cfg.Trace("lost", l.Shard)
			c.log.Info("lease lost", "shard", l.Shard)
		case wctx.Err() != nil:
		default:
			c.log.Warn("shard worker stopped", "shard", l.Shard, "err", err)
		}
		c.cfg.Metrics.ShardDone(c.cfg.Stream, l.Shard)
		c.mu.Lock()
		if c.held[l.Shard] == h {
			delete(c.held, l.Shard)
		}
		c.mu.Unlock()
		cancel()
	}()
}

// renewAll renews every held lease; a worker whose lease is lost, or that
// could not renew for longer than the lease lives (another instance may
// own the shard by now), is stopped.
func (c *Consumer) renewAll(ctx context.Context) {
	c.mu.Lock()
	hs := make([]*holder, 0, len(c.held))
	for _, h := range c.held {
		hs = append(hs, h)
	}
	c.mu.Unlock()
	for _, h := range hs {
		h.mu.Lock()
		nl, err := c.leases.update(ctx, h.lease.Shard, c.cfg.Owner, h.lease.Counter, true, func(l *Lease) {
			l.Expiry = time.Now().Add(c.cfg.LeaseDuration)
		})
		switch {
		case err == nil:
			h.lease, h.renewed = nl, time.Now()
		case errors.Is(err, errLeaseLost) || time.Since(h.renewed) > c.cfg.LeaseDuration:
			h.cancel()
		}
		h.mu.Unlock()
	}
}

// shedOne hands back one lease (after its worker stopped between batches),
// so instances converge on a fair share.
func (c *Consumer) shedOne(ctx context.Context) {
	c.mu.Lock()
	var h *holder
	for _, x := range c.held {
		if h == nil || x.lease.Shard > h.lease.Shard {
			h = x
		}
	}
	if h != nil {
		delete(c.held, h.lease.Shard)
	}
	c.mu.Unlock()
	if h == nil {
		return
	}
	h.cancel()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := c.leases.update(ctx, h.lease.Shard, c.cfg.Owner, h.lease.Counter, true, func(l *Lease) { l.Owner = "" }); err == nil {
		c.log.Info("lease shed", "shard", h.lease.Shard)
	}
}

// checkpoint records seq for the held shard if the lease is still ours.
func (c *Consumer) checkpoint(ctx context.Context, h *holder, seq string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	nl, err := c.leases.update(ctx, h.lease.Shard, c.cfg.Owner, h.lease.Counter, false, func(l *Lease) { l.Checkpoint = seq })
	if err != nil {
		return err
	}
	h.lease = nl
	return nil
}

// work reads one shard from its checkpoint to SHARD_END (nil) or until
// the lease is lost or ctx ends.
func (c *Consumer) work(ctx context.Context, h *holder) error {
	shard := h.lease.Shard
	c.cfg.Trace("start", shard)
	cp := h.lease.Checkpoint
	iter, err := c.iterator(ctx, shard, cp)
	if err != nil {
		return err
	}
	backoff := newBackoff()
	for {
		out, err := c.cfg.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(c.cfg.BatchLimit)})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var expired *types.ExpiredIteratorException
			if !errors.As(err, &expired) {
				c.log.Warn("GetRecords failed", "shard", shard, "err", err)
				if err := backoff.wait(ctx); err != nil {
					return err
				}
			}
			if iter, err = c.iterator(ctx, shard, cp); err != nil {
				return err
			}
			continue
		}
		backoff.reset()
		if out.MillisBehindLatest != nil {
			c.cfg.Metrics.ShardBehind(c.cfg.Stream, shard, *out.MillisBehindLatest)
		}
		if n := len(out.Records); n > 0 {
			ins := make([]streamproc.Input, n)
			for i, r := range out.Records {
				ch, derr := record.DecodeKinesis(r.Data)
				ins[i] = streamproc.Input{Change: ch, Err: derr, Raw: r.Data,
					Origin: c.cfg.Stream + "/" + shard + "/" + aws.ToString(r.SequenceNumber)}
			}
			// Re-apply the whole batch until it settles: applied records
			// come back as Duplicate, so this is safe, and the checkpoint
			// never passes a record that was not applied or dead-lettered.
			for {
				if _, err := c.cfg.Applier.Apply(ctx, ins); err == nil {
					break
				} else if ctx.Err() != nil {
					return ctx.Err()
				} else {
					c.log.Warn("batch not applied, retrying", "shard", shard, "err", err)
				}
				if err := backoff.wait(ctx); err != nil {
					return err
				}
			}
			backoff.reset()
			cp = aws.ToString(out.Records[n-1].SequenceNumber)
			if err := c.checkpoint(ctx, h, cp); err != nil {
				return err
			}
		}
		if out.NextShardIterator == nil {
			if err := c.checkpoint(ctx, h, ShardEnd); err != nil {
				return err
			}
			c.cfg.Trace("end", shard)
			c.log.Info("shard finished", "shard", shard)
			return nil
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			select {
			case <-time.After(c.cfg.Idle):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// iterator positions a shard after its checkpoint, or at TRIM_HORIZON
// when there is none: a consumer started before the backfill must see
// every change the stream still holds (see README: order of operations).
func (c *Consumer) iterator(ctx context.Context, shard, cp string) (*string, error) {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(c.cfg.Stream), ShardId: aws.String(shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if cp != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(cp)
	}
	b := newBackoff()
	for {
		out, err := c.cfg.Client.GetShardIterator(ctx, in)
		if err == nil {
			return out.ShardIterator, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.log.Warn("GetShardIterator failed", "shard", shard, "err", err)
		if err := b.wait(ctx); err != nil {
			return nil, err
		}
	}
}

// backoff is capped exponential backoff: 100 ms doubling to 5 s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{100 * time.Millisecond} }
func (b *backoff) reset()  { b.d = 100 * time.Millisecond }
func (b *backoff) wait(ctx context.Context) error {
	select {
	case <-time.After(b.d):
		b.d = min(2*b.d, 5*time.Second)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
