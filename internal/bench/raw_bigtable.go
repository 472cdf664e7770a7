package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"cloud.google.com/go/bigtable"
)

// Column layout of the raw Bigtable table, the same as btstore's space
// tables: the value in d:v, internal cells (btstore's version and lock) in
// family m, every cell at timestamp 0 so a write overwrites in place.
const (
	rawBTFamData = "d"
	rawBTColVal  = "v"
	rawBTFamMeta = "m"
	rawBTColLock = "lock"
	rawBTCellTS  = bigtable.Timestamp(0)
)

// RawBigtable is the raw client for Bigtable: cloud.google.com/go/bigtable
// connected to BIGTABLE_EMULATOR_HOST exactly as the adapter's btstore.Open
// connects (same project and instance, so the same emulator instance).
//
//   - GetItem is one ReadRow with a latest-cell filter (btstore's Get adds
//     the same filter).
//   - PutItem is one conditional CheckAndMutateRow: write d:v unless the row
//     holds a lock cell. A plain Apply would be cheaper on the emulator but
//     is not a possible implementation of PutItem on this layout: it would
//     overwrite a row that a multi-row transaction has locked, and it could
//     not carry a condition. One CheckAndMutateRow is the least a correct
//     single-row put costs; the adapter's put is a read (for the row's
//     version) plus one such CheckAndMutateRow, so the ratio shows the read.
//   - Query is one ReadRows over the partition's key prefix with a row limit.
type RawBigtable struct {
	addr    string
	project string
	inst    string
	client  *bigtable.Client
	admin   *bigtable.AdminClient
	tbl     *bigtable.Table
}

var _ RawClient = (*RawBigtable)(nil)

// NewRawBigtable connects to the Bigtable emulator named by
// BIGTABLE_EMULATOR_HOST (which must be a loopback address).
func NewRawBigtable(ctx context.Context, project, instance string) (*RawBigtable, error) {
	addr, err := emulatorAddr("BIGTABLE_EMULATOR_HOST")
	if err != nil {
		return nil, err
	}
	client, err := bigtable.NewClient(ctx, project, instance)
	if err != nil {
		return nil, fmt.Errorf("bench: bigtable client: %w", err)
	}
	admin, err := bigtable.NewAdminClient(ctx, project, instance)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("bench: bigtable admin client: %w", err)
	}
	return &RawBigtable{addr: addr, project: project, inst: instance, client: client, admin: admin}, nil
}

func (r *RawBigtable) Name() string { return "raw-bigtable" }
func (r *RawBigtable) Addr() string { return r.addr }

func (r *RawBigtable) CreateTable(ctx context.Context, cfg Config) (bool, error) {
	name := rawTable(cfg.Table)
	r.tbl = r.client.Open(name)
	have, err := r.admin.Tables(ctx)
	if err != nil {
		return false, fmt.Errorf("bench: list bigtable tables: %w", err)
	}
	if slices.Contains(have, name) {
		return false, nil
	}
	err = r.admin.CreateTableFromConf(ctx, &bigtable.TableConf{TableID: name, Families: map[string]bigtable.GCPolicy{
		rawBTFamData: bigtable.MaxVersionsPolicy(1),
		rawBTFamMeta: bigtable.MaxVersionsPolicy(1),
	}})
	if err != nil {
		return false, fmt.Errorf("bench: create bigtable table %s: %w", name, err)
	}
	return true, nil
}

func (r *RawBigtable) Load(ctx context.Context, keys [][]byte, value []byte) error {
	const batch = 100
	for start := 0; start < len(keys); start += batch {
		rows := make([]string, 0, batch)
		muts := make([]*bigtable.Mutation, 0, batch)
		for _, k := range keys[start:min(start+batch, len(keys))] {
			m := bigtable.NewMutation()
			m.Set(rawBTFamData, rawBTColVal, rawBTCellTS, value)
			rows, muts = append(rows, string(k)), append(muts, m)
		}
		errs, err := r.tbl.ApplyBulk(ctx, rows, muts)
		if err != nil {
			return err
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func (r *RawBigtable) Get(ctx context.Context, key []byte) error {
	row, err := r.tbl.ReadRow(ctx, string(key), bigtable.RowFilter(bigtable.LatestNFilter(1)))
	if err != nil {
		return err
	}
	if len(row[rawBTFamData]) == 0 {
		return errRawMissing
	}
	return nil
}

// rawBTLocked yields a cell iff the row holds a non-empty lock (the
// predicate btstore's conditional writes include).
var rawBTLocked = bigtable.ChainFilters(
	bigtable.FamilyFilter(rawBTFamMeta),
	bigtable.ColumnFilter(rawBTColLock),
	bigtable.LatestNFilter(1),
	bigtable.ValueRangeFilter([]byte{0}, nil),
)

func (r *RawBigtable) Put(ctx context.Context, key, value []byte) error {
	m := bigtable.NewMutation()
	m.Set(rawBTFamData, rawBTColVal, rawBTCellTS, value)
	var locked bool
	if err := r.tbl.Apply(ctx, string(key), bigtable.NewCondMutation(rawBTLocked, nil, m), bigtable.GetCondMutationResult(&locked)); err != nil {
		return err
	}
	if locked {
		return errors.New("bench: raw bigtable row is locked")
	}
	return nil
}

func (r *RawBigtable) Query(ctx context.Context, prefix []byte, limit int) error {
	n := 0
	err := r.tbl.ReadRows(ctx, bigtable.PrefixRange(string(prefix)), func(bigtable.Row) bool {
		n++
		return true
	}, bigtable.LimitRows(int64(limit)), bigtable.RowFilter(bigtable.LatestNFilter(1)))
	if err == nil && n == 0 {
		err = errRawMissing
	}
	return err
}

func (r *RawBigtable) DropTable(ctx context.Context, cfg Config) error {
	return r.admin.DeleteTable(ctx, rawTable(cfg.Table))
}

func (r *RawBigtable) Close() error {
	return errors.Join(r.client.Close(), r.admin.Close())
}
