package dynamo

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
)

// Row keys (see adapter/store/README.md):
//
//	base row:  h(pk) | part(pk) | enc(sk)
//	index row: h(ipk) | part(ipk) | enc(isk) | part(enc(pk) | enc(sk))
//
// h is a 2-byte hash of enc(pk) that spreads partitions across the backend's
// key space (no hot-spotting on sequential keys) and makes parallel Scan
// segments plain hash ranges. enc is attr.EncodeKey: order-preserving and
// self-delimiting, so a partition is a key prefix and Query is a range read.
//
// part() keeps keys within Bigtable's 4 KB row-key limit: DynamoDB allows a
// 2048-byte partition key and a 1024-byte sort key, and escaping can double
// them. Partition keys and the base-key suffix of index rows need identity,
// never order, so part() is the encoding itself behind a 0x01 tag when it is
// short, and a SHA-256 digest behind a 0x02 tag when it is long. Sort keys,
// whose order Query needs, are always encoded in full.
const (
	hashLen      = 2
	maxPlainPart = 512
	tagPlain     = 0x01
	tagDigest    = 0x02
)

func partitionHash(encPK []byte) [hashLen]byte {
	h := fnv.New32a()
	h.Write(encPK)
	s := h.Sum32()
	return [hashLen]byte{byte(s >> 24), byte(s >> 16)}
}

// appendPart appends part(enc) to dst.
func appendPart(dst, enc []byte) []byte {
	if len(enc) <= maxPlainPart {
		dst = append(dst, tagPlain)
		return append(dst, enc...)
	}
	sum := sha256.Sum256(enc)
	dst = append(dst, tagDigest)
	return append(dst, sum[:]...)
}

// partitionPrefix is h(pk)|part(pk): the common prefix of every row of one partition.
func partitionPrefix(pk attr.Value) []byte {
	enc := attr.EncodeKey(nil, pk)
	h := partitionHash(enc)
	out := make([]byte, 0, hashLen+1+min(len(enc), maxPlainPart)+16)
	out = append(out, h[:]...)
	return appendPart(out, enc)
}

// rowKey is the base-table row key of an item's primary key.
func (k keySchema) rowKey(item attr.Item) []byte {
	out := partitionPrefix(item[k.Hash])
	if k.Range != "" {
		out = attr.EncodeKey(out, item[k.Range])
	}
	return out
}

// indexRowKey is an index row key; ok is false when the item lacks an index
// key attribute (or has it with another type), i.e. it is not in the index.
func (ix *index) indexRowKey(base keySchema, item attr.Item) ([]byte, bool) {
	for _, n := range []struct {
		name string
		typ  attr.Type
	}{{ix.key.Hash, ix.key.HashType}, {ix.key.Range, ix.key.RangeType}} {
		if n.name == "" {
			continue
		}
		v, ok := item[n.name]
		if !ok || v.Type != n.typ {
			return nil, false
		}
	}
	baseKey := attr.EncodeKey(nil, item[base.Hash])
	if base.Range != "" {
		baseKey = attr.EncodeKey(baseKey, item[base.Range])
	}
	return appendPart(ix.key.rowKey(item), baseKey), true
}

// Stored row values: one kind byte, an 8-byte version (microseconds of the
// write, or the change time for replicated writes: last-writer-wins), then the
// item as DynamoDB JSON, which any tool can read. Tombstones carry no item.
const (
	kindItem      = 'I'
	kindTombstone = 'T'
	valueHeader   = 9
)

func encodeRow(item attr.Item, version uint64) ([]byte, error) {
	js, err := json.Marshal(item)
	if err != nil {
		return nil, err
	}
	out := make([]byte, valueHeader, valueHeader+len(js))
	out[0] = kindItem
	binary.BigEndian.PutUint64(out[1:], version)
	return append(out, js...), nil
}

