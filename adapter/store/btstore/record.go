package btstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
)

// op is what a transaction does to one row.
type op byte

const (
	opRead   op = 1 // read only: locked for validation, unchanged at commit
	opPut    op = 2
	opDelete op = 3
)

// entry is one row of a multi-row transaction, as written in its record so
// that anyone can roll it forward.
type entry struct {
	space string
	key   []byte
	op    op
	ver   uint64 // version the transaction read; the commit writes ver+1
	value []byte // for opPut
}

func compareEntries(a, b *entry) int {
	return cmp.Or(cmp.Compare(a.space, b.space), bytes.Compare(a.key, b.key))
}

// Record status values (cell t:s). The pending cell is written at timestamp
// tsPending and the final one at tsFinal, so the latest cell is the final
// status whatever the clocks say.
const (
	statusPending   = "pending"
	statusCommitted = "committed"
	statusAborted   = "aborted"
	tsPending       = 1000
	tsFinal         = 2000
)

const recordFormat = 1

// encodeEntries is the t:m cell: a format byte, the entry count, then per
// entry: space, key, op, version, value (lengths as uvarints).
func encodeEntries(es []*entry) []byte {
	b := []byte{recordFormat}
	b = binary.AppendUvarint(b, uint64(len(es)))
	for _, e := range es {
		b = appendBytes(b, []byte(e.space))
		b = appendBytes(b, e.key)
		b = append(b, byte(e.op))
		b = binary.AppendUvarint(b, e.ver)
		b = appendBytes(b, e.value)
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

var errBadRecord = errors.New("btstore: malformed transaction record")

func decodeEntries(b []byte) ([]*entry, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return nil, errBadRecord
	}
	d := decoder{b: b[1:]}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) { // every entry takes > 1 byte
		return nil, errBadRecord
	}
	es := make([]*entry, 0, n)
	for range n {
		e := &entry{space: string(d.bytes()), key: d.bytes()}
		e.op = op(d.byte())
		e.ver = d.uvarint()
		e.value = d.bytes()
		if d.err != nil {
			return nil, d.err
		}
		if e.op < opRead || e.op > opDelete {
			return nil, fmt.Errorf("%w: op %d", errBadRecord, e.op)
		}
		es = append(es, e)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(d.b))
	}
	return es, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) { // only minimal encodings, so a record has one form

		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errBadRecord
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadRecord
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
