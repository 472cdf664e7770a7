package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/protobuf/proto"

	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/proto/auditpb"
)

// Pair store layout: one row per pair, key "table#inverted-time#id" so one
// table's pairs are contiguous and newest first; inverted time is
// MaxInt64 - unix nanoseconds as 19 zero-padded digits (sorts as numbers).
// DynamoDB table names cannot contain '#', so the key splits unambiguously.
const (
	pairFamily  = "p"
	colRecord   = "record"  // auditpb.Record, binary protobuf
	colClass    = "class"   // final class
	colInitial  = "initial" // class before the re-read
	colPatch    = "patch"   // RFC 6902 patch JSON
	colReread   = "reread"  // re-read auditpb.Record, when there was one
	colNoise    = "noise"   // JSON list of the patch's paths taken for noise, when any
	invTimeSize = 19
)

// EnsurePairTable creates the pair table and its column family if missing
// and sets the family's GC policy to max-age ttl, which is how pairs
// expire: Bigtable drops cells older than ttl during compaction.
func EnsurePairTable(ctx context.Context, ac *bigtable.AdminClient, table string, ttl time.Duration) error {
	tables, err := ac.Tables(ctx)
	if err != nil {
		return err
	}
	exists := false
	for _, t := range tables {
		exists = exists || t == table
	}
	if !exists {
		if err := ac.CreateTable(ctx, table); err != nil {
			return fmt.Errorf("create pair table %s: %w", table, err)
		}
	}
	info, err := ac.TableInfo(ctx, table)
	if err != nil {
		return err
	}
	hasFamily := false
	for _, f := range info.Families {
		hasFamily = hasFamily || f == pairFamily
	}
	if !hasFamily {
		if err := ac.CreateColumnFamily(ctx, table, pairFamily); err != nil {
			return fmt.Errorf("create family %s: %w", pairFamily, err)
		}
	}
	return ac.SetGCPolicy(ctx, table, pairFamily, bigtable.MaxAgePolicy(ttl))
}

// PairStore keeps pairs in Bigtable for `dualread audit show`. By default
// it keeps diverging, lag and suppressed pairs only: at full sampling, matches would
// be nearly all the volume and say nothing a count does not.
type PairStore struct {
	tbl       *bigtable.Table
	keepAll   bool
	listLimit int
}

// PairStoreOption adjusts a PairStore.
type PairStoreOption func(*PairStore)

// KeepMatches stores matching and incomparable pairs too.
func KeepMatches() PairStoreOption { return func(s *PairStore) { s.keepAll = true } }

// ListLimit caps how many pairs List returns (default 1000).
func ListLimit(n int) PairStoreOption { return func(s *PairStore) { s.listLimit = n } }

// NewPairStore writes to and reads from table through c (the caller
// closes c).
func NewPairStore(c *bigtable.Client, table string, opts ...PairStoreOption) *PairStore {
	s := &PairStore{tbl: c.Open(table), listLimit: 1000}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *PairStore) Name() string { return "pairstore" }

// RowKey is a pair's row key.
func RowKey(table string, t time.Time, id string) string {
	return fmt.Sprintf("%s#%0*d#%s", table, invTimeSize, math.MaxInt64-t.UnixNano(), id)
}

