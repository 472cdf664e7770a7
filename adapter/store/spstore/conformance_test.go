package spstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/spstore"
	"github.com/dualread/dualread/adapter/store/storetest"
	"github.com/dualread/dualread/internal/testenv"
)

// dbSeq makes database names unique within one test binary.
var dbSeq atomic.Int64

// emulatorDB starts a fresh emulator for t (a long-lived one drifts, see
// STANDINS.md), points the client libraries at it and returns the name of a
// database that Open will create there.
func emulatorDB(t *testing.T) string {
	t.Helper()
	t.Setenv("SPANNER_EMULATOR_HOST", testenv.StartSpannerEmulator(t))
	return fmt.Sprintf("projects/test-project/instances/test-instance/databases/db%d", dbSeq.Add(1))
}

// open opens the store and closes it when t ends. Few sessions: the suite
// opens one store per subtest and the default pool (100) would cost each
// Open a burst of session creation on the emulator.
func open(t *testing.T, db string) *spstore.Store {
	t.Helper()
	s, err := spstore.OpenConfig(t.Context(), spstore.Config{Database: db, MinSessions: 4})
	if err != nil {
		t.Fatalf("Open(%s): %v", db, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the backend-independent suite against the Cloud
// Spanner emulator, one fresh store handle per subtest on one database.
func TestConformance(t *testing.T) {
	db := emulatorDB(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, db) })
}

// TestDataSurvivesReopen checks that Open finds the existing database,
// metadata and spaces (a restart of the adapter process) and does not
// recreate or wipe them.
func TestDataSurvivesReopen(t *testing.T) {
	db := emulatorDB(t)
	ctx := t.Context()
	for i := range 3 {
		s, err := spstore.OpenConfig(ctx, spstore.Config{Database: db, MinSessions: 1})
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		if err := s.CreateSpace(ctx, "keep"); err != nil {
			t.Fatal(err)
		}
		v, ok, err := s.Get(ctx, "keep", []byte("n"))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(i)
		if i == 0 {
			want = ""
		}
		if string(v) != want || ok != (i > 0) {
			t.Fatalf("open #%d: n = %q (present %v), want %q", i, v, ok, want)
		}
		err = s.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			tx.Put("keep", []byte("n"), []byte(fmt.Sprint(i+1)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close #%d: %v", i, err)
		}
	}
}
