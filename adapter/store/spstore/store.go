// Package spstore implements store.Store on Cloud Spanner: one table per
// space, strong reads by single-use read-only transactions, and Update as one
// Spanner read-write transaction (Spanner provides serializability, retries
// and atomic multi-row commits itself). See ../README.md.
package spstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"time"

	"cloud.google.com/go/spanner"
	database "cloud.google.com/go/spanner/admin/database/apiv1"
	"cloud.google.com/go/spanner/admin/database/apiv1/databasepb"
	instance "cloud.google.com/go/spanner/admin/instance/apiv1"
	"cloud.google.com/go/spanner/admin/instance/apiv1/instancepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"

	"github.com/dualread/dualread/adapter/store"
)

// Store is a store.Store backed by one Spanner database.
type Store struct {
	client *spanner.Client
	admin  *database.DatabaseAdminClient
	db     string
	log    *slog.Logger
	cfg    config
}

var _ store.Store = (*Store)(nil)

// config holds the tunables of Update; tests shorten them.
type config struct {
	// maxAttempts bounds how often fn runs for one Update (Spanner's client
	// would otherwise retry aborts until the context ends).
	maxAttempts int
	// budget bounds the wall time of one Update, retries included.
	budget time.Duration
}

func defaultConfig() config {
	return config{maxAttempts: 100, budget: 30 * time.Second}
}

// Config selects the database and the logger.
type Config struct {
	// Database is projects/P/instances/I/databases/D.
	Database string
	Logger   *slog.Logger
	// MinSessions is the session pool's minimum (0: the client's default,
	// 100). Tests that open many stores set it low.
	MinSessions uint64
}

var databaseName = regexp.MustCompile(`^projects/([^/]+)/instances/([^/]+)/databases/([^/]+)$`)

// Open connects to a Spanner database, or to the emulator named by
// SPANNER_EMULATOR_HOST (the client libraries honour it). On the emulator
// only, the instance and the database are created when missing; on real
// Spanner they must exist (creating them is a provisioning decision). Either
// way Open creates spstore's metadata table when missing and refuses a
// database written with another layout.
func Open(ctx context.Context, database string, opts ...option.ClientOption) (*Store, error) {
	return OpenConfig(ctx, Config{Database: database}, opts...)
}

// OpenConfig is Open with the logger and session pool size chosen by the caller.
func OpenConfig(ctx context.Context, c Config, opts ...option.ClientOption) (*Store, error) {
	m := databaseName.FindStringSubmatch(c.Database)
	if m == nil {
		return nil, fmt.Errorf("spstore: database %q is not projects/P/instances/I/databases/D", c.Database)
	}
	project, inst := m[1], m[2]
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	admin, err := database.NewDatabaseAdminClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("spstore: database admin client: %w", err)
	}
	if os.Getenv("SPANNER_EMULATOR_HOST") != "" {
		if err := ensureInstance(ctx, project, inst, opts...); err != nil {
			admin.Close()
			return nil, err
		}
		if err := ensureDatabase(ctx, admin, c.Database); err != nil {
			admin.Close()
			return nil, err
		}
	}
	cc := spanner.ClientConfig{DisableNativeMetrics: true}
	if c.MinSessions > 0 {
		cc.SessionPoolConfig = spanner.DefaultSessionPoolConfig
		cc.SessionPoolConfig.MinOpened = c.MinSessions
	}
	client, err := spanner.NewClientWithConfig(ctx, c.Database, cc, opts...)
	if err != nil {
		admin.Close()
		return nil, fmt.Errorf("spstore: data client: %w", err)
	}
	s := &Store{client: client, admin: admin, db: c.Database, log: log, cfg: defaultConfig()}
	if err := s.ensureMeta(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the clients.
func (s *Store) Close() error {
	s.client.Close()
	return s.admin.Close()
}

// ensureInstance creates the emulator's instance if it is missing. The
// emulator's only instance configuration is "emulator-config".
func ensureInstance(ctx context.Context, project, inst string, opts ...option.ClientOption) error {
	ia, err := instance.NewInstanceAdminClient(ctx, opts...)
	if err != nil {
		return fmt.Errorf("spstore: instance admin client: %w", err)
	}
	defer ia.Close()
	name := "projects/" + project + "/instances/" + inst
	if _, err := ia.GetInstance(ctx, &instancepb.GetInstanceRequest{Name: name}); err == nil {
		return nil
	} else if spanner.ErrCode(err) != codes.NotFound {
		return fmt.Errorf("spstore: get instance %s: %w", name, err)
	}
	op, err := ia.CreateInstance(ctx, &instancepb.CreateInstanceRequest{
		Parent:     "projects/" + project,
		InstanceId: inst,
		Instance: &instancepb.Instance{
			Config:      "projects/" + project + "/instanceConfigs/emulator-config",
			DisplayName: inst,
			NodeCount:   1,
		},
	})
	if err == nil {
		_, err = op.Wait(ctx)
	}
	if err != nil && spanner.ErrCode(err) != codes.AlreadyExists { // another process won the race
		return fmt.Errorf("spstore: create instance %s: %w", name, err)
	}
	return nil
}

// ensureDatabase creates the emulator's database, with the metadata table,
// if it is missing.
func ensureDatabase(ctx context.Context, admin *database.DatabaseAdminClient, db string) error {
	if _, err := admin.GetDatabase(ctx, &databasepb.GetDatabaseRequest{Name: db}); err == nil {
		return nil
	} else if spanner.ErrCode(err) != codes.NotFound {
		return fmt.Errorf("spstore: get database %s: %w", db, err)
	}
	m := databaseName.FindStringSubmatch(db)
	op, err := admin.CreateDatabase(ctx, &databasepb.CreateDatabaseRequest{
		Parent:          "projects/" + m[1] + "/instances/" + m[2],
		CreateStatement: "CREATE DATABASE `" + m[3] + "`",
		ExtraStatements: []string{createMetaDDL()},
	})
	if err == nil {
		_, err = op.Wait(ctx)
	}
	if err != nil && spanner.ErrCode(err) != codes.AlreadyExists {
		return fmt.Errorf("spstore: create database %s: %w", db, err)
	}
	return nil
}

// ensureMeta creates the metadata table if missing, records the layout
// version in a new database and checks it in an existing one.
func (s *Store) ensureMeta(ctx context.Context) error {
	err := s.converge(ctx, "create "+metaTable, []string{metaTable}, func(have map[string]bool) []string {
		if have[metaTable] {
			return nil
		}
		return []string{createMetaDDL()}
	})
	if err != nil {
		return err
	}
	var found string
	_, err = s.client.ReadWriteTransaction(ctx, func(ctx context.Context, tx *spanner.ReadWriteTransaction) error {
		row, err := tx.ReadRow(ctx, metaTable, spanner.Key{"layout"}, []string{"value"})
		if errors.Is(err, spanner.ErrRowNotFound) {
			found = layoutVersion
			return tx.BufferWrite([]*spanner.Mutation{
				spanner.Insert(metaTable, []string{"name", "value"}, []any{"layout", layoutVersion}),
			})
		}
		if err != nil {
			return err
		}
		return row.Columns(&found)
	})
	if err != nil {
		return fmt.Errorf("spstore: read layout version: %w", err)
	}
	if found != layoutVersion {
		return fmt.Errorf("spstore: database %s holds layout %q, this build reads %q", s.db, found, layoutVersion)
	}
	return nil
}
