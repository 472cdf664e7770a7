package influxql_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dualread/dualread/internal/influxql"
	"github.com/dualread/dualread/internal/testenv"
)

// TestQuery reads back a point written with line protocol, with a tag
// value that needs quoting, and reports statement errors as errors.
func TestQuery(t *testing.T) {
	url := testenv.StartInfluxDB(t, "db")
	ctx := context.Background()
	resp, err := http.Post(url+"/write?db=db", "text/plain", strings.NewReader(`m,table=it's\ odd v=3i`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: HTTP %d", resp.StatusCode)
	}
	c := influxql.Client{URL: url, Database: "db"}
	ss, err := c.Query(ctx, `SELECT sum("v") FROM "m" WHERE "table" = `+influxql.String("it's odd"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || len(ss[0].Values) != 1 || ss[0].Values[0][1] != float64(3) {
		t.Fatalf("series %+v, want one row with 3", ss)
	}
	if _, err := c.Query(ctx, `SELECT FROM nothing`); err == nil || !strings.Contains(err.Error(), "InfluxDB") {
		t.Fatalf("bad statement: err %v", err)
	}
	if _, err := (influxql.Client{URL: url, Database: "absent"}).Query(ctx, `SELECT * FROM m`); err == nil {
		t.Fatal("a missing database is not an error")
	}
}
