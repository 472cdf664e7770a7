package bench

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"cloud.google.com/go/spanner"
	database "cloud.google.com/go/spanner/admin/database/apiv1"
	"cloud.google.com/go/spanner/admin/database/apiv1/databasepb"
	instance "cloud.google.com/go/spanner/admin/instance/apiv1"
	"cloud.google.com/go/spanner/admin/instance/apiv1/instancepb"
	"google.golang.org/grpc/codes"
)

// rawSPCols are the raw Spanner table's columns, as spstore's: key k and
// value v, both BYTES.
var rawSPCols = []string{"k", "v"}

var rawSPDatabase = regexp.MustCompile(`^projects/([^/]+)/instances/([^/]+)/databases/([^/]+)$`)

// RawSpanner is the raw client for Spanner: cloud.google.com/go/spanner
// connected to SPANNER_EMULATOR_HOST with the client configuration
// spstore.Open uses, on the adapter's database (a table of its own).
//
//   - GetItem is a single-use strong ReadRow (spstore's Get is the same call).
//   - PutItem is a read-write transaction buffering one InsertOrUpdate: the
//     cheapest atomic single-row write the client offers (Client.Apply is
//     the same transaction). The adapter's put also reads the row in that
//     transaction before writing it.
//   - Query is a single-use strong read of the partition's key range with a
//     row limit.
type RawSpanner struct {
	addr   string
	db     string
	table  string
	client *spanner.Client
	admin  *database.DatabaseAdminClient
}

var _ RawClient = (*RawSpanner)(nil)

// NewRawSpanner connects to db (projects/P/instances/I/databases/D) on the
// emulator named by SPANNER_EMULATOR_HOST (which must be a loopback
// address), creating the instance and the database if they are missing.
func NewRawSpanner(ctx context.Context, db string) (*RawSpanner, error) {
	addr, err := emulatorAddr("SPANNER_EMULATOR_HOST")
	if err != nil {
		return nil, err
	}
	m := rawSPDatabase.FindStringSubmatch(db)
	if m == nil {
		return nil, fmt.Errorf("bench: spanner database %q is not projects/P/instances/I/databases/D", db)
	}
	if err := ensureSpannerInstance(ctx, m[1], m[2]); err != nil {
		return nil, err
	}
	admin, err := database.NewDatabaseAdminClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: spanner database admin client: %w", err)
	}
	if err := ensureSpannerDatabase(ctx, admin, m[1], m[2], m[3]); err != nil {
		admin.Close()
		return nil, err
	}
	// spstore.Open's configuration, so the two clients differ in nothing.
	client, err := spanner.NewClientWithConfig(ctx, db, spanner.ClientConfig{DisableNativeMetrics: true})
	if err != nil {
		admin.Close()
		return nil, fmt.Errorf("bench: spanner client: %w", err)
	}
	return &RawSpanner{addr: addr, db: db, client: client, admin: admin}, nil
}

func ensureSpannerInstance(ctx context.Context, project, inst string) error {
	ia, err := instance.NewInstanceAdminClient(ctx)
	if err != nil {
		return fmt.Errorf("bench: spanner instance admin client: %w", err)
	}
	defer ia.Close()
	name := "projects/" + project + "/instances/" + inst
	if _, err := ia.GetInstance(ctx, &instancepb.GetInstanceRequest{Name: name}); err == nil {
		return nil
	}
	op, err := ia.CreateInstance(ctx, &instancepb.CreateInstanceRequest{
		Parent: "projects/" + project, InstanceId: inst,
		Instance: &instancepb.Instance{Config: "projects/" + project + "/instanceConfigs/emulator-config", DisplayName: inst, NodeCount: 1},
	})
	if err == nil {
		_, err = op.Wait(ctx)
	}
	if err != nil && spanner.ErrCode(err) != codes.AlreadyExists {
		return fmt.Errorf("bench: create spanner instance %s: %w", name, err)
	}
	return nil
}

