package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// RawClient performs the workload's GetItem, PutItem and Query directly on a
// backend with its official Go client, on the same emulator the adapter
// uses: the floor the adapter's overhead is measured against. Keys and
// values are laid out like the adapter's (one table, byte keys ordered
// partition then sort key, a value of about the item's size), see rawKey.
type RawClient interface {
	// Name is the target's label, e.g. "raw-bigtable".
	Name() string
	// Addr is the backend's host:port, for the report.
	Addr() string
	// CreateTable creates the raw table for cfg.Table unless it exists and
	// reports whether it did.
	CreateTable(ctx context.Context, cfg Config) (created bool, err error)
	// Load writes every key with value, in batches (the preload).
	Load(ctx context.Context, keys [][]byte, value []byte) error
	// Get reads one row; errRawMissing if it is absent.
	Get(ctx context.Context, key []byte) error
	// Put writes one row the way the backend's single-row write path does
	// (see each implementation for which call and why).
	Put(ctx context.Context, key, value []byte) error
	// Query reads up to limit rows whose key starts with prefix, in key
	// order; errRawMissing if there are none.
	Query(ctx context.Context, prefix []byte, limit int) error
	// DropTable deletes the raw table for cfg.Table.
	DropTable(ctx context.Context, cfg Config) error
	Close() error
}

// RawOperations are the operations a RawClient can perform.
var RawOperations = []string{OpGetItem, OpPutItem, OpQuery}

// errRawMissing is a read that found nothing although every key was
// preloaded: a layout bug, so it is counted as an error (ErrTypeRawMissing).
var errRawMissing = errors.New("bench: raw read found no row for a preloaded key")

// ErrTypeRawMissing counts errRawMissing.
const ErrTypeRawMissing = "RawRowMissing"

// rawTable names the raw client's table for the bench table: a prefix no
// adapter table (btstore "sp_", spstore "s_") starts with.
func rawTable(table string) string { return "raw_" + table }

// rawKey is key k of the key space as bytes: partition key, a 0x00
// separator, sort key. Like the adapter's encoding it sorts by partition
// then sort key, so the rows of one partition are one key range.
func rawKey(k, perPartition int) []byte {
	return append(rawPrefix(k/perPartition), sortKey(k%perPartition)...)
}

// rawPrefix is the key prefix of partition p: its rows' common range.
func rawPrefix(p int) []byte { return append([]byte(partitionKey(p)), 0) }

// rawValue is what the raw client stores per row: the item in DynamoDB
// JSON, about what the adapter stores (it adds a 9-byte header).
func rawValue(itemSize int) []byte {
	return fmt.Appendf(nil, `{"pk":{"S":"%s"},"sk":{"S":"%s"},"payload":{"S":"%s"}}`,
		partitionKey(0), sortKey(0), payload(itemSize))
}

// checkRawMix refuses operations a RawClient does not implement.
func checkRawMix(mix map[string]int) error {
	for op, w := range mix {
		if w > 0 && op != OpGetItem && op != OpPutItem && op != OpQuery {
			return fmt.Errorf("bench: raw targets perform GetItem, PutItem and Query only, not %s", op)
		}
	}
	return nil
}

// checkLoopbackAddr refuses a backend address that is not on this machine,
// as checkLoopback does for endpoints.
func checkLoopbackAddr(hostPort string) error {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("backend address %q: want 127.0.0.1:PORT", hostPort)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("backend address %q: the load tool only targets loopback addresses", hostPort)
	}
	return nil
}

// emulatorAddr returns the loopback emulator named by the environment
// variable env (BIGTABLE_EMULATOR_HOST, SPANNER_EMULATOR_HOST). The raw
// clients connect through it exactly as the adapter's stores do, so both
// get the same client configuration.
func emulatorAddr(env string) (string, error) {
	addr := os.Getenv(env)
	if addr == "" {
		return "", fmt.Errorf("bench: raw client needs %s (the emulator the adapter uses)", env)
	}
	if err := checkLoopbackAddr(addr); err != nil {
		return "", fmt.Errorf("bench: %s: %w", env, err)
	}
	return addr, nil
}

// RunRaw is Run with a RawClient instead of a DynamoDB endpoint: the same
// workers, key choice, phases, bounds and histograms, with each operation
// performed directly on the backend. cfg.Endpoint is ignored.
func RunRaw(ctx context.Context, cfg Config, rc RawClient, log *slog.Logger) (_ *Result, runErr error) {
	if log == nil {
		log = slog.Default()
	}
	cfg.raw = true
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkRawMix(cfg.Mix); err != nil {
		return nil, err
	}
	cfg.Endpoint = rc.Name() + "@" + rc.Addr()

	created, err := rc.CreateTable(ctx, cfg)
	if created && !cfg.Keep {
		defer func() {
			if cfg.keepForRounds && runErr == nil {
				return
			}
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if derr := rc.DropTable(dctx, cfg); derr != nil {
				log.Warn("bench: raw table left behind", "table", rawTable(cfg.Table), "err", derr)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	value := rawValue(cfg.ItemSize)
	if !cfg.SkipPreload {
		t0 := time.Now()
		keys := make([][]byte, cfg.Keys)
		for k := range keys {
			keys[k] = rawKey(k, cfg.ItemsPerPartition)
		}
		if err := rc.Load(ctx, keys, value); err != nil {
			return nil, fmt.Errorf("bench: raw preload: %w", err)
		}
		log.Info("bench: preloaded", "table", rawTable(cfg.Table), "rows", cfg.Keys, "took", time.Since(t0).Round(time.Millisecond))
	}
	return load(ctx, cfg, log, created, func(i int) *workload {
		w := newWorkload(nil, cfg, i)
		w.raw, w.rawValue = rc, value
		return w
	})
}

// doRaw performs op with the raw client, drawing keys from the same random
// source in the same way as do, so a seed picks the same keys either way.
func (w *workload) doRaw(ctx context.Context, op string) error {
	switch op {
	case OpGetItem:
		return w.raw.Get(ctx, rawKey(w.rng.IntN(w.cfg.Keys), w.cfg.ItemsPerPartition))
	case OpPutItem:
		return w.raw.Put(ctx, rawKey(w.rng.IntN(w.cfg.Keys), w.cfg.ItemsPerPartition), w.rawValue)
	case OpQuery:
		return w.raw.Query(ctx, rawPrefix(w.rng.IntN(w.parts)), w.cfg.QueryLimit)
	default:
		return fmt.Errorf("bench: raw targets do not perform %s", op)
	}
}
