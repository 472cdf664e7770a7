package spstore

import "cloud.google.com/go/spanner"

// Hooks for the external tests (package spstore_test, which may import
// internal/testenv without an import cycle even once the adapter imports
// spstore).

// RawClient is the store's Spanner client, for benchmarks and SQL checks.
func RawClient(s *Store) *spanner.Client { return s.client }

// SetMaxAttempts changes the attempt budget of Update.
func SetMaxAttempts(s *Store, n int) { s.cfg.maxAttempts = n }

// TableFor and ViewFor expose the naming scheme.
var (
	TableFor = tableFor
	ViewFor  = viewFor
)
