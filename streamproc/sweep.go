package streamproc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"time"

	"golang.org/x/time/rate"

	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store"
)

// SweepSpace holds one claim row per swept table, so that of several
// streamproc instances one sweeps a table per period.
const SweepSpace = "streamproc_sweep"

// Collector collects tombstones; *dynamo.Executor is one.
type Collector interface {
	CollectTombstones(ctx context.Context, table string, before time.Time, opts dynamo.CollectOptions) (dynamo.TombstoneSweep, error)
}

// SweepConfig configures a Sweeper.
type SweepConfig struct {
	Target Collector
	Store  store.Store
	// Tables lists the target tables to sweep (each round).
	Tables func(ctx context.Context) ([]string, error)
	// Retention: tombstones older than this are collected (default 24 h).
	// It must exceed how late any change can still arrive: the stream's
	// retention plus the consumer's worst lag (see README).
	Retention time.Duration
	// Every is how often each table is swept (default 1 h).
	Every time.Duration
	// RowsPerSecond bounds the rows a sweep reads (default 1000): a sweep
	// reads the whole table.
	RowsPerSecond float64
	// Extra are other collectors run on the same schedule, by name (the
	// Lambda endpoint's per-item stamps); each returns how many rows it
	// removed.
	Extra map[string]func(ctx context.Context, before time.Time) (int, error)
	// Owner names this instance in the claims (default: random).
	Owner  string
	Logger *slog.Logger
	Now    func() time.Time
}

// Sweeper runs tombstone collection periodically, one table at a time, at
// a bounded read rate.
type Sweeper struct {
	cfg     SweepConfig
	log     *slog.Logger
	limiter *rate.Limiter
}

// claimTTL is how long a claim stops other instances from sweeping the
// same table; a sweep renews it as it goes.
const claimTTL = 10 * time.Minute

type claim struct {
	Owner string    `json:"owner,omitempty"`
	Until time.Time `json:"until"` // the owner's claim expires
	Next  time.Time `json:"next"`  // the next sweep is due
}

// NewSweeper checks cfg and creates the claim space.
func NewSweeper(ctx context.Context, cfg SweepConfig) (*Sweeper, error) {
	if cfg.Target == nil || cfg.Store == nil || cfg.Tables == nil {
		return nil, errors.New("streamproc: Sweeper needs a Target, a Store and Tables")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Hour
	}
	if cfg.RowsPerSecond <= 0 {
		cfg.RowsPerSecond = 1000
	}
	if cfg.Owner == "" {
		cfg.Owner = randomID()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Store.CreateSpace(ctx, SweepSpace); err != nil {
		return nil, err
	}
	return &Sweeper{cfg: cfg, log: cfg.Logger.With("sweeper", cfg.Owner),
		limiter: rate.NewLimiter(rate.Limit(cfg.RowsPerSecond), sweepPage)}, nil
}

const sweepPage = 500

// Run sweeps due tables every minute (or every Every, if shorter) until
// ctx ends, and returns ctx's error.
func (s *Sweeper) Run(ctx context.Context) error {
	t := time.NewTicker(min(time.Minute, s.cfg.Every))
	defer t.Stop()
	for {
		if _, err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("tombstone sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Round sweeps every table (and runs every extra collector) that is due
// and not claimed by another instance, and returns what each swept table
// gave. Extra collectors appear with Collected set to their count.
func (s *Sweeper) Round(ctx context.Context) (map[string]dynamo.TombstoneSweep, error) {
	tables, err := s.cfg.Tables(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]dynamo.TombstoneSweep{}
	var firstErr error
	try := func(name string, run func(ctx context.Context, before time.Time) (dynamo.TombstoneSweep, error)) {
		ok, err := s.claim(ctx, name)
		if err != nil || !ok {
			firstErr = firstOf(firstErr, err)
			return
		}
		before := s.cfg.Now().Add(-s.cfg.Retention)
		res, err := run(ctx, before)
		s.release(ctx, name, err == nil)
		if err != nil {
			firstErr = firstOf(firstErr, err)
			return
		}
		out[name] = res
		if res.Collected > 0 {
			s.log.Info("tombstones collected", "what", name, "collected", res.Collected, "scanned", res.Scanned, "before", before)
		}
	}
	for _, tb := range tables {
		try("table/"+tb, func(ctx context.Context, before time.Time) (dynamo.TombstoneSweep, error) {
			return s.cfg.Target.CollectTombstones(ctx, tb, before, dynamo.CollectOptions{Page: sweepPage,
				Pace: func(ctx context.Context, n int) error {
					if err := s.limiter.WaitN(ctx, min(n, sweepPage)); err != nil {
						return err
					}
					return s.renew(ctx, "table/"+tb)
				}})
		})
	}
	names := make([]string, 0, len(s.cfg.Extra))
	for n := range s.cfg.Extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := s.cfg.Extra[n]
		try("extra/"+n, func(ctx context.Context, before time.Time) (dynamo.TombstoneSweep, error) {
			k, err := f(ctx, before)
			return dynamo.TombstoneSweep{Collected: k}, err
		})
	}
	return out, firstErr
}

func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// claim takes name's claim if its sweep is due and no other live instance
// holds it.
func (s *Sweeper) claim(ctx context.Context, name string) (bool, error) {
	ok := false
	err := s.update(ctx, name, func(c *claim, now time.Time) bool {
		ok = false
		if now.Before(c.Next) || (c.Owner != "" && c.Owner != s.cfg.Owner && now.Before(c.Until)) {
			return false
		}
		c.Owner, c.Until = s.cfg.Owner, now.Add(claimTTL)
		ok = true
		return true
	})
	return ok, err
}

// renew extends our claim during a long sweep (at most once a minute).
func (s *Sweeper) renew(ctx context.Context, name string) error {
	return s.update(ctx, name, func(c *claim, now time.Time) bool {
		if c.Owner != s.cfg.Owner || c.Until.Sub(now) > claimTTL-time.Minute {
			return false
		}
		c.Until = now.Add(claimTTL)
		return true
	})
}

// release ends our claim; the next sweep is due after Every, or after a
// few minutes when this one failed.
func (s *Sweeper) release(ctx context.Context, name string, done bool) {
	// The sweep's ctx may be over; the release must still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.update(ctx, name, func(c *claim, now time.Time) bool {
		if c.Owner != s.cfg.Owner {
			return false
		}
		c.Owner, c.Until = "", time.Time{}
		c.Next = now.Add(s.cfg.Every)
		if !done {
			c.Next = now.Add(min(s.cfg.Every, 5*time.Minute))
		}
		return true
	})
	if err != nil {
		s.log.Warn("cannot release sweep claim", "what", name, "err", err)
	}
}

func (s *Sweeper) update(ctx context.Context, name string, f func(c *claim, now time.Time) bool) error {
	key := []byte(name)
	return s.cfg.Store.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		var c claim
		raw, ok, err := tx.Get(ctx, SweepSpace, key)
		if err != nil {
			return err
		}
		if ok {
			if err := json.Unmarshal(raw, &c); err != nil {
				return err
			}
		}
		if !f(&c, s.cfg.Now()) {
			return nil
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		tx.Put(SweepSpace, key, b)
		return nil
	})
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
