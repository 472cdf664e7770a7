package audit_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/adapter/server"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/access"
	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/internal/testenv"
)

const (
	tDiv   = "divergence" // the eight injected divergences and the lagging copy
	tEq    = "equal"      // equal data, spelled, ordered and scanned differently
	tNoisy = "noisy"      // an attribute a writer changes continuously in DynamoDB
	tFwd   = "forwarded"  // served by DynamoDB, shadowed by the store
	header = "X-Dualread-Service"
	// lagDelay exceeds the 2 s after which the lagging item is copied, with
	// room for a loaded machine.
	lagDelay = 4 * time.Second
)

// want is what one read through the adapter must become in the audit.
type want struct {
	what  string
	id    string // request id = record id = Pub/Sub message id
	table string
	op    string
	class diff.Class
	// path: every op of the published patch (Count and ScannedCount
	// aside) is at path or below it, or at noise; at least one is at path.
	path string
	// noise is the GetItem path the pair also differs at, which the
	// calibration must name as noise.
	noise string
}

// TestDivergencesThroughAdapter is issue 4's proof through the adapter:
// the adapter (embedded Bigtable emulator as primary) serves reads from
// aws-sdk-go-v2 clients, DynamoDB Local is the shadow, an audit service
// writes to a real InfluxDB 1.8 and publishes to Pub/Sub (pstest). The
// eight divergence kinds are written differently to both sides and each is
// read back from InfluxDB (per-class counts) and from a Pub/Sub
// subscription (class and diff path); equal data differing only in Scan
// order, set order and number spelling gives zero mismatches; a copy made
// 2 s after the DynamoDB write is lag; an attribute a writer changes
// continuously is calibrated as noise and suppressed while a real
// difference beside it stays a mismatch; a table served by DynamoDB is
// shadowed by the store; and the access audit names callers by the
// service header where their key is not mapped.
func TestDivergencesThroughAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and InfluxDB")
	}
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)
	var ddbURL, influxURL, btAddr string
	var wg sync.WaitGroup
	wg.Go(func() { ddbURL = testenv.StartDynamoDBLocal(t) })
	wg.Go(func() { btAddr = testenv.StartBigtableEmulator(t) })
	influxURL = testenv.StartInfluxDB(t, "dualread")
	wg.Wait()
	if ddbURL == "" || btAddr == "" {
		t.Fatal("no DynamoDB Local or Bigtable emulator")
	}
	pairs := pairStore(t, btAddr)
	if err := access.EnsureRetention(ctx, influxURL, "dualread"); err != nil {
		t.Fatal(err)
	}
	psrv := testenv.NewPubSub(t)
	psc, topic, sub := newTopic(t, ctx, psrv)

	// The adapter: every table served by the store and shadowed by
	// DynamoDB at sample 1, but tFwd, served by DynamoDB and shadowed by
	// the store (writes applied here, so the test can seed the store).
	caller := shadow.NewDynamoDB(ddbURL, testenv.Region, credentials.NewStaticCredentialsProvider("shadow", "secret", ""))
	set, err := modes.NewSet([]modes.Rule{
		{Pattern: "default", Mode: modes.Mode{Serve: "bigtable", Shadow: "dynamodb", Sample: 1, Writes: "serve"}},
		{Pattern: tFwd, Mode: modes.Mode{Serve: "dynamodb", Shadow: "bigtable", Sample: 1, Writes: "serve"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := server.NewCredentials(server.Credential{AccessKeyID: "AKIDMAPPED", Secret: "secret", Service: "orders-api"})
	if err != nil {
		t.Fatal(err)
	}
	counter := access.NewCounter()
	late := &forward{}
	a, err := adapter.Open(ctx, adapter.Config{Modes: set, DynamoDB: caller, Access: counter,
		Server: server.Options{Credentials: creds, ServiceHeader: header},
		Shadow: &adapter.ShadowConfig{Caller: caller, Sink: late, Limits: shadow.Config{RatePerSec: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	set.SetPlacement(a.BackendFor)

	influx := sink.NewInflux(sink.InfluxConfig{URL: influxURL, Bucket: "dualread/autogen", Interval: 500 * time.Millisecond})
	svc, err := audit.NewService(audit.Config{LagDelay: lagDelay,
		// Every pair calibrated; the two reads 80 ms apart, so the writer's
		// updates land between them even on a loaded machine; a table's
		// paths can be noise after 10 calibrations, well within lagDelay.
		NoiseSample: 1, NoiseGap: 80 * time.Millisecond, NoiseMinReads: 10,
		Rereader: shadow.Rereader{Store: shadow.ExecutorCaller{Exec: a.Executor}, StoreBackend: a.BackendFor, DynamoDB: caller}},
		influx, sink.NewPubSub(psc, topic), pairs)
	if err != nil {
		t.Fatal(err)
	}
	late.to = shadow.AuditSink{Submitter: svc, Keys: func(tb string) []string { return a.Executor.KeyNames(ctx, tb) }}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	// app names itself by header (its key is not mapped); mapped's key is
	// mapped to orders-api, which wins over its header; plain sends none.
	app := sdkClient(srv.URL, "AKIDAPP", header, "checkout")
	mapped := sdkClient(srv.URL, "AKIDMAPPED", header, "checkout")
	plain := sdkClient(srv.URL, "AKIDPLAIN", "", "")
	ddb := testenv.Client(ddbURL)

	for _, c := range []*dynamodb.Client{app, ddb} {
		createTable(t, c, tDiv, true)
		createTable(t, c, tEq, true)
		createTable(t, c, tNoisy, false)
		createTable(t, c, tFwd, false)
	}
	// Noise first, so its calibrations do not queue behind the others'.
	wants, stopWriter := noise(t, app, ddb, svc)
	wants = append(wants, divergences(t, app, ddb)...)
	wants = append(wants, equalities(t, app, mapped, plain, ddb)...)
	wants = append(wants, forwarded(t, app, ddb)...)

	// Every sampled read has reached the audit; Close then diffs, waits out
	// the re-reads, and flushes InfluxDB and Pub/Sub.
	deadline := time.Now().Add(30 * time.Second)
	for st := a.Shadower.Stats(); st.Sent+st.Failed+st.Dropped+st.RateLimited+st.ShedByBreaker < st.Sampled; st = a.Shadower.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("shadow reads still pending: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := a.Shadower.Stats(); st.Sampled != int64(len(wants)) || st.Sent != st.Sampled {
		t.Fatalf("shadow stats %+v: want all %d reads shadowed", st, len(wants))
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	stopWriter()
	st := svc.Stats()
	t.Logf("audit stats %+v; noise on %s: %+v", st, tNoisy, svc.NoiseRates(tNoisy))

	t.Run("InfluxDB counts per table, operation and class", func(t *testing.T) {
		wantCounts := map[string]int{}
		for _, w := range wants {
			wantCounts[w.table+" "+w.op+" "+string(w.class)]++
		}
		got := influxCounts(t, influxURL, "dualread", `SELECT sum("count") FROM "dualread_audit" GROUP BY "table", "op", "class"`, "table", "op", "class")
		for _, tb := range []string{tDiv, tEq, tNoisy, tFwd} {
			for k, n := range got {
				if strings.HasPrefix(k, tb+" ") && wantCounts[k] != n {
					t.Errorf("InfluxDB %s = %d, want %d", k, n, wantCounts[k])
				}
			}
		}
		for k, n := range wantCounts {
			if got[k] != n {
				t.Errorf("InfluxDB %s = %d, want %d", k, got[k], n)
			}
		}
		for k := range got {
			if strings.HasPrefix(k, tEq+" ") && !strings.HasSuffix(k, " match") {
				t.Errorf("equal data gave %s in InfluxDB", k)
			}
		}
	})

	t.Run("Pub/Sub mismatch records", func(t *testing.T) {
		byID := map[string]want{}
		for _, w := range wants {
			if w.class.Diverges() {
				byID[w.id] = w
			}
		}
		if n := len(psrv.Messages()); n != len(byID) {
			t.Errorf("%d messages published, want %d (the diverging reads)", n, len(byID))
		}
		got := receive(t, psc, sub, len(byID))
		for id, w := range byID {
			p, ok := got[id]
			if !ok {
				t.Errorf("%s (%s): no Pub/Sub record", w.what, id)
				continue
			}
			if p.pair.Class != w.class || p.attrs["class"] != string(w.class) || p.pair.Table != w.table || p.pair.Operation != w.op {
				t.Errorf("%s: published %s %s %s (attribute class %s), want %s %s %s", w.what, p.pair.Table, p.pair.Operation, p.pair.Class, p.attrs["class"], w.table, w.op, w.class)
			}
			checkPath(t, w, p)
			if p.rec.Service != "checkout" {
				t.Errorf("%s: record names service %q, want the header's checkout", w.what, p.rec.Service)
			}
			if w.table == tFwd && (p.rec.Primary.Backend != "dynamodb" || p.rec.Shadow.Backend != "bigtable") {
				t.Errorf("%s: primary %q shadow %q, want dynamodb and bigtable", w.what, p.rec.Primary.Backend, p.rec.Shadow.Backend)
			}
		}
		for id, p := range got {
			if _, ok := byID[id]; !ok {
				t.Errorf("unexpected Pub/Sub record %s %s %s %s patch %v", id, p.pair.Table, p.pair.Operation, p.pair.Class, p.pair.Patch)
			}
		}
	})

	t.Run("pair store (audit show)", func(t *testing.T) {
		for _, tb := range []string{tDiv, tNoisy, tFwd} {
			list, err := pairs.List(ctx, tb, start)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]diff.Class{}
			for _, p := range list {
				got[p.Record.GetId()] = p.Class
				if p.Class == diff.Suppressed && (p.Initial != diff.Mismatch || fmt.Sprint(p.Noise) != "[/tick/N]") {
					t.Errorf("suppressed pair %s: initial %s, noise %v; want mismatch, [/tick/N]", p.Record.GetId(), p.Initial, p.Noise)
				}
			}
			wantKept := map[string]diff.Class{}
			for _, w := range wants {
				if w.table == tb && (w.class.Diverges() || w.class == diff.Lag || w.class == diff.Suppressed) {
					wantKept[w.id] = w.class
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(wantKept) {
				t.Errorf("pair store for %s: %v, want %v", tb, got, wantKept)
			}
		}
	})

	t.Run("service stats", func(t *testing.T) {
		n := map[diff.Class]int64{}
		for _, w := range wants {
			n[w.class]++
		}
		for _, c := range diff.Classes {
			if st.Classes[c] != n[c] {
				t.Errorf("class %s: service counted %d, want %d", c, st.Classes[c], n[c])
			}
		}
		if st.Calibrations < 10 || st.Sinks["influxdb"].Errors != 0 || st.Sinks["pubsub"].Dropped != 0 {
			t.Errorf("stats %+v: want calibrations and no sink losses", st)
		}
		r := svc.NoiseRates(tNoisy)
		if tick := r["/tick/N"]; tick.ReadsDiffering == 0 || r["/v/S"].ReadsDiffering != 0 {
			t.Errorf("noise rates %+v: want /tick/N noisy, /v/S never", r)
		}
	})

	t.Run("access counts carry the service header", func(t *testing.T) {
		ic := influxdb2.NewClient(influxURL, "")
		defer ic.Close()
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			access.Run(rctx, counter, ic.WriteAPIBlocking("", "dualread/"+access.RetentionPolicy), time.Hour, nil)
			close(done)
		}()
		cancel() // Run flushes once more on the way out
		<-done
		got := influxCounts(t, influxURL, "dualread",
			`SELECT sum("count") FROM "`+access.RetentionPolicy+`"."dualread_access" WHERE "kind" = 'read' GROUP BY "service", "table", "op"`,
			"service", "table", "op")
		wantReads := map[string]int{}
		for _, w := range wants {
			svcName := "checkout"
			switch w.what {
			case "mapped key":
				svcName = "orders-api"
			case "no header":
				svcName = "AKIDPLAIN"
			}
			wantReads[svcName+" "+w.table+" "+w.op]++
		}
		for k, n := range wantReads {
			if got[k] != n {
				t.Errorf("access reads %s = %d, want %d (all %v)", k, got[k], n, got)
			}
		}
		if len(got) != len(wantReads) {
			t.Errorf("access reads %v, want exactly %v", got, wantReads)
		}
	})
}

// checkPath: the published patch differs at w.path and nowhere else
// (Count and ScannedCount follow from items and are left out).
func checkPath(t *testing.T, w want, p published) {
	t.Helper()
	at := 0
	for _, op := range p.pair.Patch {
		switch {
		case op.Path == "/Count" || op.Path == "/ScannedCount":
		case op.Path == w.path || strings.HasPrefix(op.Path, w.path+"/"):
			at++
		case w.noise != "" && op.Path == "/Item"+w.noise:
		default:
			t.Errorf("%s: patch op %s %s outside %s", w.what, op.Type, op.Path, w.path)
		}
	}
	if at == 0 {
		t.Errorf("%s: published without a difference at %s (patch %v)", w.what, w.path, p.pair.Patch)
	}
	wantNoise := []string(nil)
	if w.noise != "" {
		wantNoise = []string{w.noise}
	}
	if fmt.Sprint(p.pair.Noise) != fmt.Sprint(wantNoise) {
		t.Errorf("%s: noise paths %v, want %v", w.what, p.pair.Noise, wantNoise)
	}
}

func key(pk string) map[string]types.AttributeValue { return item("pk", "S:"+pk, "sk", "S:1") }

// divergences writes the eight kinds differently to the adapter (store)
// and DynamoDB Local, reads each through the adapter with a different
// operation, and a lagging copy.
func divergences(t *testing.T, app, ddb *dynamodb.Client) []want {
	ctx := context.Background()
	both := func(primary, shadow map[string]types.AttributeValue) {
		if primary != nil {
			put(t, app, tDiv, primary)
		}
		if shadow != nil {
			put(t, ddb, tDiv, shadow)
		}
	}
	with := func(pk string, kv ...any) map[string]types.AttributeValue {
		return item(append([]any{"pk", "S:" + pk, "sk", "S:1"}, kv...)...)
	}
	nested := func(n string) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": av("N:" + n), "c": av("S:same")}}}}
	}
	list := func(a, b string) types.AttributeValue {
		return &types.AttributeValueMemberL{Value: []types.AttributeValue{av("S:" + a), av("S:" + b)}}
	}
	both(nil, with("missing", "v", "S:x"))                                     // missing item
	both(with("extra", "v", "S:x"), nil)                                       // extra item
	both(with("changed", "v", "S:x"), with("changed", "v", "S:y"))             // changed value
	both(with("ntype", "v", "N:1"), with("ntype", "v", "S:1"))                 // N vs S
	both(with("nested", "m", nested("1")), with("nested", "m", nested("2")))   // nested map change
	both(with("set", "s", "SS:a,b"), with("set", "s", "SS:a,c"))               // set element
	both(with("list", "l", list("p", "q")), with("list", "l", list("q", "p"))) // list order
	both(with("precision", "n", "N:0.1"), with("precision", "n", "N:0.10000000000000000000000000000000000001"))

	id := func(pk string) string { return fmt.Sprintf(`{"S":%q},{"S":"1"}`, pk) }
	var out []want
	get := func(what, pk string, class diff.Class, path string) {
		o, err := app.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tDiv), Key: key(pk)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, want{what: what, id: requestID(t, o.ResultMetadata), table: tDiv, op: "GetItem", class: class, path: path})
	}
	query := func(what, pk string, class diff.Class, path string) {
		o, err := app.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tDiv), KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": av("S:" + pk)}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, want{what: what, id: requestID(t, o.ResultMetadata), table: tDiv, op: "Query", class: class, path: path})
	}
	get("missing item", "missing", diff.MissingOnPrimary, "/Item")
	query("extra item", "extra", diff.MissingOnShadow, "/Items/"+id("extra"))
	sc, err := app.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tDiv), FilterExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": av("S:changed")}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "changed value", id: requestID(t, sc.ResultMetadata), table: tDiv, op: "Scan", class: diff.Mismatch, path: "/Items/" + id("changed") + "/v/S"})
	bg, err := app.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{tDiv: {Keys: []map[string]types.AttributeValue{key("ntype")}}}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "N vs S", id: requestID(t, bg.ResultMetadata), table: tDiv, op: "BatchGetItem", class: diff.Mismatch, path: "/Responses/" + tDiv + "/" + id("ntype") + "/v"})
	tg, err := app.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{{Get: &types.Get{TableName: aws.String(tDiv), Key: key("nested")}}}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "nested map change", id: requestID(t, tg.ResultMetadata), table: tDiv, op: "TransactGetItems", class: diff.Mismatch, path: "/Responses/0/Item/m/M/a/M/b/N"})
	get("set element", "set", diff.Mismatch, "/Item/s/SS")
	query("list order", "list", diff.Mismatch, "/Items/"+id("list")+"/l/L")
	get("number precision", "precision", diff.Mismatch, "/Item/n/N")

	// Written to DynamoDB, read at once (the primary lacks it), copied to
	// the primary 2 s later: the re-read after lagDelay agrees, so lag.
	put(t, ddb, tDiv, with("late", "v", "S:z"))
	get("delayed copy", "late", diff.Lag, "")
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		time.Sleep(2 * time.Second)
		if _, err := app.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tDiv), Item: with("late", "v", "S:z")}); err != nil {
			t.Errorf("late copy: %v", err)
		}
	}()
	t.Cleanup(func() { <-copied })
	return out
}

