// Package storetest is the conformance suite every store.Store backend must
// pass. A backend's test calls Run with a function that opens a fresh store
// (or a handle on a shared one); the suite creates its own spaces.
package storetest

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/store"
)

// Open returns a store for one subtest; it should register its own cleanup.
type Open func(t *testing.T) store.Store

// Run runs every conformance test against the backend opened by open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CRUD", testCRUD},
		{"Spaces", testSpaces},
		{"BigValuesAndKeys", testBigValuesAndKeys},
		{"ScanOrder", testScanOrder},
		{"ScanRanges", testScanRanges},
		{"ScanSkipsDeleted", testScanSkipsDeleted},
		{"ScanEarlyStop", testScanEarlyStop},
		{"ReadYourWrites", testReadYourWrites},
		{"FnErrorAborts", testFnErrorAborts},
		{"ConflictRetried", testConflictRetried},
		{"MultiRowAtomic", testMultiRowAtomic},
		{"ManyRowTxn", testManyRowTxn},
		{"NoLostUpdatesOneCounter", testNoLostUpdatesOne},
		{"NoLostUpdatesPairs", testNoLostUpdatesPairs},
		{"WriteSkewPrevented", testWriteSkew},
		{"DropSpace", testDropSpace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var notSpaceChar = regexp.MustCompile(`[^a-z0-9_]+`)

var spaceSeq atomic.Int64

// newSpace creates a space named after the test (so leftovers are easy to
// attribute) plus a sequence number (so reruns against a persistent backend
// start empty).
func newSpace(t *testing.T, s store.Store) string {
	t.Helper()
	name := notSpaceChar.ReplaceAllString(strings.ToLower(t.Name()), "_")
	suffix := "_" + time.Now().Format("150405") + "_" + strconv.FormatInt(spaceSeq.Add(1), 10)
	if len(name) > 40-len(suffix) {
		name = name[len(name)-(40-len(suffix)):]
	}
	name += suffix
	ctx := t.Context()
	if err := s.CreateSpace(ctx, name); err != nil {
		t.Fatalf("CreateSpace(%q): %v", name, err)
	}
	t.Cleanup(func() {
		if err := s.DropSpace(context.Background(), name); err != nil {
			t.Errorf("DropSpace(%q): %v", name, err)
		}
	})
	return name
}

func put(t *testing.T, s store.Store, space string, kv ...string) {
	t.Helper()
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		for i := 0; i+1 < len(kv); i += 2 {
			tx.Put(space, []byte(kv[i]), []byte(kv[i+1]))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(put %q): %v", kv, err)
	}
}

func del(t *testing.T, s store.Store, space string, keys ...string) {
	t.Helper()
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		for _, k := range keys {
			tx.Delete(space, []byte(k))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(delete %q): %v", keys, err)
	}
}

// get returns the value, or "<absent>".
func get(t *testing.T, s store.Store, space, key string) string {
	t.Helper()
	v, ok, err := s.Get(t.Context(), space, []byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok {
		return absent
	}
	return string(v)
}

const absent = "<absent>"

func scan(t *testing.T, s store.Store, space string, r store.Range) []string {
	t.Helper()
	var keys []string
	for row, err := range s.Scan(t.Context(), space, r) {
		if err != nil {
			t.Fatalf("Scan(%+v): %v", r, err)
		}
		keys = append(keys, string(row.Key))
	}
	return keys
}