// decodeRow returns the item of a stored row; nil for a tombstone.
func decodeRow(raw []byte) (attr.Item, uint64, error) {
	if len(raw) < valueHeader {
		return nil, 0, errCorrupt
	}
	ver := binary.BigEndian.Uint64(raw[1:valueHeader])
	if raw[0] == kindTombstone {
		return nil, ver, nil
	}
	var item attr.Item
	if err := json.Unmarshal(raw[valueHeader:], &item); err != nil {
		return nil, 0, err
	}
	return item, ver, nil
}

type corruptError struct{}

func (corruptError) Error() string { return "dynamo: corrupt stored row" }

var errCorrupt error = corruptError{}

// Key size limits, in bytes of the value (DynamoDB counts UTF-8 bytes of S, raw bytes of B).
const (
	maxHashKeyBytes  = 2048
	maxRangeKeyBytes = 1024
)

func keyValueSize(v attr.Value) int {
	switch v.Type {
	case attr.S, attr.N:
		return len(v.S)
	case attr.B:
		return len(v.B)
	}
	return 0
}

// Key validation messages, as DynamoDB Local words them.
const (
	msgKeyTypeMismatch = "One or more parameter values were invalid: Type mismatch for key"
	msgKeyMissing      = "One of the required keys was not given a value"
	msgKeyCount        = "The number of conditions on the keys is invalid"
	msgKeyTooLong      = "Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes"
)

// checkKeyValue validates one key attribute's value against its declared type.
func checkKeyValue(name string, typ attr.Type, v attr.Value, isRange bool) error {
	if v.Type != typ {
		return ddberr.Validation(msgKeyTypeMismatch)
	}
	if (v.Type == attr.S && v.S == "") || (v.Type == attr.B && len(v.B) == 0) {
		return ddberr.Validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", emptyKind(v.Type), name)
	}
	if isRange && keyValueSize(v) > maxRangeKeyBytes || !isRange && keyValueSize(v) > maxHashKeyBytes {
		return ddberr.Validation(msgKeyTooLong)
	}
	return nil
}

func emptyKind(t attr.Type) string {
	if t == attr.B {
		return "binary"
	}
	return "string"
}

// checkKey validates a request's Key parameter (GetItem, UpdateItem, ...).
func (k keySchema) checkKey(key attr.Item) error {
	if key == nil {
		return ddberr.Validation("Cannot have null key for GetItem, DeleteItem, or UpdateItem")
	}
	if len(key) != len(k.names()) {
		return ddberr.Validation(msgKeyCount)
	}
	return k.checkItemKey(key)
}

// checkItemKey validates the key attributes of a whole item (PutItem).
func (k keySchema) checkItemKey(item attr.Item) error {
	for i, n := range k.names() {
		if _, ok := item[n]; !ok {
			return ddberr.Validation(msgKeyMissing)
		}
		typ := k.HashType
		if i == 1 {
			typ = k.RangeType
		}
		if err := checkKeyValue(n, typ, item[n], i == 1); err != nil {
			return err
		}
	}
	return nil
}

// checkIndexKeys validates index key attributes present in an item: they must
// have the declared type and not be empty (absent is fine: sparse index).
func (t *table) checkIndexKeys(item attr.Item) error {
	for _, ix := range t.sortedIndexes() {
		for i, n := range ix.key.names() {
			v, ok := item[n]
			if !ok {
				continue
			}
			typ := ix.key.HashType
			if i == 1 {
				typ = ix.key.RangeType
			}
			if v.Type != typ {
				// DynamoDB Local's wording; AWS appends the key, types and index name.
				return ddberr.Validation("One or more parameter values were invalid: Type mismatch for Index Key")
			}
			if (v.Type == attr.S && v.S == "") || (v.Type == attr.B && len(v.B) == 0) {
				return ddberr.Validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s", emptyKind(v.Type), ix.name, n)
			}
		}
	}
	return nil
}

// keyOf extracts the primary key attributes of an item.
func (k keySchema) keyOf(item attr.Item) attr.Item {
	out := attr.Item{k.Hash: item[k.Hash]}
	if k.Range != "" {
		out[k.Range] = item[k.Range]
	}
	return out
}
