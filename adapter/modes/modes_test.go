package modes

import (
	"context"
	"errors"
	"reflect"
	"strings"
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

// TestSpellingsAndCombinations: the spellings (serve: spanner |
// bigtable | dynamodb, shadow: dynamodb | spanner | bigtable | off) and
// "store" as an alias are accepted; impossible combinations are refused
// naming the key.
func TestSpellingsAndCombinations(t *testing.T) {
	for _, c := range []struct {
		m    Mode
		want string // "" = valid, else a substring of the error
	}{
		{Mode{Serve: "spanner", Shadow: "dynamodb", Sample: 1, Writes: "serve"}, ""},
		{Mode{Serve: "bigtable", Shadow: "off", Writes: "serve"}, ""},
		{Mode{Serve: "store", Shadow: "dynamodb", Writes: "serve"}, ""},
		{Mode{Serve: "dynamodb", Shadow: "spanner", Sample: 0.5, Writes: "dynamodb"}, ""},
		{Mode{Serve: "dynamodb", Shadow: "bigtable", Writes: "serve"}, ""},
		{Mode{Serve: "dynamodb", Shadow: "store", Writes: "dynamodb"}, ""},
		{Mode{Serve: "spanner", Shadow: "bigtable", Writes: "serve"}, "shadow: bigtable on a table served by spanner"},
		{Mode{Serve: "spanner", Shadow: "spanner", Writes: "serve"}, "shadow: \"spanner\" is the side that serves"},
		{Mode{Serve: "store", Shadow: "bigtable", Writes: "serve"}, "is the side that serves"},
		{Mode{Serve: "dynamodb", Shadow: "dynamodb", Writes: "serve"}, "shadow: dynamodb is the side that serves"},
		{Mode{Serve: "postgres", Shadow: "off", Writes: "serve"}, "serve: \"postgres\""},
		{Mode{Serve: "spanner", Shadow: "mysql", Writes: "serve"}, "shadow: \"mysql\""},
	} {
		err := c.m.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v refused: %v", c.m, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: err %v, want one containing %q", c.m, err, c.want)
		}
	}
	for _, c := range []struct {
		m       Mode
		backend string
		want    string
	}{
		{Mode{Serve: "spanner", Shadow: "dynamodb"}, "spanner", ""},
		{Mode{Serve: "bigtable", Shadow: "dynamodb"}, "embedded", ""},
		{Mode{Serve: "dynamodb", Shadow: "bigtable"}, "spanner", "shadow: bigtable, but the table lives on spanner"},
		{Mode{Serve: "spanner", Shadow: "off"}, "bigtable", "serve: spanner, but the table lives on bigtable"},
		{Mode{Serve: "store", Shadow: "off"}, "spanner", ""},
	} {
		err := c.m.CheckBackend(c.backend)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v on %s: err %v, want %q", c.m, c.backend, err, c.want)
		}
	}
}

// TestOverrideChecksPlacement: once the set knows where tables live, an
// override naming another backend is refused.
func TestOverrideChecksPlacement(t *testing.T) {
	s, err := NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPlacement(func(table string) string {
		if strings.HasPrefix(table, "orders") {
			return "spanner"
		}
		return "bigtable"
	})
	if err := s.Override("orders", Mode{Serve: "dynamodb", Shadow: "bigtable", Writes: "dynamodb"}); err == nil || !strings.Contains(err.Error(), "lives on spanner") {
		t.Errorf("shadow bigtable on a spanner table: %v", err)
	}
	if err := s.Override("orders", Mode{Serve: "dynamodb", Shadow: "spanner", Sample: 1, Writes: "dynamodb"}); err != nil {
		t.Errorf("shadow spanner on a spanner table: %v", err)
	}
}

// TestShadowPlan: which side serves and which is shadowed, per table and
// for requests over several tables.
func TestShadowPlan(t *testing.T) {
	s, err := NewSet([]Rule{
		{"default", Mode{Serve: "store", Shadow: "dynamodb", Sample: 0.5, Writes: "serve"}},
		{"full", Mode{Serve: "spanner", Shadow: "dynamodb", Sample: 1, Writes: "serve"}},
		{"fwd", Mode{Serve: "dynamodb", Shadow: "spanner", Sample: 0.2, Writes: "dynamodb"}},
		{"quiet", Mode{Serve: "store", Shadow: "off", Sample: 1, Writes: "serve"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for tables, want := range map[string]Plan{
		"other":      {Sample: 0.5, Primary: SideStore, Shadow: SideDynamoDB},
		"fwd":        {Sample: 0.2, Primary: SideDynamoDB, Shadow: SideStore},
		"quiet":      {},
		"full,other": {Sample: 0.5, Primary: SideStore, Shadow: SideDynamoDB},
		"fwd,other":  {}, // not one direction: not shadowed
		"full,quiet": {},
	} {
		if got := s.ShadowPlan(tables); got != want {
			t.Errorf("ShadowPlan(%s) = %+v, want %+v", tables, got, want)
		}
	}
}
