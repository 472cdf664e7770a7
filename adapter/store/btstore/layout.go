package btstore

import (
	"encoding/binary"
	"fmt"
	"regexp"

	"cloud.google.com/go/bigtable"
)

// Row layout of a space table. Every row holds at most one live cell per
// column; GC max-versions 1 removes older cells lazily, and every read and
// predicate also applies a latest-cell filter because GC is not immediate
// (and the emulator never collects).
const (
	famData = "d"   // family of the stored value
	colVal  = "v"   // d:v holds the value bytes
	famMeta = "m"   // family of internal cells
	colVer  = "ver" // m:ver holds the row version (8-byte big-endian)
	colLock = "lock"

	// Transaction record table (one row per in-flight multi-row transaction).
	txnTable  = "_dualread_txn"
	famTxn    = "t"
	colStatus = "s" // pending | committed | aborted
	colMuts   = "m" // encoded entries (see record.go)
	colExpiry = "e" // unix milliseconds (8-byte big-endian) after which pending may be aborted

	// spaceTablePrefix keeps space tables apart from internal tables: a space
	// may be called "_dualread_txn", its table is "sp__dualread_txn".
	spaceTablePrefix = "sp_"
)

var spaceName = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// tableFor maps a space to its Bigtable table ID (IDs allow 50 characters;
// the prefix plus 40 fits).
func tableFor(space string) (string, error) {
	if !spaceName.MatchString(space) {
		return "", fmt.Errorf("btstore: invalid space name %q (want [a-z0-9_]{1,40})", space)
	}
	return spaceTablePrefix + space, nil
}

// maxKeyLen is Bigtable's row key limit.
const maxKeyLen = 4096

func checkKey(key []byte) error {
	if len(key) == 0 || len(key) > maxKeyLen {
		return fmt.Errorf("btstore: key length %d outside 1..%d bytes", len(key), maxKeyLen)
	}
	return nil
}

// cellTS is the timestamp of every cell of a space table. Each write
// overwrites the cells in place (same column, same timestamp) instead of
// adding newer ones, so a row has exactly one cell per column, GC has nothing
// to do, and the set of columns of a row never changes after its first write.
// The last point matters for the in-process emulator: bttest v1.40.1 shares a
// row's column-name slice between a ReadRows in flight and a mutation that
// adds or removes a column (a data race the race detector reports). The
// version lives in m:ver, so the timestamp carries no information.
// Consequence: never give a space table a max-age GC policy.
const cellTS bigtable.Timestamp = 0

// A value cell is tagged so that "deleted" (an empty cell) differs from an
// empty value.
const tagValue = 0x01

func encValue(v []byte) []byte { return append([]byte{tagValue}, v...) }

func encVer(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// exact is a value-range filter matching exactly val (range [val, val+0x00)).
func exact(val []byte) bigtable.Filter {
	end := append(append([]byte(nil), val...), 0)
	return bigtable.ValueRangeFilter(val, end)
}

// cell picks one column of a family, latest cell only.
func cell(fam, col string) bigtable.Filter {
	return bigtable.ChainFilters(
		bigtable.FamilyFilter(fam),
		bigtable.ColumnFilter(col),
		bigtable.LatestNFilter(1),
	)
}

// conflictAt yields a cell iff a write conditional on "the row is unlocked
// and at version v" must not apply: the row has a lock, or its version is
// not v (a row never written counts as version 0). Writes apply on the
// predicate's false branch. A Condition filter ("no lock ? ver == v") would
// say the same, but Bigtable documents Condition filters as slow and not
// atomic with their branches; an Interleave of plain filters is neither.
func conflictAt(v uint64) bigtable.Filter {
	ver := encVer(v)
	return bigtable.InterleaveFilters(
		bigtable.ChainFilters(cell(famMeta, colLock), bigtable.ValueRangeFilter([]byte{0}, nil)), // non-empty lock
		bigtable.ChainFilters(cell(famMeta, colVer), bigtable.ValueRangeFilter(nil, ver)),
		bigtable.ChainFilters(cell(famMeta, colVer), bigtable.ValueRangeFilter(append(ver, 0), nil)),
	)
}

// lockedBy yields a cell iff the row's lock is held by txn id.
func lockedBy(id string) bigtable.Filter {
	return bigtable.ChainFilters(cell(famMeta, colLock), exact([]byte(id)))
}

// rowState is one row as stored: its value (if any), version and lock.
type rowState struct {
	exists bool
	value  []byte
	ver    uint64
	lock   string
}

func decodeRow(r bigtable.Row) (rowState, error) {
	var st rowState
	for _, it := range r[famData] {
		if it.Column == famData+":"+colVal {
			if len(it.Value) > 0 {
				if it.Value[0] != tagValue {
					return st, fmt.Errorf("btstore: row %q: bad value tag %#x", it.Row, it.Value[0])
				}
				st.exists, st.value = true, it.Value[1:]
			}
			break
		}
	}
	seenVer, seenLock := false, false
	for _, it := range r[famMeta] { // the first item of a column is its latest cell
		switch it.Column {
		case famMeta + ":" + colVer:
			if seenVer {
				continue
			}
			seenVer = true
			if len(it.Value) != 8 {
				return st, fmt.Errorf("btstore: row %q: bad version cell of %d bytes", it.Row, len(it.Value))
			}
			st.ver = binary.BigEndian.Uint64(it.Value)
		case famMeta + ":" + colLock:
			if !seenLock {
				seenLock, st.lock = true, string(it.Value)
			}
		}
	}
	return st, nil
}

// applyMutation is the write of one entry at version ver+1 that also clears
// the lock. Every write sets all three cells, so the row's columns never change.
func applyMutation(e *entry) *bigtable.Mutation {
	m := bigtable.NewMutation()
	switch e.op {
	case opPut:
		m.Set(famData, colVal, cellTS, encValue(e.value))
	case opDelete:
		// The row stays as a tombstone with its version: if versions
		// restarted at 1 after a delete, a transaction that read an older
		// incarnation of the row at the same version could commit.
		m.Set(famData, colVal, cellTS, nil)
	}
	if e.op != opRead {
		m.Set(famMeta, colVer, cellTS, encVer(e.ver+1))
	}
	m.Set(famMeta, colLock, cellTS, nil)
	return m
}

// lockMutation takes the lock for txn id. A row never written gets its
// version and (empty) value cells at the same time, so that applying later
// adds no column.
func lockMutation(e *entry, id string) *bigtable.Mutation {
	m := bigtable.NewMutation()
	if e.ver == 0 {
		m.Set(famData, colVal, cellTS, nil)
		m.Set(famMeta, colVer, cellTS, encVer(0))
	}
	m.Set(famMeta, colLock, cellTS, []byte(id))
	return m
}

// unlockMutation clears the lock, leaving the row unchanged.
func unlockMutation() *bigtable.Mutation {
	m := bigtable.NewMutation()
	m.Set(famMeta, colLock, cellTS, nil)
	return m
}
