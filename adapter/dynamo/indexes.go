package dynamo

import (
	"sort"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/store"
)

// sortedIndexes returns the table's indexes in name order, so index writes
// happen in a deterministic order.
func (t *table) sortedIndexes() []*index {
	out := make([]*index, 0, len(t.indexes))
	for _, ix := range t.indexes {
		out = append(out, ix)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// project returns what the index stores of item: the table's and the index's
// key attributes plus the projected ones.
func (ix *index) project(base keySchema, item attr.Item) attr.Item {
	if ix.all {
		return item
	}
	out := attr.Item{}
	keep := func(n string) {
		if v, ok := item[n]; ok {
			out[n] = v
		}
	}
	for _, n := range base.names() {
		keep(n)
	}
	for _, n := range ix.key.names() {
		keep(n)
	}
	for n := range ix.nonKey {
		keep(n)
	}
	return out
}

// maintainIndexes rewrites the index rows of one item inside tx, given its
// old and new versions (either may be nil). It runs in the same transaction as
// the base-row write, so indexes are never out of step with the table.
func (t *table) maintainIndexes(tx store.Txn, oldItem, newItem attr.Item, version uint64) error {
	for _, ix := range t.sortedIndexes() {
		var oldKey, newKey []byte
		if oldItem != nil {
			oldKey, _ = ix.indexRowKey(t.key, oldItem)
		}
		if newItem != nil {
			newKey, _ = ix.indexRowKey(t.key, newItem)
		}
		if oldKey != nil && (newKey == nil || string(oldKey) != string(newKey)) {
			tx.Delete(ix.space, oldKey)
		}
		if newKey != nil {
			proj := ix.project(t.key, newItem)
			if oldKey != nil && string(oldKey) == string(newKey) && attr.Equal(attr.Map(ix.project(t.key, oldItem)), attr.Map(proj)) {
				// Unchanged index row: leaving it alone keeps the write to
				// the rows that really change (fewer rows in the transaction).
				continue
			}
			raw, err := encodeRow(proj, version)
			if err != nil {
				return err
			}
			tx.Put(ix.space, newKey, raw)
		}
	}
	return nil
}

// projects reports whether the index holds attribute n.
func (ix *index) projects(base keySchema, n string) bool {
	if ix.all || ix.nonKey[n] {
		return true
	}
	for _, k := range append(base.names(), ix.key.names()...) {
		if k == n {
			return true
		}
	}
	return false
}
