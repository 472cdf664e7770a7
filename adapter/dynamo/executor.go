// Package dynamo is the executor: every DynamoDB operation, written once
// against the narrow store.Store interface, so all backends share the same
// semantics (validation, expressions, conditions, pagination, indexes,
// transactions). The protocol layer (package server) hands it an operation
// name and the request JSON; it returns the response JSON or a *ddberr.Error.
package dynamo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/store"
)

// Options tune an Executor. The zero value is usable.
type Options struct {
	// Region appears in ARNs and DescribeEndpoints.
	Region string
	// Logger receives internal errors; defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock (item versions, TTL, timestamps); defaults to time.Now.
	Now func() time.Time
	// CatalogTTL bounds how long a table description may be served from this
	// process's cache after another process changed it. Defaults to 1s.
	CatalogTTL time.Duration
	// Placement returns the space-name prefix that puts a new table's spaces
	// on its backend (route.Prefix("spanner"), say); nil or "" means the
	// store's home backend. It is consulted only when a table is created:
	// the spaces keep their names, so a table stays where it was created.
	Placement func(table string) string
}

// Executor runs DynamoDB operations against one store.
type Executor struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	catalog *catalog
	ops     map[string]opFunc
}

type opFunc func(ctx context.Context, body []byte) (any, error)

// New returns an executor over st. It creates the catalog space if missing.
func New(ctx context.Context, st store.Store, opts Options) (*Executor, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CatalogTTL == 0 {
		opts.CatalogTTL = time.Second
	}
	if opts.Placement == nil {
		opts.Placement = func(string) string { return "" }
	}
	if err := st.CreateSpace(ctx, catalogSpace); err != nil {
		return nil, err
	}
	e := &Executor{st: st, opts: opts, log: opts.Logger}
	e.catalog = newCatalog(st, opts.Now, opts.CatalogTTL)
	e.ops = map[string]opFunc{
		"CreateTable":        handler(e.createTable),
		"DescribeTable":      handler(e.describeTable),
		"ListTables":         handler(e.listTables),
		"DeleteTable":        handler(e.deleteTable),
		"UpdateTable":        handler(e.updateTable),
		"DescribeTimeToLive": handler(e.describeTTL),
		"UpdateTimeToLive":   handler(e.updateTTL),
		"DescribeEndpoints":  handler(e.describeEndpoints),
		"GetItem":            handler(e.getItem),
		"PutItem":            handler(e.putItem),
		"UpdateItem":         handler(e.updateItem),
		"DeleteItem":         handler(e.deleteItem),
		"Query":              handler(e.query),
		"Scan":               handler(e.scan),
		"BatchGetItem":       handler(e.batchGetItem),
		"BatchWriteItem":     handler(e.batchWriteItem),
		"TransactGetItems":   handler(e.transactGetItems),
		"TransactWriteItems": handler(e.transactWriteItems),
	}
	return e, nil
}

// Do runs one operation. Errors are *ddberr.Error for anything a client
// should see; other errors are internal (the protocol layer answers 500).
func (e *Executor) Do(ctx context.Context, op string, body []byte) ([]byte, error) {
	f, ok := e.ops[op]
	if !ok {
		return nil, ddberr.UnknownOperation()
	}
	resp, err := f(ctx, body)
	if err != nil {
		return nil, e.publicError(err)
	}
	return encodeResponse(resp)
}

// encodeResponse renders a response without encoding/json's HTML escaping of
// <, > and &, which DynamoDB does not do.
func encodeResponse(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// publicError keeps DynamoDB errors and turns store conflicts into DynamoDB's
// own conflict error; anything else is logged by the caller's layer as internal.
func (e *Executor) publicError(err error) error {
	var de *ddberr.Error
	switch {
	case errors.As(err, &de):
		return de
	case errors.Is(err, store.ErrConflict):
		return ddberr.Dynamo("TransactionConflictException", "Transaction is ongoing for the item")
	case errors.Is(err, store.ErrCrossBackend):
		return ddberr.Validation("Transactions across tables kept on different backends (Spanner and Bigtable) are not supported; route these tables to one backend")
	}
	if de := attrError(err); de != nil {
		return de
	}
	return err
}

// attrError maps the attr package's decoding and validation errors to
// DynamoDB's; nil when err is none of them.
func attrError(err error) *ddberr.Error {
	var se *attr.SerializationError
	if errors.As(err, &se) {
		return ddberr.Serialization("%s", se.Msg)
	}
	var ve *attr.ValidationError
	if errors.As(err, &ve) {
		return ddberr.Validation("%s", ve.Msg)
	}
	var ne *attr.NumberError
	if errors.As(err, &ne) {
		return ddberr.Validation("%s", ne.Msg)
	}
	return nil
}

// handler adapts a typed operation to opFunc, decoding the request body.
func handler[Req any](f func(ctx context.Context, req *Req) (any, error)) opFunc {
	return func(ctx context.Context, body []byte) (any, error) {
		req := new(Req)
		if err := decodeRequest(body, req); err != nil {
			return nil, err
		}
		return f(ctx, req)
	}
}

// decodeRequest parses the JSON body. Attribute value problems are validation
// errors; JSON that does not fit the request shape is a serialization error,
// as in DynamoDB.
func decodeRequest(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	if de := attrError(err); de != nil {
		return de
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ddberr.Serialization("Unexpected value type in payload")
	}
	return ddberr.Serialization("Start of structure or map found where not expected")
}
