// Package btstore implements store.Store on Cloud Bigtable: one table per
// space, versioned rows, single-row transactions by CheckAndMutateRow and
// multi-row transactions by a Percolator-style protocol. See ../README.md.
package btstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/bigtable"
	"cloud.google.com/go/bigtable/bttest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/dualread/dualread/adapter/store"
)

// Store is a store.Store backed by one Bigtable instance.
type Store struct {
	client *bigtable.Client
	admin  *bigtable.AdminClient
	txns   *bigtable.Table
	log    *slog.Logger
	cfg    config

	// Embedded mode only: the in-process emulator and our connection to it.
	srv  *bttest.Server
	conn *grpc.ClientConn
}

var _ store.Store = (*Store)(nil)

// config holds the tunables; tests shorten them.
type config struct {
	txnTTL      time.Duration // a pending record older than this may be aborted by anyone
	maxAttempts int           // Update tries fn at most this many times
	backoffBase time.Duration
	backoffMax  time.Duration
	// crashAfter, when set, makes a multi-row commit stop dead (no cleanup)
	// once it has completed the given step: the tests use it to leave every
	// intermediate state behind and check that other clients resolve it.
	crashAfter func(step commitStep) bool
}

func defaultConfig() config {
	return config{
		txnTTL:      5 * time.Second,
		maxAttempts: 100,
		backoffBase: time.Millisecond,
		backoffMax:  100 * time.Millisecond,
	}
}

// Config selects the Bigtable instance. AppProfile, when set, must use
// single-cluster routing with transactional writes allowed: CheckAndMutateRow
// requires it, and strong reads need single-cluster routing too.
type Config struct {
	Project, Instance, AppProfile string
	Logger                        *slog.Logger
}

// Open connects to a Bigtable instance (or the emulator named by
// BIGTABLE_EMULATOR_HOST, which the client honours) and creates the internal
// transaction table if it is missing.
func Open(ctx context.Context, project, instance string, opts ...option.ClientOption) (*Store, error) {
	return OpenConfig(ctx, Config{Project: project, Instance: instance}, opts...)
}

// OpenConfig is Open with the app profile and logger chosen by the caller.
func OpenConfig(ctx context.Context, c Config, opts ...option.ClientOption) (*Store, error) {
	return open(ctx, c, bigtable.ClientConfig{AppProfile: c.AppProfile}, opts...)
}

// NewEmbedded starts an in-process Bigtable emulator on a free loopback port
// and connects to it. Its data lives in memory and is lost on Close.
func NewEmbedded(ctx context.Context) (*Store, error) {
	// gRPC's default 4 MB message cap would reject a transaction record of
	// DynamoDB's largest transaction (4 MB of items plus keys); use the same
	// 256 MB as the Bigtable client and cbtemulator.
	srv, err := bttest.NewServer("127.0.0.1:0", grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg))
	if err != nil {
		return nil, fmt.Errorf("btstore: start embedded emulator: %w", err)
	}
	conn, err := dialEmbedded(srv.Addr)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("btstore: dial embedded emulator: %w", err)
	}
	s, err := open(ctx, Config{Project: "embedded", Instance: "embedded"},
		bigtable.ClientConfig{MetricsProvider: bigtable.NoopMetricsProvider{}},
		option.WithGRPCConn(conn))
	if err != nil {
		conn.Close()
		srv.Close()
		return nil, err
	}
	s.srv, s.conn = srv, conn
	return s, nil
}

const maxMsg = 256 << 20

func dialEmbedded(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)))
}

func open(ctx context.Context, c Config, cc bigtable.ClientConfig, opts ...option.ClientOption) (*Store, error) {
	client, err := bigtable.NewClientWithConfig(ctx, c.Project, c.Instance, cc, opts...)
	if err != nil {
		return nil, fmt.Errorf("btstore: data client: %w", err)
	}
	admin, err := bigtable.NewAdminClient(ctx, c.Project, c.Instance, opts...)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("btstore: admin client: %w", err)
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{client: client, admin: admin, txns: client.Open(txnTable), log: log, cfg: defaultConfig()}
	err = s.createTable(ctx, txnTable, famTxn)
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createTable creates a table with its families and GC policies in one
// admin call, so a crash never leaves a table without its families.
func (s *Store) createTable(ctx context.Context, name string, fams ...string) error {
	conf := &bigtable.TableConf{TableID: name, Families: map[string]bigtable.GCPolicy{}}
	for _, f := range fams {
		conf.Families[f] = bigtable.MaxVersionsPolicy(1)
	}
	err := s.admin.CreateTableFromConf(ctx, conf)
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("btstore: create table %s: %w", name, err)
	}
	return nil
}

// Close releases the clients and, in embedded mode, stops the emulator.
func (s *Store) Close() error {
	// The data and admin clients share one connection: closing the first
	// closes it, so the second reports Canceled, which says nothing.
	err := s.client.Close()
	if aerr := s.admin.Close(); aerr != nil && status.Code(aerr) != codes.Canceled {
		err = errors.Join(err, aerr)
	}
	if s.conn != nil {
		s.conn.Close() // already closed by the clients in most versions; the error says nothing
	}
	if s.srv != nil {
		s.srv.Close()
	}
	return err
}

// CreateSpace creates the space's table. On real Bigtable this is an admin
// call that takes a second or more.
func (s *Store) CreateSpace(ctx context.Context, space string) error {
	name, err := tableFor(space)
	if err != nil {
		return err
	}
	return s.createTable(ctx, name, famData, famMeta)
}

// DropSpace deletes the space's table. Transaction records that still name
// rows of the dropped space skip them when rolled forward.
func (s *Store) DropSpace(ctx context.Context, space string) error {
	name, err := tableFor(space)
	if err != nil {
		return err
	}
	err = s.admin.DeleteTable(ctx, name)
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("btstore: drop space %s: %w", space, err)
	}
	return nil
}

// table returns the handle of a space's table (a cheap value, no RPC).
func (s *Store) table(space string) (*bigtable.Table, error) {
	name, err := tableFor(space)
	if err != nil {
		return nil, err
	}
	return s.client.Open(name), nil
}

// dataErr maps a data RPC error: a missing table is a missing space.
func dataErr(space string, err error) error {
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("%w: %s", store.ErrNoSpace, space)
	}
	return fmt.Errorf("btstore: space %s: %w", space, err)
}