// equalities: the same data on both sides, differing only in how it was
// written (number spelling, set order) and how it comes back (Scan order):
// every read must be a match.
func equalities(t *testing.T, app, mapped, plain, ddb *dynamodb.Client) []want {
	ctx := context.Background()
	for i := range 12 {
		pk := fmt.Sprintf("e%02d", i)
		put(t, app, tEq, item("pk", "S:"+pk, "sk", "S:1", "n", "N:1.50", "big", "N:100", "tags", "SS:b,a,c", "nums", "NS:3,1,2"))
		put(t, ddb, tEq, item("pk", "S:"+pk, "sk", "S:1", "n", "N:1.5", "big", "N:1E+2", "tags", "SS:c,a,b", "nums", "NS:2,3,1"))
	}
	var out []want
	for i := range 3 {
		o, err := app.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tEq), Key: item("pk", fmt.Sprintf("S:e%02d", i), "sk", "S:1")})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, want{what: "number spelling, set order", id: requestID(t, o.ResultMetadata), table: tEq, op: "GetItem", class: diff.Match})
	}
	sc, err := app.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tEq)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 12 || sc.LastEvaluatedKey != nil {
		t.Fatalf("scan of %s: %d items, LastEvaluatedKey %v", tEq, len(sc.Items), sc.LastEvaluatedKey)
	}
	out = append(out, want{what: "scan order", id: requestID(t, sc.ResultMetadata), table: tEq, op: "Scan", class: diff.Match})
	q, err := app.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tEq), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": av("S:e05")}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "query", id: requestID(t, q.ResultMetadata), table: tEq, op: "Query", class: diff.Match})
	var keys []map[string]types.AttributeValue
	for i := range 6 {
		keys = append(keys, item("pk", fmt.Sprintf("S:e%02d", i), "sk", "S:1"))
	}
	bg, err := app.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{tEq: {Keys: keys}}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "batch get order", id: requestID(t, bg.ResultMetadata), table: tEq, op: "BatchGetItem", class: diff.Match})
	tg, err := app.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String(tEq), Key: keys[1]}}, {Get: &types.Get{TableName: aws.String(tEq), Key: keys[4]}}}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "transact get", id: requestID(t, tg.ResultMetadata), table: tEq, op: "TransactGetItems", class: diff.Match})
	// The same reads from callers named otherwise, for the access audit.
	for _, c := range []struct {
		what   string
		client *dynamodb.Client
	}{{"mapped key", mapped}, {"no header", plain}} {
		o, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tEq), Key: keys[2]})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, want{what: c.what, id: requestID(t, o.ResultMetadata), table: tEq, op: "GetItem", class: diff.Match})
	}
	return out
}

