package verify

import (
	"bytes"
	"crypto/sha256"
	"hash/fnv"
	"sort"

	"github.com/dualread/dualread/adapter/attr"
)

// canonical returns v with every set sorted (recursively), so two answers
// that differ only in set order, which DynamoDB leaves unspecified, digest
// alike. Numbers are already canonical once decoded by attr.
func canonical(v attr.Value) attr.Value {
	switch v.Type {
	case attr.SS:
		ss := append([]string(nil), v.SS...)
		sort.Strings(ss)
		return attr.StrSet(ss)
	case attr.NS:
		ns := append([]string(nil), v.SS...)
		sort.Slice(ns, func(i, j int) bool { return attr.CompareNumbers(ns[i], ns[j]) < 0 })
		return attr.NumSet(ns)
	case attr.BS:
		bs := append([][]byte(nil), v.BS...)
		sort.Slice(bs, func(i, j int) bool { return bytes.Compare(bs[i], bs[j]) < 0 })
		return attr.BinSet(bs)
	case attr.M:
		m := make(map[string]attr.Value, len(v.M))
		for k, e := range v.M {
			m[k] = canonical(e)
		}
		return attr.Map(m)
	case attr.L:
		l := make([]attr.Value, len(v.L))
		for i, e := range v.L {
			l[i] = canonical(e)
		}
		return attr.List(l)
	}
	return v
}

// canonicalItem is the item with every value canonical.
func canonicalItem(it attr.Item) attr.Item {
	c := make(attr.Item, len(it))
	for k, v := range it {
		c[k] = canonical(v)
	}
	return c
}

// canonicalJSON is the item's canonical DynamoDB JSON (attr sorts map keys).
func canonicalJSON(it attr.Item) []byte {
	b, _ := canonicalItem(it).MarshalJSON()
	return b
}

// digest is a SHA-256 of the item's canonical JSON.
func digest(it attr.Item) [32]byte { return sha256.Sum256(canonicalJSON(it)) }

// keyOf is the item's primary key in the order-preserving key encoding:
// stable across sides whatever the number spelling.
func keyOf(it attr.Item, hash, rng string) string {
	k := attr.EncodeKey(nil, it[hash])
	if rng != "" {
		k = attr.EncodeKey(k, it[rng])
	}
	return string(k)
}

// bucketOf spreads keys over n buckets.
func bucketOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}
