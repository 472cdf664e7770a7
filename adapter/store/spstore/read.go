package spstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"cloud.google.com/go/spanner"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"

	"github.com/dualread/dualread/adapter/store"
)

func checkKey(key []byte) error {
	if len(key) == 0 || len(key) > maxKey {
		return fmt.Errorf("spstore: key length %d outside 1..%d bytes", len(key), maxKey)
	}
	return nil
}

// isNoTable says whether err is Spanner's answer to a read, query or commit
// that names a missing table: NotFound from the read API and commits,
// InvalidArgument from SQL (the query does not compile), both with "Table not
// found: <name>". Row-not-found has code NotFound too, and so would a
// missing database or session, hence the message check.
func isNoTable(err error) bool {
	switch spanner.ErrCode(err) {
	case codes.NotFound, codes.InvalidArgument:
		return !errors.Is(err, spanner.ErrRowNotFound) &&
			strings.Contains(strings.ToLower(spanner.ErrDesc(err)), "table not found")
	}
	return false
}

// dataErr maps a data error: a missing table is a missing space.
func dataErr(space string, err error) error {
	if isNoTable(err) {
		return fmt.Errorf("spstore: space %s: %w", space, store.ErrNoSpace)
	}
	return fmt.Errorf("spstore: space %s: %w", space, err)
}

var valueCols = []string{colValue}

// Get is a strong read of one key: a single-use read-only transaction,
// which reads at a timestamp after every commit that finished before it.
func (s *Store) Get(ctx context.Context, space string, key []byte) ([]byte, bool, error) {
	if err := checkSpace(space); err != nil {
		return nil, false, err
	}
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	return readValue(ctx, s.client.Single(), space, key)
}

// reader is what Get needs of a transaction (read-only or read-write).
type reader interface {
	ReadRow(ctx context.Context, table string, key spanner.Key, columns []string) (*spanner.Row, error)
}

func readValue(ctx context.Context, r reader, space string, key []byte) ([]byte, bool, error) {
	row, err := r.ReadRow(ctx, tableFor(space), spanner.Key{key}, valueCols)
	if errors.Is(err, spanner.ErrRowNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dataErr(space, err)
	}
	var v []byte
	if err := row.Columns(&v); err != nil {
		return nil, false, fmt.Errorf("spstore: space %s: decode value: %w", space, err)
	}
	if v == nil {
		v = []byte{} // present with an empty value: never nil, so callers need not care
	}
	return v, true, nil
}

// Scan reads [r.Start, r.End) in one single-use read-only transaction, so
// unlike btstore's Scan it is a consistent snapshot of the whole range.
// Forward scans use the read API on a key range; reverse scans use SQL with
// ORDER BY k DESC, which the read API cannot express. Rows stream from the
// server as the consumer pulls them; stopping early stops the stream.
func (s *Store) Scan(ctx context.Context, space string, r store.Range) iter.Seq2[store.Row, error] {
	return func(yield func(store.Row, error) bool) {
		if err := checkSpace(space); err != nil {
			yield(store.Row{}, err)
			return
		}
		if r.Start != nil && r.End != nil && bytes.Compare(r.Start, r.End) >= 0 {
			return // empty or inverted: nothing, without a round trip
		}
		var it *spanner.RowIterator
		if r.Reverse {
			it = s.client.Single().Query(ctx, reverseQuery(space, r))
		} else {
			it = s.client.Single().ReadWithOptions(ctx, tableFor(space), keyRange(r),
				[]string{colKey, colValue}, &spanner.ReadOptions{Limit: max(r.Limit, 0)})
		}
		defer it.Stop()
		for {
			row, err := it.Next()
			if err == iterator.Done {
				return
			}
			if err != nil {
				yield(store.Row{}, dataErr(space, err))
				return
			}
			var k, v []byte
			if err := row.Columns(&k, &v); err != nil {
				yield(store.Row{}, fmt.Errorf("spstore: space %s: decode row: %w", space, err))
				return
			}
			if v == nil {
				v = []byte{}
			}
			if !yield(store.Row{Key: k, Value: v}, nil) {
				return
			}
		}
	}
}

// keyRange is [Start, End) as a Spanner key range. An empty key is a prefix
// of every key, so Key{} closed at the start is "from the first key" and
// closed at the end is "through the last key".
func keyRange(r store.Range) spanner.KeySet {
	kr := spanner.KeyRange{Start: spanner.Key{}, End: spanner.Key{}, Kind: spanner.ClosedClosed}
	if r.Start != nil {
		kr.Start = spanner.Key{r.Start}
	}
	if r.End != nil {
		kr.End = spanner.Key{r.End}
		kr.Kind = spanner.ClosedOpen
	}
	return kr
}

func reverseQuery(space string, r store.Range) spanner.Statement {
	var where []string
	params := map[string]any{}
	if r.Start != nil {
		where = append(where, colKey+" >= @start")
		params["start"] = r.Start
	}
	if r.End != nil {
		where = append(where, colKey+" < @end")
		params["end"] = r.End
	}
	sql := fmt.Sprintf("SELECT %s, %s FROM %s", colKey, colValue, tableFor(space))
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY " + colKey + " DESC"
	if r.Limit > 0 {
		sql += " LIMIT @limit"
		params["limit"] = int64(r.Limit)
	}
	return spanner.Statement{SQL: sql, Params: params}
}