// forwarded: a table served by DynamoDB (serve: dynamodb) and shadowed by
// the store (shadow: bigtable): the answer is DynamoDB's, the audit pair
// has DynamoDB as primary and the store as shadow.
func forwarded(t *testing.T, app, ddb *dynamodb.Client) []want {
	ctx := context.Background()
	put(t, app, tFwd, item("pk", "S:same", "v", "S:1"))
	put(t, ddb, tFwd, item("pk", "S:same", "v", "S:1"))
	put(t, app, tFwd, item("pk", "S:differs", "v", "S:store"))
	put(t, ddb, tFwd, item("pk", "S:differs", "v", "S:dynamodb"))
	put(t, ddb, tFwd, item("pk", "S:only-dynamodb", "v", "S:1"))
	var out []want
	for _, c := range []struct {
		pk    string
		class diff.Class
		path  string
	}{{"same", diff.Match, ""}, {"differs", diff.Mismatch, "/Item/v/S"}} {
		o, err := app.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tFwd), Key: item("pk", "S:"+c.pk)})
		if err != nil {
			t.Fatal(err)
		}
		if c.pk == "differs" {
			if v, _ := o.Item["v"].(*types.AttributeValueMemberS); v == nil || v.Value != "dynamodb" {
				t.Fatalf("served %v, want DynamoDB's item", o.Item)
			}
		}
		out = append(out, want{what: "forwarded " + c.pk, id: requestID(t, o.ResultMetadata), table: tFwd, op: "GetItem", class: c.class, path: c.path})
	}
	q, err := app.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tFwd), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": av("S:only-dynamodb")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Items) != 1 {
		t.Fatalf("forwarded query: %d items, want DynamoDB's one", len(q.Items))
	}
	out = append(out, want{what: "forwarded, missing in the store", id: requestID(t, q.ResultMetadata), table: tFwd, op: "Query", class: diff.MissingOnShadow, path: `/Items/{"S":"only-dynamodb"}`})
	return out
}

