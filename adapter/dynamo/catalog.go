package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/store"
)

// The catalog keeps one record per table in its own space, keyed by table
// name, so table metadata is durable in the backend and shared by every
// adapter process. Each process caches records for CatalogTTL.
const catalogSpace = "catalog"

// tableRecord is the stored catalog entry.
type tableRecord struct {
	Desc TableDescription `json:"desc"`
	// Space holds the base rows; it is unique per creation, so a table
	// re-created under the same name never sees its predecessor's rows.
	Space string `json:"space"`
	// IndexSpaces maps index name to the space holding its rows.
	IndexSpaces map[string]string `json:"indexSpaces,omitempty"`
	TTL         *ttlSpec          `json:"ttl,omitempty"`
}

type ttlSpec struct {
	AttributeName string `json:"attributeName"`
	Enabled       bool   `json:"enabled"`
}

// table is the executor's resolved view of a record.
type table struct {
	rec     tableRecord
	name    string
	key     keySchema
	indexes map[string]*index
	ttlAttr string // "" when TTL is disabled
}

// index is a GSI or LSI.
type index struct {
	name     string
	global   bool
	key      keySchema
	proj     Projection
	space    string
	nonKey   map[string]bool // INCLUDE attributes
	keysOnly bool
	all      bool
}

func newTable(rec tableRecord) *table {
	t := &table{rec: rec, name: rec.Desc.TableName, indexes: map[string]*index{}}
	t.key = schemaOf(rec.Desc.KeySchema, rec.Desc.AttributeDefinitions)
	add := func(d IndexDescription, global bool) {
		ix := &index{name: d.IndexName, global: global, proj: d.Projection, space: rec.IndexSpaces[d.IndexName]}
		ix.key = schemaOf(d.KeySchema, rec.Desc.AttributeDefinitions)
		switch d.Projection.ProjectionType {
		case "ALL":
			ix.all = true
		case "KEYS_ONLY":
			ix.keysOnly = true
		default:
			ix.nonKey = map[string]bool{}
			for _, a := range d.Projection.NonKeyAttributes {
				ix.nonKey[a] = true
			}
		}
		t.indexes[d.IndexName] = ix
	}
	for _, d := range rec.Desc.GlobalSecondaryIndexes {
		add(d, true)
	}
	for _, d := range rec.Desc.LocalSecondaryIndexes {
		add(d, false)
	}
	if rec.TTL != nil && rec.TTL.Enabled {
		t.ttlAttr = rec.TTL.AttributeName
	}
	return t
}

type cached struct {
	t    *table
	when time.Time
}

type catalog struct {
	st  store.Store
	now func() time.Time
	ttl time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

func newCatalog(st store.Store, now func() time.Time, ttl time.Duration) *catalog {
	return &catalog{st: st, now: now, ttl: ttl, cache: map[string]cached{}}
}

// get returns the table or ResourceNotFoundException.
func (c *catalog) get(ctx context.Context, name string) (*table, error) {
	c.mu.Lock()
	ent, ok := c.cache[name]
	c.mu.Unlock()
	if ok && c.now().Sub(ent.when) < c.ttl {
		return ent.t, nil
	}
	raw, found, err := c.st.Get(ctx, catalogSpace, []byte(name))
	if err != nil {
		return nil, err
	}
	if !found {
		c.forget(name)
		return nil, errNoTable()
	}
	var rec tableRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, err
	}
	t := newTable(rec)
	c.mu.Lock()
	c.cache[name] = cached{t, c.now()}
	c.mu.Unlock()
	return t, nil
}

func (c *catalog) forget(name string) {
	c.mu.Lock()
	delete(c.cache, name)
	c.mu.Unlock()
}

// put writes a record inside a transaction.
func putRecord(tx store.Txn, rec tableRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tx.Put(catalogSpace, []byte(rec.Desc.TableName), raw)
	return nil
}

// getRecord reads a record inside a transaction.
func getRecord(ctx context.Context, tx store.Txn, name string) (*tableRecord, error) {
	raw, found, err := tx.Get(ctx, catalogSpace, []byte(name))
	if err != nil || !found {
		return nil, err
	}
	var rec tableRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// list returns table names after exclusiveStart, in name order.
func (c *catalog) list(ctx context.Context, exclusiveStart string, limit int) ([]string, bool, error) {
	var start []byte
	if exclusiveStart != "" {
		start = append([]byte(exclusiveStart), 0)
	}
	var names []string
	more := false
	for row, err := range c.st.Scan(ctx, catalogSpace, store.Range{Start: start, Limit: limit + 1}) {
		if err != nil {
			return nil, false, err
		}
		if len(names) == limit {
			more = true
			break
		}
		names = append(names, string(row.Key))
	}
	return names, more, nil
}

func errNoTable() error {
	return ddberr.ResourceNotFound("Cannot do operations on a non-existent table")
}

// spacePrefix returns the placement prefix a space name was made with
// (everything up to and including the last "__"), or "".
func spacePrefix(space string) string {
	if i := strings.LastIndex(space, "__"); i >= 0 {
		return space[:i+2]
	}
	return ""
}

// newSpaceName makes a fresh space name: a prefix, a letter and 16 hex digits.
func newSpaceName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// KeyNames returns a table's primary-key attribute names (hash, then range),
// for the audit's item alignment; nil for an unknown table.
func (e *Executor) KeyNames(ctx context.Context, table string) []string {
	t, err := e.catalog.get(ctx, table)
	if err != nil {
		return nil
	}
	return t.key.names()
}
