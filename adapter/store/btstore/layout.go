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

// verTS is the cell timestamp of everything written at version v. Tying cell
// timestamps to the version (instead of the wall clock) makes "latest cell"
// mean "highest version" even when clocks of two writers disagree or two
// writes land in the same millisecond. Bigtable wants millisecond granularity.
func verTS(v uint64) bigtable.Timestamp { return bigtable.Timestamp(v * 1000) }

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

// anyMeta yields a cell when the row has a version or a lock: used as the
// "conflict" predicate when the writer read the row as never written.
func anyMeta() bigtable.Filter {
	return bigtable.ChainFilters(bigtable.FamilyFilter(famMeta), bigtable.LatestNFilter(1))
}

// unlockedAt yields a cell iff the row has no lock and its version is v (v>0).
func unlockedAt(v uint64) bigtable.Filter {
	return bigtable.ConditionFilter(
		cell(famMeta, colLock),
		bigtable.BlockAllFilter(),
		bigtable.ChainFilters(cell(famMeta, colVer), exact(encVer(v))),
	)
}

// lockedBy yields a cell iff the row's lock is held by txn id.
func lockedBy(id string) bigtable.Filter {
	return bigtable.ChainFilters(cell(famMeta, colLock), exact([]byte(id)))
}

// scanFilter drops version-only rows (tombstones of deleted keys) on the
// server, keeping rows that have a value or a lock (a locked absent row may
// be a committed insert that still has to be rolled forward).
func scanFilter() bigtable.Filter {
	return bigtable.ConditionFilter(
		bigtable.ColumnFilter(colVal+"|"+colLock),
		bigtable.LatestNFilter(1),
		nil,
	)
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
			st.exists, st.value = true, it.Value
			break
		}
	}
	for _, it := range r[famMeta] {
		switch it.Column {
		case famMeta + ":" + colVer:
			if len(it.Value) != 8 {
				return st, fmt.Errorf("btstore: row %q: bad version cell of %d bytes", it.Row, len(it.Value))
			}
			if st.ver == 0 { // first item of a column is the latest
				st.ver = binary.BigEndian.Uint64(it.Value)
			}
		case famMeta + ":" + colLock:
			if st.lock == "" {
				st.lock = string(it.Value)
			}
		}
	}
	return st, nil
}

// applyMutation is the write of one entry at version ver+1, clearing the
// lock too. Deleting the old cells before setting the new ones keeps one
// cell per column without waiting for GC.
func applyMutation(e *entry) *bigtable.Mutation {
	m := bigtable.NewMutation()
	switch e.op {
	case opPut:
		m.DeleteCellsInColumn(famData, colVal)
		m.Set(famData, colVal, verTS(e.ver+1), e.value)
	case opDelete:
		m.DeleteCellsInColumn(famData, colVal)
	}
	if e.op != opRead {
		// The version survives a delete (a tombstone) so that a later insert
		// continues the sequence: restarting at 1 would let a transaction that
		// read an older incarnation of the row at the same version commit.
		m.DeleteCellsInColumn(famMeta, colVer)
		m.Set(famMeta, colVer, verTS(e.ver+1), encVer(e.ver+1))
	}
	m.DeleteCellsInColumn(famMeta, colLock)
	return m
}
