package modes

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/dualread/dualread/adapter/ddberr"
)

func TestForPrecedence(t *testing.T) {
	s, err := NewSet([]Rule{
		{"default", Mode{Serve: "store", Shadow: "dynamodb", Sample: 0.1, Writes: "reject"}},
		{"orders*", Mode{Serve: "store", Shadow: "dynamodb", Sample: 1, Writes: "dynamodb"}},
		{"orders_archive", Mode{Serve: "dynamodb", Shadow: "off", Writes: "dynamodb"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for table, from := range map[string]string{"orders_eu": "orders*", "orders_archive": "orders_archive", "users": "default"} {
		if got := s.For(table).From; got != from {
			t.Errorf("For(%s) from %s, want %s", table, got, from)
		}
	}
	if err := s.Override("users", Mode{Serve: "store", Shadow: "off", Writes: "serve"}); err != nil {
		t.Fatal(err)
	}
	if got := s.For("users"); got.From != "override" || got.Writes != "serve" {
		t.Errorf("override not applied: %+v", got)
	}
	s.Clear("users")
	if got := s.For("users").From; got != "default" {
		t.Errorf("after Clear: from %s", got)
	}
	for _, bad := range []Mode{{Serve: "x", Shadow: "off", Writes: "serve"}, {Serve: "store", Shadow: "off", Sample: 2, Writes: "serve"},
		{Serve: "store", Shadow: "off", Writes: "maybe"}, {Serve: "dynamodb", Shadow: "dynamodb", Writes: "serve"}} {
		if _, err := NewSet([]Rule{{"t", bad}}); err == nil {
			t.Errorf("mode %+v accepted", bad)
		}
	}
}

type recorder struct{ calls []string }

func (r *recorder) Do(_ context.Context, op string, _ []byte) ([]byte, error) {
	r.calls = append(r.calls, "local:"+op)
	return []byte(`{}`), nil
}

func (r *recorder) Call(_ context.Context, op string, _ []byte) (int, []byte, error) {
	r.calls = append(r.calls, "dynamodb:"+op)
	if op == "DeleteItem" {
		return 400, []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`), nil
	}
	return 200, []byte(`{}`), nil
}

func TestExecutorRoutesByMode(t *testing.T) {
	s, _ := NewSet([]Rule{
		{"ro", Mode{Serve: "store", Shadow: "off", Writes: "reject"}},
		{"fwd", Mode{Serve: "dynamodb", Shadow: "off", Writes: "dynamodb"}},
		{"default", Default},
	})
	rec := &recorder{}
	var rejected []string
	e := &Executor{Local: rec, DynamoDB: rec, Modes: s, Rejected: func(_ context.Context, op string, tables []string) {
		rejected = append(rejected, op)
	}}
	ctx := context.Background()
	do := func(op, body string) error { _, err := e.Do(ctx, op, []byte(body)); return err }

	if err := do("GetItem", `{"TableName":"ro"}`); err != nil {
		t.Fatal(err)
	}
	err := do("PutItem", `{"TableName":"ro"}`)
	var de *ddberr.Error
	if !errors.As(err, &de) || de.Name() != "AccessDeniedException" || len(rejected) != 1 {
		t.Fatalf("write to a read-only table: %v (rejected %v)", err, rejected)
	}
	if err := do("TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"other"}},{"Update":{"TableName":"ro"}}]}`); err == nil {
		t.Fatal("transaction touching a read-only table accepted")
	}
	if err := do("Query", `{"TableName":"fwd"}`); err != nil {
		t.Fatal(err)
	}
	err = do("DeleteItem", `{"TableName":"fwd"}`)
	if !errors.As(err, &de) || de.Name() != "ConditionalCheckFailedException" || de.Status != 400 {
		t.Fatalf("forwarded error not passed through: %v", err)
	}
	if err := do("BatchGetItem", `{"RequestItems":{"fwd":{},"other":{}}}`); err == nil {
		t.Fatal("batch across DynamoDB-served and store-served tables accepted")
	}
	if err := do("CreateTable", `{"TableName":"fwd"}`); err != nil {
		t.Fatal(err)
	}
	want := []string{"local:GetItem", "dynamodb:Query", "dynamodb:DeleteItem", "local:CreateTable"}
	if !reflect.DeepEqual(rec.calls, want) {
		t.Errorf("calls %v, want %v", rec.calls, want)
	}
}
