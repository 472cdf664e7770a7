package localstack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dualread/dualread/internal/demo"
)

// ReadyBanner is the first line of the banner Up's caller prints once every
// child is ready; scripts and tests wait for it.
const ReadyBanner = "dualread local stack is up"

// StoppedLine starts the last line of a clean shutdown.
const StoppedLine = "dualread local stack stopped"

// Banner prints what runs where and how to look at it.
func (s *Stack) Banner(w io.Writer) {
	e := s.cfg.endpoints()
	rel := relTo(mustWD())
	fmt.Fprintf(w, "\n%s (Ctrl-C stops everything it started)\n\n", ReadyBanner)

	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  what\twhere\tpid\tlog")
	row := func(what, where, role string) {
		pid, log := "-", "-"
		for _, ch := range s.children {
			if ch.role == role {
				pid, log = fmt.Sprint(ch.proc.PID()), rel(ch.proc.LogPath)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", what, where, pid, log)
	}
	row("adapter (DynamoDB API)", e.Adapter, "adapter")
	row("admin API", e.Admin+"  (/modes /metrics /healthz)", "adapter")
	row("DynamoDB Local (the source)", e.DynamoDB, "dynamodb-local")
	row("kinesalite (Kinesis)", e.Kinesis+"  stream "+Stream, "kinesalite")
	row("InfluxDB 1.8", e.InfluxDB+"  database "+InfluxDatabase, "influxdb")
	row("Bigtable emulator (the store)", e.Bigtable+"  "+BigtableProject+"/"+BigtableInstance, "bigtable-emulator")
	row("audit (gRPC Ingest)", e.Audit+"  pairs in "+BigtableProject+"/"+PairsInstance, "audit")
	row("streamproc (/metrics)", e.Streamproc, "streamproc")
	if s.cfg.Bridge {
		row("kds-bridge", "DynamoDB Local streams -> "+Stream, "kds-bridge")
	} else {
		row("kds-bridge", "NOT RUNNING: this binary has no kds-bridge; nothing replicates", "")
	}
	if s.cfg.Demo {
		row("demo traffic", fmt.Sprintf("%.3g ops/s for %s", s.cfg.DemoRate, durationText(s.cfg.DemoDuration)), "demo")
	} else {
		row("demo traffic", "off (--demo=false)", "")
	}
	tw.Flush()

	fmt.Fprintf(w, `
The store: "embedded Bigtable" here is the Bigtable emulator bundled with the Cloud SDK
(or built from cloud.google.com/go/bigtable), in a process of its own because the adapter
and streamproc must share it. No cloud is involved; everything is lost when the stack stops.
Changes flow DynamoDB Local -> kds-bridge -> kinesalite -> streamproc -> Bigtable emulator;
reads through the adapter are shadowed to DynamoDB Local (sample 1.0) and compared by the audit.
DynamoDB Local's stream times are whole minutes, so replication lag_*_ms reads ~0 locally;
the audit's lag class is where lag shows.

Try it:
  export AWS_ACCESS_KEY_ID=%[1]s AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=%[2]s
  aws --endpoint-url %[3]s dynamodb list-tables
  aws --endpoint-url %[3]s dynamodb scan --table-name %[4]s --max-items 5
  aws --endpoint-url %[5]s dynamodb put-item --table-name %[4]s --item '{"sku":{"S":"mine"},"price":{"N":"1"}}'
      (written to DynamoDB Local; replicated to the adapter through the bridge and streamproc)
  curl -s %[6]s/modes; curl -s %[6]s/metrics | grep shadow
`, demo.Checkout.AccessKeyID, Region, e.Adapter, demo.CatalogTable, e.DynamoDB, e.Admin)

	if s.cfg.Demo {
		fmt.Fprintf(w, "\nThe demo injects divergences: %s's %s (missing-on-shadow) and %s (mismatch),\n"+
			"and reads that race replication (lag on %s). Its services: ", demo.CatalogTable, demo.GhostSKU, demo.DriftSKU, demo.OrdersTable)
		for i, svc := range demo.Services() {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%s (%s)", svc.Name, svc.AccessKeyID)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nInfluxDB (%s, database %s), e.g.:\n", e.InfluxDB, InfluxDatabase)
	for _, q := range ExampleQueries {
		fmt.Fprintf(w, "  curl -sG %s/query --data-urlencode db=%s --data-urlencode q=%s\n", e.InfluxDB, InfluxDatabase, shellQuote(q))
	}
	fmt.Fprintf(w, `
Audit pairs that differ (diffs kept in the pair store):
  BIGTABLE_EMULATOR_HOST=%s %s audit show --table %s --pairs-project %s --pairs-instance %s
Logs: tail -f %s/*.log   PIDs and endpoints: %s
`, e.Bigtable, rel(s.cfg.Binary), demo.CatalogTable, BigtableProject, PairsInstance, rel(s.cfg.RunDir), rel(s.statePath()))
	fmt.Fprintln(w)
}

// ExampleQueries are InfluxQL queries over what the stack writes: the
// audit's classes, latency per side, replication lag, and who calls what.
var ExampleQueries = []string{
	`SELECT sum("count") FROM "dualread_audit" WHERE time > now() - 15m GROUP BY "table","class"`,
	`SELECT max("p99_ms") FROM "dualread_latency" WHERE time > now() - 15m GROUP BY "side"`,
	`SELECT max("lag_max_ms"), sum("applied") FROM "dualread_replication" WHERE time > now() - 15m GROUP BY "table"`,
	`SELECT sum("count") FROM "access_24h"."dualread_access" WHERE time > now() - 1h GROUP BY "service","table","op"`,
}

func durationText(d time.Duration) string {
	if d <= 0 {
		return "ever"
	}
	return d.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func mustWD() string {
	wd, _ := os.Getwd()
	return wd
}

// relTo shortens paths under wd, as a user in the repository would type
// them.
func relTo(wd string) func(string) string {
	return func(p string) string {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
}
