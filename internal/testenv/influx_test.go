package testenv

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
)

// TestInfluxDB starts one real InfluxDB 1.8 and checks, with the official
// v2 Go client, the way the adapter's audit/metrics path will use it: v2
// write API with org "" and bucket "db/autogen", read back through Flux and
// through InfluxQL.
func TestInfluxDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts InfluxDB")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := LaunchInfluxDB(ctx, "dualread")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	client := influxdb2.NewClient(s.Addr, "")
	defer client.Close()

	t.Run("write and read back", func(t *testing.T) {
		at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
		p := influxdb2.NewPoint("requests",
			map[string]string{"op": "GetItem", "backend": "bigtable"},
			map[string]any{"count": int64(7), "latency_ms": 1.5},
			at)
		if err := client.WriteAPIBlocking("", "dualread/autogen").WritePoint(ctx, p); err != nil {
			t.Fatalf("write: %v", err)
		}

		flux := `from(bucket: "dualread/autogen")
  |> range(start: -1h)
  |> filter(fn: (r) => r._measurement == "requests" and r._field == "count")`
		res, err := client.QueryAPI("").Query(ctx, flux)
		if err != nil {
			t.Fatalf("flux query: %v", err)
		}
		var got []string
		for res.Next() {
			r := res.Record()
			got = append(got, fmt.Sprintf("%s %v %v %s", r.ValueByKey("op"), r.Value(), r.Time().Equal(at), r.ValueByKey("backend")))
		}
		if err := res.Err(); err != nil {
			t.Fatalf("flux result: %v", err)
		}
		if want := []string{"GetItem 7 true bigtable"}; !slices.Equal(got, want) {
			t.Fatalf("flux read %q, want %q", got, want)
		}

		q, err := InfluxQuery(ctx, s.Addr, "dualread", `SELECT "latency_ms", "op" FROM "requests"`)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Results) != 1 || len(q.Results[0].Series) != 1 || len(q.Results[0].Series[0].Values) != 1 {
			t.Fatalf("InfluxQL answer: %+v", q)
		}
		row := q.Results[0].Series[0].Values[0]
		if len(row) != 3 || row[1] != 1.5 || row[2] != "GetItem" {
			t.Fatalf("InfluxQL row %v, want [time 1.5 GetItem]", row)
		}
	})

	t.Run("database must exist", func(t *testing.T) {
		// Why StartInfluxDB takes database names: 1.8 refuses writes to
		// a database nobody created.
		p := influxdb2.NewPoint("m", nil, map[string]any{"v": 1}, time.Now())
		if err := client.WriteAPIBlocking("", "nosuchdb/autogen").WritePoint(ctx, p); err == nil {
			t.Fatal("write to a missing database succeeded")
		}
	})

	t.Run("database names are quoted", func(t *testing.T) {
		names := []string{"select", "with space", `quote"d`, "it's", "dash-and.dot", "ünïcödé"}
		if err := CreateInfluxDatabases(ctx, s.Addr, names...); err != nil {
			t.Fatal(err)
		}
		// Idempotent: a second run (e.g. a shared instance) must not fail.
		if err := CreateInfluxDatabases(ctx, s.Addr, names...); err != nil {
			t.Fatalf("second create: %v", err)
		}
		got := showDatabases(t, ctx, s.Addr)
		for _, n := range names {
			if !slices.Contains(got, n) {
				t.Errorf("database %q missing from SHOW DATABASES %q", n, got)
			}
		}
		// InfluxDB's own name rules still apply, and the error surfaces.
		for _, bad := range []string{"", `back\slash`, "a/b"} {
			if err := CreateInfluxDatabases(ctx, s.Addr, bad); err == nil {
				t.Errorf("database name %q accepted", bad)
			}
		}
	})

	t.Run("measurement names are quoted", func(t *testing.T) {
		w := client.WriteAPIBlocking("", "dualread/autogen")
		for i, name := range []string{`odd "name" here`, `a\b`, "from"} {
			p := influxdb2.NewPoint(name, nil, map[string]any{"v": int64(i + 10)}, time.Now())
			if err := w.WritePoint(ctx, p); err != nil {
				t.Fatalf("write %q: %v", name, err)
			}
			q, err := InfluxQuery(ctx, s.Addr, "dualread", "SELECT \"v\" FROM "+QuoteInfluxIdent(name))
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Results) != 1 || len(q.Results[0].Series) != 1 || q.Results[0].Series[0].Name != name {
				t.Fatalf("measurement %q: %+v", name, q)
			}
			if v := q.Results[0].Series[0].Values; len(v) != 1 || v[0][1] != float64(i+10) {
				t.Fatalf("measurement %q values %v, want [[time %d]]", name, v, i+10)
			}
		}
	})

	t.Run("env var names a running instance", func(t *testing.T) {
		t.Setenv(EnvInfluxDBURL, s.Addr+"/")
		if got := StartInfluxDB(t, "from_env"); got != s.Addr {
			t.Fatalf("StartInfluxDB = %q, want the instance named by %s (%q)", got, EnvInfluxDBURL, s.Addr)
		}
		if !slices.Contains(showDatabases(t, ctx, s.Addr), "from_env") {
			t.Fatal("database not created on the named instance")
		}
	})

	t.Run("errors are reported", func(t *testing.T) {
		if err := InfluxQL(ctx, s.Addr, "dualread", "SELEKT nonsense"); err == nil {
			t.Error("a parse error was not reported")
		}
		if err := InfluxQL(ctx, s.Addr, "nosuchdb", `SELECT * FROM "m"`); err == nil {
			t.Error("a query on a missing database was not reported")
		}
	})

	assertStopped(t, s)
}

func showDatabases(t *testing.T, ctx context.Context, url string) []string {
	t.Helper()
	q, err := InfluxQuery(ctx, url, "", "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range q.Results {
		for _, s := range r.Series {
			for _, v := range s.Values {
				if len(v) > 0 {
					if n, ok := v[0].(string); ok {
						names = append(names, n)
					}
				}
			}
		}
	}
	return names
}
