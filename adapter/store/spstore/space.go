package spstore

import (
	"context"
	"fmt"

	"cloud.google.com/go/spanner"
	"cloud.google.com/go/spanner/admin/database/apiv1/databasepb"
	"google.golang.org/api/iterator"
)

// CreateSpace creates the space's table and its JSON view. Existence is
// checked first, so re-creating an existing space costs one read and no DDL
// (a schema change takes seconds on real Spanner even when it changes
// nothing). A DDL batch is not atomic, so a crash between the two statements
// leaves the table without its view; the next CreateSpace adds the view.
func (s *Store) CreateSpace(ctx context.Context, space string) error {
	if err := checkSpace(space); err != nil {
		return err
	}
	tbl, view := tableFor(space), viewFor(space)
	have, err := s.schemaObjects(ctx, tbl, view)
	if err != nil {
		return err
	}
	var stmts []string
	if !have[tbl] {
		stmts = append(stmts, createTableDDL(space))
	}
	if !have[view] {
		stmts = append(stmts, createViewDDL(space))
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := s.updateDDL(ctx, stmts...); err != nil {
		// Lost a race with another CreateSpace of the same space?
		if have, err2 := s.schemaObjects(ctx, tbl, view); err2 == nil && have[tbl] && have[view] {
			return nil
		}
		return fmt.Errorf("spstore: create space %s: %w", space, err)
	}
	return nil
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
	have, err := s.schemaObjects(ctx, tbl, view)
	if err != nil {
		return err
	}
	var stmts []string
	if have[view] {
		stmts = append(stmts, "DROP VIEW "+view)
	}
	if have[tbl] {
		stmts = append(stmts, "DROP TABLE "+tbl)
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := s.updateDDL(ctx, stmts...); err != nil {
		// Lost a race with another DropSpace of the same space?
		if have, err2 := s.schemaObjects(ctx, tbl, view); err2 == nil && !have[tbl] && !have[view] {
			return nil
		}
		return fmt.Errorf("spstore: drop space %s: %w", space, err)
	}
	return nil
}

// updateDDL runs one schema change and waits for it.
func (s *Store) updateDDL(ctx context.Context, stmts ...string) error {
	op, err := s.admin.UpdateDatabaseDdl(ctx, &databasepb.UpdateDatabaseDdlRequest{
		Database:   s.db,
		Statements: stmts,
	})
	if err != nil {
		return err
	}
	return op.Wait(ctx)
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
