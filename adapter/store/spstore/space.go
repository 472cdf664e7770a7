package spstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"cloud.google.com/go/spanner"
	"cloud.google.com/go/spanner/admin/database/apiv1/databasepb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
)

// CreateSpace creates the space's table and its JSON view. Existence is
// checked first, so re-creating an existing space costs one read and no DDL
// (a schema change takes seconds on real Spanner even when it changes
// nothing).
func (s *Store) CreateSpace(ctx context.Context, space string) error {
	if err := checkSpace(space); err != nil {
		return err
	}
	tbl, view := tableFor(space), viewFor(space)
	return s.converge(ctx, "create space "+space, []string{tbl, view}, func(have map[string]bool) (stmts []string) {
		if !have[tbl] {
			stmts = append(stmts, createTableDDL(space))
		}
		if !have[view] {
			stmts = append(stmts, createViewDDL(space))
		}
		return stmts
	})
}

// DropSpace drops the space's view and table in one schema change (the view
// first: Spanner refuses to drop a table a view depends on).
//
// DROP TABLE is a schema change at one commit timestamp: a transaction that
// commits writes to the table before it is dropped along with the table, and
// one that commits after fails with NotFound (store.ErrNoSpace). Unlike a
// range delete under a shared table, no write can slip in after the drop and
// survive into a re-created space of the same name.
func (s *Store) DropSpace(ctx context.Context, space string) error {
	if err := checkSpace(space); err != nil {
		return err
	}
	tbl, view := tableFor(space), viewFor(space)
	return s.converge(ctx, "drop space "+space, []string{tbl, view}, func(have map[string]bool) (stmts []string) {
		if have[view] {
			stmts = append(stmts, "DROP VIEW "+view)
		}
		if have[tbl] {
			stmts = append(stmts, "DROP TABLE "+tbl)
		}
		return stmts
	})
}

// converge brings the named schema objects to the state plan wants: read
// which exist, run the statements plan returns for that, repeat until plan
// returns none. Repeating makes it idempotent and safe against a concurrent
// caller doing the same (its DDL fails with a duplicate or missing name, the
// next round sees its result) and against a DDL batch applied only in part
// (batches are not atomic: a crash between statements leaves e.g. a table
// without its view, which the next call completes).
func (s *Store) converge(ctx context.Context, what string, names []string, plan func(have map[string]bool) []string) error {
	var lastErr error
	for range 3 {
		have, err := s.schemaObjects(ctx, names...)
		if err != nil {
			return err
		}
		stmts := plan(have)
		if len(stmts) == 0 {
			return nil
		}
		if lastErr = s.updateDDL(ctx, stmts...); lastErr != nil {
			s.log.DebugContext(ctx, "spstore: schema change failed, re-reading schema", "what", what, "err", lastErr)
		}
	}
	return fmt.Errorf("spstore: %s: %w", what, lastErr)
}

// ddlBusyWait bounds how long updateDDL keeps retrying a schema change
// refused as concurrent.
const ddlBusyWait = time.Minute

// updateDDL runs one schema change and waits for it. The emulator refuses a
// schema change while any read-write transaction or other schema change is
// in progress in the database (FailedPrecondition "... concurrent schema
// change operation or read-write transaction is already in progress"), and
// real Spanner refuses overlapping schema changes in some cases too; both are
// retried with backoff. Retrying is safe: a refused change did nothing.
func (s *Store) updateDDL(ctx context.Context, stmts ...string) error {
	ctx, cancel := context.WithTimeout(ctx, ddlBusyWait)
	defer cancel()
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		op, err := s.admin.UpdateDatabaseDdl(ctx, &databasepb.UpdateDatabaseDdlRequest{
			Database:   s.db,
			Statements: stmts,
		})
		if err == nil {
			err = op.Wait(ctx)
		}
		if !isDDLBusy(err) {
			return err
		}
		s.log.DebugContext(ctx, "spstore: schema change refused as concurrent, retrying", "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(wait + rand.N(wait)):
		}
	}
}

func isDDLBusy(err error) bool {
	return spanner.ErrCode(err) == codes.FailedPrecondition &&
		strings.Contains(strings.ToLower(err.Error()), "concurrent schema change")
}

// schemaObjects reports which of the named tables and views exist, by a
// strong read of INFORMATION_SCHEMA (views are listed in TABLES too).
func (s *Store) schemaObjects(ctx context.Context, names ...string) (map[string]bool, error) {
	stmt := spanner.Statement{
		SQL:    `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = '' AND TABLE_NAME IN UNNEST(@names)`,
		Params: map[string]any{"names": names},
	}
	it := s.client.Single().Query(ctx, stmt)
	defer it.Stop()
	have := map[string]bool{}
	for {
		row, err := it.Next()
		if err == iterator.Done {
			return have, nil
		}
		if err != nil {
			return nil, fmt.Errorf("spstore: read schema: %w", err)
		}
		var name string
		if err := row.Columns(&name); err != nil {
			return nil, err
		}
		have[name] = true
	}
}
