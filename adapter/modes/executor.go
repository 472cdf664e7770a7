package modes

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/dualread/dualread/adapter/ddberr"
)

// Reads and Writes are the item operations modes apply to; table
// operations (CreateTable, ...) always run here.
var (
	Reads  = map[string]bool{"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true}
	Writes = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}
)

// Doer runs an operation (dynamo.Executor).
type Doer interface {
	Do(ctx context.Context, op string, body []byte) ([]byte, error)
}

// Forwarder sends an operation to DynamoDB (shadow.DynamoDB).
type Forwarder interface {
	Call(ctx context.Context, op string, body []byte) (int, []byte, error)
}

// Executor applies each table's mode in front of the local executor.
type Executor struct {
	Local    Doer
	DynamoDB Forwarder // needed by serve: dynamodb and writes: dynamodb
	Modes    *Set
	// Rejected, if set, is told of every refused write (the access audit).
	Rejected func(ctx context.Context, op string, tables []string)
}

// Do implements server.Executor.
func (e *Executor) Do(ctx context.Context, op string, body []byte) ([]byte, error) {
	read, write := Reads[op], Writes[op]
	if !read && !write || e.Modes.Trivial() {
		return e.Local.Do(ctx, op, body)
	}
	tables := TablesOf(op, body)
	if len(tables) == 0 {
		return e.Local.Do(ctx, op, body) // let the executor report the bad request
	}
	where := map[string]bool{}
	for _, t := range tables {
		m := e.Modes.For(t)
		switch {
		case write && m.Writes == "reject":
			if e.Rejected != nil {
				e.Rejected(ctx, op, tables)
			}
			return nil, ddberr.Service("AccessDeniedException", 400,
				"dualread: writes to table %s are rejected: the table is read-only during the migration (writes: reject)", t)
		case write && m.Writes == "dynamodb", read && m.Serve == "dynamodb":
			where["dynamodb"] = true
		default:
			where["store"] = true
		}
	}
	if len(where) > 1 {
		return nil, ddberr.Validation("dualread: this request spans tables served by DynamoDB and by the new store; send them separately")
	}
	if where["dynamodb"] {
		return e.forward(ctx, op, body)
	}
	return e.Local.Do(ctx, op, body)
}

// forward sends the request to DynamoDB and returns its answer as if it were
// ours: a DynamoDB error keeps its type, status and message.
func (e *Executor) forward(ctx context.Context, op string, body []byte) ([]byte, error) {
	if e.DynamoDB == nil {
		return nil, ddberr.Validation("dualread: no DynamoDB endpoint is configured to forward to")
	}
	status, resp, err := e.DynamoDB.Call(ctx, op, body)
	if err != nil {
		return nil, err
	}
	if status == 200 {
		return resp, nil
	}
	var de struct {
		Type string `json:"__type"`
		M1   string `json:"message"`
		M2   string `json:"Message"`
	}
	_ = json.Unmarshal(resp, &de)
	if de.Type == "" {
		return nil, ddberr.Internal()
	}
	return nil, &ddberr.Error{Type: de.Type, Message: de.M1 + de.M2, Status: status}
}

// TablesOf names the tables an item request addresses, sorted, unique.
func TablesOf(op string, body []byte) []string {
	var r struct {
		TableName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	seen := map[string]bool{}
	if r.TableName != "" {
		seen[r.TableName] = true
	}
	for t := range r.RequestItems {
		seen[t] = true
	}
	for _, it := range r.TransactItems {
		for _, action := range it {
			if action.TableName != "" {
				seen[action.TableName] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
