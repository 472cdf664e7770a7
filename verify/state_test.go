package verify

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// TestCursorState: a cursor saved and loaded is the same cursor, in both
// passes; damaged sums or entries are refused.
func TestCursorState(t *testing.T) {
	const buckets = 16
	c1 := newCursor(1, buckets)
	c1.last, c1.items = json.RawMessage(`{"pk":{"S":"a"}}`), 7
	for i := range 7 {
		dg := [32]byte{byte(i), 1, 2, 3}
		c1.sums[i*5%buckets].add(&dg)
	}
	c2 := newCursor(2, buckets)
	c2.done, c2.items = true, 4
	c2.entries["k1"] = [32]byte{9}
	c2.entries[""] = [32]byte{8}
	c2.entries[strings.Repeat("\x00", 200)] = [32]byte{7}
	for _, c := range []*cursor{c1, c2} {
		b, err := json.Marshal(c.state())
		if err != nil {
			t.Fatal(err)
		}
		var cs cursorState
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatal(err)
		}
		got, err := cs.cursor(c.pass, buckets)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.last) != string(c.last) || got.done != c.done || got.items != c.items ||
			!maps.Equal(got.entries, c.entries) || len(got.sums) != len(c.sums) {
			t.Fatalf("pass %d: got %+v, want %+v", c.pass, got, c)
		}
		for i := range c.sums {
			if got.sums[i] != c.sums[i] {
				t.Fatalf("bucket %d: %+v, want %+v", i, got.sums[i], c.sums[i])
			}
		}
	}
	for name, cs := range map[string]cursorState{
		"short sums":          {Sums: make([]byte, buckets*sumSize-1)},
		"truncated entries":   {Entries: []byte{5, 'a', 'b'}},
		"position lost":       {Items: 3},
		"length past the end": {Entries: []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		"length near 2^64":    {Entries: append([]byte{0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, make([]byte, 40)...)},
	} {
		pass := 2
		if strings.Contains(name, "sums") || name == "position lost" {
			pass = 1
			if name == "position lost" {
				cs.Sums = make([]byte, buckets*sumSize)
			}
		}
		if _, err := cs.cursor(pass, buckets); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestWriteAtomic: the file holds the new content, and no temporary file
// is left; a leftover temporary from a killed run is replaced.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := os.WriteFile(p+".tmp", []byte("half-written garbage of a killed run"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"first", "second"} {
		if err := writeAtomic(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Fatalf("file holds %q, want %q", b, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files left: %v", entries)
	}
}

// TestPoint: the InfluxDB point has exactly the documented tags and integer
// fields (the dashboard and the drill depend on the names).
func TestPoint(t *testing.T) {
	r := &Report{Table: "orders", SourceItems: 10, TargetItems: 9, Missing: 1, Buckets: 1024, DifferingBuckets: 1,
		Duration: 1500 * time.Millisecond}
	at := time.Unix(1700000000, 0)
	got := write.PointToLineProtocol(r.Point(at), time.Nanosecond)
	want := "dualread_verify,result=differ,table=orders buckets=1024i,different=0i,differing_buckets=1i,duration_ms=1500i," +
		"extra=0i,missing=1i,source_items=10i,target_items=9i 1700000000000000000\n"
	if got != want {
		t.Fatalf("line protocol\n got %q\nwant %q", got, want)
	}
	r.Missing, r.TargetItems, r.DifferingBuckets, r.Result = 0, 10, 0, ResultEqual
	if got := write.PointToLineProtocol(r.Point(at), time.Nanosecond); !strings.HasPrefix(got, "dualread_verify,result=equal,table=orders ") {
		t.Fatalf("equal report: %q", got)
	}
}