// Write stores the batch in one bulk mutation.
func (s *PairStore) Write(ctx context.Context, pairs []audit.Pair) error {
	var keys []string
	var muts []*bigtable.Mutation
	for _, p := range pairs {
		if !s.keepAll && !p.Class.Diverges() && p.Class != diff.Lag && p.Class != diff.Suppressed {
			continue
		}
		rec, err := proto.Marshal(p.Record)
		if err != nil {
			return err
		}
		patch, err := json.Marshal(p.Patch)
		if err != nil {
			return err
		}
		m := bigtable.NewMutation()
		// Cell timestamps are the record's time, so max-age GC counts from
		// when the request happened, not from when it was stored.
		ts := bigtable.Time(p.Record.GetTime().AsTime()).TruncateToMilliseconds()
		m.Set(pairFamily, colRecord, ts, rec)
		m.Set(pairFamily, colClass, ts, []byte(p.Class))
		m.Set(pairFamily, colInitial, ts, []byte(p.Initial))
		m.Set(pairFamily, colPatch, ts, patch)
		if len(p.Noise) > 0 {
			noise, err := json.Marshal(p.Noise)
			if err != nil {
				return err
			}
			m.Set(pairFamily, colNoise, ts, noise)
		}
		if p.Reread != nil {
			rr, err := proto.Marshal(p.Reread)
			if err != nil {
				return err
			}
			m.Set(pairFamily, colReread, ts, rr)
		}
		keys = append(keys, RowKey(p.Record.GetTable(), p.Record.GetTime().AsTime(), p.Record.GetId()))
		muts = append(muts, m)
	}
	if len(muts) == 0 {
		return nil
	}
	errs, err := s.tbl.ApplyBulk(ctx, keys, muts)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return fmt.Errorf("pair store: %d of %d rows failed, first: %w", countErrs(errs), len(errs), e)
		}
	}
	return nil
}

func countErrs(errs []error) int {
	n := 0
	for _, e := range errs {
		if e != nil {
			n++
		}
	}
	return n
}

// Close has nothing to flush: Write is synchronous.
func (s *PairStore) Close(context.Context) error { return nil }

// StoredPair is one pair read back.
type StoredPair struct {
	Key     string
	Record  *auditpb.Record
	Class   diff.Class
	Initial diff.Class
	// Patch is the RFC 6902 patch as JSON (primary → shadow).
	Patch  json.RawMessage
	Reread *auditpb.Record
	// Noise lists the paths taken for noise (audit.Pair.Noise).
	Noise []string
}

// List returns table's stored pairs from since until now, newest first,
// at most the store's list limit.
func (s *PairStore) List(ctx context.Context, table string, since time.Time) ([]StoredPair, error) {
	if strings.Contains(table, "#") {
		return nil, fmt.Errorf("pair store: table name %q contains '#'", table)
	}
	// Newest rows have the smallest inverted time: the range runs from
	// "now" to "since" inclusive. Pairs stamped slightly in the future
	// (clock skew between adapter and audit) are included by starting at
	// the table's first row.
	start := table + "#"
	end := RowKey(table, since, "") + "\xff"
	var out []StoredPair
	var perr error
	err := s.tbl.ReadRows(ctx, bigtable.NewRange(start, end), func(r bigtable.Row) bool {
		sp := StoredPair{Key: r.Key()}
		for _, c := range r[pairFamily] {
			switch strings.TrimPrefix(c.Column, pairFamily+":") {
			case colRecord:
				sp.Record = new(auditpb.Record)
				if err := proto.Unmarshal(c.Value, sp.Record); err != nil {
					perr = fmt.Errorf("row %s: %w", r.Key(), err)
					return false
				}
			case colReread:
				sp.Reread = new(auditpb.Record)
				if err := proto.Unmarshal(c.Value, sp.Reread); err != nil {
					perr = fmt.Errorf("row %s: %w", r.Key(), err)
					return false
				}
			case colClass:
				sp.Class = diff.Class(c.Value)
			case colInitial:
				sp.Initial = diff.Class(c.Value)
			case colPatch:
				sp.Patch = json.RawMessage(c.Value)
			case colNoise:
				if err := json.Unmarshal(c.Value, &sp.Noise); err != nil {
					perr = fmt.Errorf("row %s: %w", r.Key(), err)
					return false
				}
			}
		}
		out = append(out, sp)
		return true
	}, bigtable.RowFilter(bigtable.LatestNFilter(1)), bigtable.LimitRows(int64(s.listLimit)))
	if err != nil {
		return nil, err
	}
	return out, perr
}