func ensureSpannerDatabase(ctx context.Context, admin *database.DatabaseAdminClient, project, inst, db string) error {
	name := "projects/" + project + "/instances/" + inst + "/databases/" + db
	if _, err := admin.GetDatabase(ctx, &databasepb.GetDatabaseRequest{Name: name}); err == nil {
		return nil
	}
	op, err := admin.CreateDatabase(ctx, &databasepb.CreateDatabaseRequest{
		Parent: "projects/" + project + "/instances/" + inst, CreateStatement: "CREATE DATABASE `" + db + "`",
	})
	if err == nil {
		_, err = op.Wait(ctx)
	}
	if err != nil && spanner.ErrCode(err) != codes.AlreadyExists {
		return fmt.Errorf("bench: create spanner database %s: %w", name, err)
	}
	return nil
}

func (r *RawSpanner) Name() string { return "raw-spanner" }
func (r *RawSpanner) Addr() string { return r.addr }

func (r *RawSpanner) CreateTable(ctx context.Context, cfg Config) (bool, error) {
	r.table = rawTable(cfg.Table)
	stmt := spanner.Statement{
		SQL:    "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = '' AND TABLE_NAME = @t",
		Params: map[string]any{"t": r.table},
	}
	var n int64
	if err := r.client.Single().Query(ctx, stmt).Do(func(row *spanner.Row) error { return row.Columns(&n) }); err != nil {
		return false, fmt.Errorf("bench: look up spanner table %s: %w", r.table, err)
	}
	if n > 0 {
		return false, nil
	}
	ddl := fmt.Sprintf("CREATE TABLE %s (k BYTES(MAX) NOT NULL, v BYTES(MAX) NOT NULL) PRIMARY KEY (k)", r.table)
	if err := r.updateDDL(ctx, ddl); err != nil {
		return false, fmt.Errorf("bench: create spanner table %s: %w", r.table, err)
	}
	return true, nil
}

func (r *RawSpanner) updateDDL(ctx context.Context, stmt string) error {
	op, err := r.admin.UpdateDatabaseDdl(ctx, &databasepb.UpdateDatabaseDdlRequest{Database: r.db, Statements: []string{stmt}})
	if err != nil {
		return err
	}
	return op.Wait(ctx)
}

func (r *RawSpanner) Load(ctx context.Context, keys [][]byte, value []byte) error {
	const batch = 500
	for start := 0; start < len(keys); start += batch {
		muts := make([]*spanner.Mutation, 0, batch)
		for _, k := range keys[start:min(start+batch, len(keys))] {
			muts = append(muts, spanner.InsertOrUpdate(r.table, rawSPCols, []any{k, value}))
		}
		if _, err := r.client.Apply(ctx, muts); err != nil {
			return err
		}
	}
	return nil
}

func (r *RawSpanner) Get(ctx context.Context, key []byte) error {
	_, err := r.client.Single().ReadRow(ctx, r.table, spanner.Key{key}, rawSPCols[1:])
	if errors.Is(err, spanner.ErrRowNotFound) {
		return errRawMissing
	}
	return err
}

func (r *RawSpanner) Put(ctx context.Context, key, value []byte) error {
	_, err := r.client.ReadWriteTransaction(ctx, func(ctx context.Context, tx *spanner.ReadWriteTransaction) error {
		return tx.BufferWrite([]*spanner.Mutation{spanner.InsertOrUpdate(r.table, rawSPCols, []any{key, value})})
	})
	return err
}

func (r *RawSpanner) Query(ctx context.Context, prefix []byte, limit int) error {
	end := append(append([]byte(nil), prefix[:len(prefix)-1]...), prefix[len(prefix)-1]+1)
	it := r.client.Single().ReadWithOptions(ctx, r.table,
		spanner.KeyRange{Start: spanner.Key{prefix}, End: spanner.Key{end}, Kind: spanner.ClosedOpen},
		rawSPCols, &spanner.ReadOptions{Limit: limit})
	n := 0
	err := it.Do(func(*spanner.Row) error { n++; return nil })
	if err == nil && n == 0 {
		err = errRawMissing
	}
	return err
}

func (r *RawSpanner) DropTable(ctx context.Context, cfg Config) error {
	return r.updateDDL(ctx, "DROP TABLE "+rawTable(cfg.Table))
}

func (r *RawSpanner) Close() error {
	r.client.Close()
	return r.admin.Close()
}
