// Package store is the narrow, ordered key-value interface with transactions
// that every backend (Bigtable, Spanner) implements. All DynamoDB semantics live
// above it, in package dynamo; a backend only stores bytes under byte keys,
// in named key spaces, and runs serializable read-write transactions.
package store

import (
	"context"
	"errors"
	"iter"
)

// Row is one stored key/value pair.
type Row struct {
	Key   []byte
	Value []byte
}

// Range selects keys in [Start, End) of one space, in key order or reversed.
// A nil Start means the first key, a nil End means past the last key.
// Limit > 0 caps the number of rows returned.
type Range struct {
	Start, End []byte
	Reverse    bool
	Limit      int
}

// Txn is a serializable read-write transaction. Reads see the transaction's own
// buffered writes. Writes become visible atomically at commit.
type Txn interface {
	// Get reads one key; ok is false when the key is absent.
	Get(ctx context.Context, space string, key []byte) (value []byte, ok bool, err error)
	// Put buffers a write of key=value.
	Put(space string, key, value []byte)
	// Delete buffers the removal of key.
	Delete(space string, key []byte)
}

// Store is one backend.
//
// Spaces are created before use and named by the layer above with
// [a-z0-9_] names of at most 40 characters, so every backend can map a space to
// a table of its own (or to a key prefix) without escaping.
type Store interface {
	// CreateSpace makes an empty space; creating an existing space is a no-op.
	CreateSpace(ctx context.Context, space string) error
	// DropSpace deletes a space and all its rows; a missing space is a no-op.
	DropSpace(ctx context.Context, space string) error
	// Get is a strongly consistent read of one key.
	Get(ctx context.Context, space string, key []byte) (value []byte, ok bool, err error)
	// Scan reads a key range with strong consistency (rows committed before the
	// call started are seen). Iteration stops at the first error, which is yielded.
	Scan(ctx context.Context, space string, r Range) iter.Seq2[Row, error]
	// Update runs fn in a serializable read-write transaction and commits it.
	// On a conflict the store retries fn with backoff, so fn must have no side
	// effects outside tx; an error returned by fn aborts and is returned as is.
	Update(ctx context.Context, fn func(ctx context.Context, tx Txn) error) error
	// Close releases the backend's connections.
	Close() error
}

// ErrConflict is returned by Update when the transaction kept conflicting with
// others until its retry budget or context ran out. The layer above maps it to
// DynamoDB's TransactionConflictException.
var ErrConflict = errors.New("store: transaction conflict")

// ErrNoSpace is returned when a space does not exist.
var ErrNoSpace = errors.New("store: no such space")

// ErrCrossBackend is returned by a store that spans several backends (package
// route) when one transaction would need two of them.
var ErrCrossBackend = errors.New("store: transaction spans two backends")
