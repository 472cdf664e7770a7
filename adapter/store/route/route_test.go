package route

import (
	"context"
	"errors"
	"testing"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/adapter/store/storetest"
)

// newRouter routes between two real in-process Bigtable emulators, "a" (home)
// and "b", and returns the backends too so tests can see where rows landed.
func newRouter(t *testing.T) (*Router, store.Store, store.Store) {
	t.Helper()
	ctx := context.Background()
	a, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New("a", map[string]store.Store{"a": a, "b": b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, a, b
}

// The router is a store like any other: the conformance suite passes through it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		r, _, _ := newRouter(t)
		return r
	})
}

func TestRoutesByPrefix(t *testing.T) {
	ctx := context.Background()
	r, a, b := newRouter(t)
	remote := Prefix("b") + "items"
	for _, sp := range []string{"catalog", remote} {
		if err := r.CreateSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	// The first attempt starts on the home backend, meets b's space, and runs again on b.
	err := r.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		if _, _, err := tx.Get(ctx, remote, []byte("k")); err != nil {
			return err
		}
		tx.Put(remote, []byte("k"), []byte("v"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, remote, []byte("k")); !ok {
		t.Error("row not on backend b")
	}
	if _, ok, err := a.Get(ctx, remote, []byte("k")); ok || err == nil {
		t.Errorf("backend a has b's space (found %v, err %v)", ok, err)
	}
	if err := r.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		tx.Put("catalog", []byte("t"), []byte("x"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Get(ctx, "catalog", []byte("t")); !ok {
		t.Error("unprefixed space not on the home backend")
	}
}

func TestCrossBackendRefusedWithNothingWritten(t *testing.T) {
	ctx := context.Background()
	r, a, b := newRouter(t)
	remote := Prefix("b") + "items"
	for _, sp := range []string{"local", remote} {
		if err := r.CreateSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	err := r.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		tx.Put("local", []byte("k"), []byte("v"))
		tx.Put(remote, []byte("k"), []byte("v"))
		return nil
	})
	if !errors.Is(err, ErrCrossBackend) {
		t.Fatalf("err = %v, want ErrCrossBackend", err)
	}
	if _, ok, _ := a.Get(ctx, "local", []byte("k")); ok {
		t.Error("home backend written by a refused transaction")
	}
	if _, ok, _ := b.Get(ctx, remote, []byte("k")); ok {
		t.Error("backend b written by a refused transaction")
	}
}

func TestNewRejectsBadNames(t *testing.T) {
	ctx := context.Background()
	a, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := New("x", map[string]store.Store{"a": a}); err == nil {
		t.Error("unknown home accepted")
	}
	if _, err := New("a", map[string]store.Store{"a": a, "b__c": a}); err == nil {
		t.Error("name with the separator accepted")
	}
}
