package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dualread/dualread/adapter/store"
)

func testCRUD(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	if got := get(t, s, sp, "k"); got != absent {
		t.Fatalf("fresh space: Get = %q, want absent", got)
	}
	steps := []struct {
		name  string
		do    func()
		key   string
		value string
	}{
		{"insert", func() { put(t, s, sp, "k", "v1") }, "k", "v1"},
		{"overwrite", func() { put(t, s, sp, "k", "v2") }, "k", "v2"},
		{"empty value", func() { put(t, s, sp, "e", "") }, "e", ""},
		{"delete", func() { del(t, s, sp, "k") }, "k", absent},
		{"delete absent", func() { del(t, s, sp, "never") }, "never", absent},
		{"reinsert after delete", func() { put(t, s, sp, "k", "v3") }, "k", "v3"},
	}
	for _, st := range steps {
		st.do()
		if got := get(t, s, sp, st.key); got != st.value {
			t.Fatalf("%s: Get(%q) = %q, want %q", st.name, st.key, got, st.value)
		}
	}
	// The empty value must be present, not absent.
	v, ok, err := s.Get(t.Context(), sp, []byte("e"))
	if err != nil || !ok || len(v) != 0 {
		t.Fatalf("Get(empty value) = %q, %v, %v; want \"\", true, nil", v, ok, err)
	}
	// Get returns a copy the caller may keep.
	put(t, s, sp, "bin", "\x00\xff\x00")
	if got := get(t, s, sp, "bin"); got != "\x00\xff\x00" {
		t.Fatalf("binary value = %q", got)
	}
}

func testSpaces(t *testing.T, s store.Store) {
	a, b := newSpace(t, s), newSpace(t, s)
	if err := s.CreateSpace(t.Context(), a); err != nil {
		t.Fatalf("CreateSpace of an existing space: %v, want no-op", err)
	}
	put(t, s, a, "k", "in a")
	if got := get(t, s, b, "k"); got != absent {
		t.Fatalf("space %s sees %s's row: %q", b, a, got)
	}
	if got := get(t, s, a, "k"); got != "in a" {
		t.Fatalf("re-created existing space lost data: %q", got)
	}
	_, _, err := s.Get(t.Context(), "no_such_space_x", []byte("k"))
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Get on missing space: err = %v, want ErrNoSpace", err)
	}
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		tx.Put("no_such_space_x", []byte("k"), []byte("v"))
		return nil
	})
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Update writing a missing space: err = %v, want ErrNoSpace", err)
	}
	for _, err := range s.Scan(t.Context(), "no_such_space_x", store.Range{}) {
		if !errors.Is(err, store.ErrNoSpace) {
			t.Fatalf("Scan on missing space: err = %v, want ErrNoSpace", err)
		}
	}
}

func testBigValuesAndKeys(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	// DynamoDB items are at most 400 KB; keys at most 2048+1024 bytes before encoding.
	big := bytes.Repeat([]byte("0123456789abcdef"), 400*1024/16)
	key := bytes.Repeat([]byte{0x00, 0xff, 'k'}, 1000)
	err := s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		tx.Put(sp, key, big)
		tx.Put(sp, []byte("second"), big)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.Get(t.Context(), sp, key)
	if err != nil || !ok || !bytes.Equal(v, big) {
		t.Fatalf("Get(big) = %d bytes, %v, %v; want %d bytes", len(v), ok, err, len(big))
	}
	// DynamoDB's largest transaction: 4 MB of items in one commit.
	err = s.Update(t.Context(), func(ctx context.Context, tx store.Txn) error {
		for i := range 11 {
			tx.Put(sp, []byte{'t', byte(i)}, big[:4<<20/11])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("4 MB transaction: %v", err)
	}
	if n := len(scan(t, s, sp, store.Range{Start: []byte("t"), End: []byte("u")})); n != 11 {
		t.Fatalf("4 MB transaction: %d rows visible, want 11", n)
	}
}

func testDropSpace(t *testing.T, s store.Store) {
	sp := newSpace(t, s)
	put(t, s, sp, "a", "1", "b", "2")
	if err := s.DropSpace(t.Context(), sp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(t.Context(), sp, []byte("a")); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Get after DropSpace: err = %v, want ErrNoSpace", err)
	}
	if err := s.DropSpace(t.Context(), sp); err != nil {
		t.Fatalf("DropSpace of a missing space: %v, want no-op", err)
	}
	if err := s.CreateSpace(t.Context(), sp); err != nil {
		t.Fatal(err)
	}
	if keys := scan(t, s, sp, store.Range{}); len(keys) != 0 {
		t.Fatalf("re-created space holds %q, want empty", keys)
	}
	if got := get(t, s, sp, "a"); got != absent {
		t.Fatalf("re-created space: Get(a) = %q, want absent", got)
	}
}