// noise: writers increment tick on two items in DynamoDB Local without
// pause (the store keeps tick 0). Calibration finds DynamoDB disagreeing
// with itself at /tick/N; reads of "hot" differ only there and are
// suppressed, while "real" also differs at /v/S, which DynamoDB never
// changes, and stays a mismatch.
func noise(t *testing.T, app, ddb *dynamodb.Client, svc *audit.Service) ([]want, func()) {
	ctx := context.Background()
	put(t, app, tNoisy, item("pk", "S:hot", "tick", "N:0", "v", "S:same"))
	put(t, ddb, tNoisy, item("pk", "S:hot", "tick", "N:0", "v", "S:same"))
	put(t, app, tNoisy, item("pk", "S:real", "tick", "N:0", "v", "S:store"))
	put(t, ddb, tNoisy, item("pk", "S:real", "tick", "N:0", "v", "S:dynamodb"))

	wctx, cancel := context.WithCancel(ctx)
	var writers sync.WaitGroup
	for _, pk := range []string{"hot", "real", "hot", "real"} { // two writers per item
		writers.Go(func() {
			for wctx.Err() == nil {
				_, err := ddb.UpdateItem(wctx, &dynamodb.UpdateItemInput{TableName: aws.String(tNoisy), Key: item("pk", "S:"+pk),
					UpdateExpression: aws.String("ADD tick :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": av("N:1")}})
				if err != nil && wctx.Err() == nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		})
	}
	stop := func() { cancel(); writers.Wait() }
	// Until the writer's first updates land, both sides still hold tick 0.
	deadline := time.Now().Add(30 * time.Second)
	for _, pk := range []string{"hot", "real"} {
		for {
			if time.Now().After(deadline) {
				t.Fatalf("the writer has not updated %s", pk)
			}
			o, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tNoisy), Key: item("pk", "S:"+pk), ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := o.Item["tick"].(*types.AttributeValueMemberN); n != nil && n.Value != "0" {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	var out []want
	get := func(pk string, class diff.Class, path string) {
		o, err := app.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tNoisy), Key: item("pk", "S:"+pk)})
		if err != nil {
			t.Fatal(err)
		}
		w := want{what: "noisy " + pk, id: requestID(t, o.ResultMetadata), table: tNoisy, op: "GetItem", class: class, path: path}
		if class == diff.Mismatch {
			w.noise = "/tick/N"
		}
		out = append(out, w)
	}
	// Reads of hot until the table has its calibrations: every pair is
	// decided after its lag re-read (lagDelay later), by when these have
	// been counted.
	deadline = time.Now().Add(30 * time.Second)
	for reads := 0.0; reads < 10; reads = svc.NoiseRates(tNoisy)["/tick/N"].Reads {
		if time.Now().After(deadline) {
			t.Fatalf("no calibrations of %s: %+v", tNoisy, svc.Stats())
		}
		get("hot", diff.Suppressed, "")
		time.Sleep(20 * time.Millisecond)
	}
	for range 5 {
		get("real", diff.Mismatch, "/Item/v/S")
		get("hot", diff.Suppressed, "")
	}
	q, err := app.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tNoisy), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": av("S:hot")}})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, want{what: "noisy query", id: requestID(t, q.ResultMetadata), table: tNoisy, op: "Query", class: diff.Suppressed})
	return out, stop
}
