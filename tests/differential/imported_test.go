package differential

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/schema"
	"github.com/dualread/dualread/internal/testenv"
)

// TestDifferentialOnImportedSchema creates the workload's tables (GSI, LSI,
// every key type) on DynamoDB Local only, copies their definitions to the
// adapter with schema.Import, and runs the differential workload on them.
func TestDifferentialOnImportedSchema(t *testing.T) {
	other := env.Counterpart(t)
	if other.Kind != testenv.KindAdapter {
		t.Skip("imports into the adapter; none is configured")
	}
	r := &Runner{A: testenv.NewRawClient(env.Oracle()), B: testenv.NewRawClient(other.Endpoint)}
	tables := Tables(uniquePrefix(t))
	createTables(t, r.A, tables)
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	ctx := context.Background()
	steps, err := schema.Import(ctx, testenv.Client(env.Oracle()), httpTarget{r.B}, schema.Options{Tables: names})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Action != schema.Create {
			t.Fatalf("%s: %s, want create", s.Table, s.Action)
		}
		name := s.Table
		t.Cleanup(func() { r.B.Do(context.Background(), "DeleteTable", []byte(`{"TableName":"`+name+`"}`)) })
	}
	seed, ops := settings()
	ops = min(ops, 500)
	s := runSequence(t, r, NewGen(seed, tables), ops, func(i int, op Op, res Result) {
		t.Errorf("%s", report(seed, i, op, res))
	})
	if s.differing > 0 {
		t.Errorf("seed=%d: %d of %d operations differed on the imported tables", seed, s.differing, ops)
	}
}

// httpTarget runs schema.Import's operations over HTTP.
type httpTarget struct{ c *testenv.RawClient }

func (h httpTarget) Do(ctx context.Context, op string, body []byte) ([]byte, error) {
	r, err := h.c.Do(ctx, op, body)
	if err != nil {
		return nil, err
	}
	if r.Status == 200 {
		return r.Body, nil
	}
	var e struct {
		Type string `json:"__type"`
		M1   string `json:"message"`
		M2   string `json:"Message"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return nil, &ddberr.Error{Type: e.Type, Message: e.M1 + e.M2, Status: r.Status}
}
