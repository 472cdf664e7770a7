package sink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/proto/auditpb"
)

func ok(s string, ms int) *auditpb.Response {
	return &auditpb.Response{Backend: "x", Status: 200, Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(s)},
		Latency: durationpb.New(time.Duration(ms) * time.Millisecond)}
}

type injected struct {
	id, op    string
	primary   string
	shadow    string
	errShadow bool
	want      diff.Class
}

// The divergences the issue names, the equalities that must not count, a
// lagging pair and a failed side.
var cases = []injected{
	{"missing-item", "GetItem", `{}`, `{"Item":{"pk":{"S":"a"}}}`, false, diff.MissingOnPrimary},
	{"extra-item", "Scan", `{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"Count":2}`, `{"Items":[{"pk":{"S":"a"}}],"Count":1}`, false, diff.MissingOnShadow},
	{"changed-value", "GetItem", `{"Item":{"pk":{"S":"a"},"v":{"S":"x"}}}`, `{"Item":{"pk":{"S":"a"},"v":{"S":"y"}}}`, false, diff.Mismatch},
	{"n-vs-s", "GetItem", `{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}`, `{"Item":{"pk":{"S":"a"},"v":{"S":"1"}}}`, false, diff.Mismatch},
	{"nested-map", "Query", `{"Items":[{"pk":{"S":"a"},"m":{"M":{"k":{"M":{"z":{"N":"1"}}}}}}],"Count":1}`, `{"Items":[{"pk":{"S":"a"},"m":{"M":{"k":{"M":{"z":{"N":"2"}}}}}}],"Count":1}`, false, diff.Mismatch},
	{"set-element", "GetItem", `{"Item":{"pk":{"S":"a"},"s":{"NS":["1","2"]}}}`, `{"Item":{"pk":{"S":"a"},"s":{"NS":["1","3"]}}}`, false, diff.Mismatch},
	{"list-order", "GetItem", `{"Item":{"pk":{"S":"a"},"l":{"L":[{"S":"p"},{"S":"q"}]}}}`, `{"Item":{"pk":{"S":"a"},"l":{"L":[{"S":"q"},{"S":"p"}]}}}`, false, diff.Mismatch},
	{"number-precision", "GetItem", `{"Item":{"pk":{"S":"a"},"n":{"N":"0.1"}}}`, `{"Item":{"pk":{"S":"a"},"n":{"N":"0.10000000000000000000000000000000000001"}}}`, false, diff.Mismatch},
	{"scan-order", "Scan", `{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"Count":2}`, `{"Items":[{"pk":{"S":"b"}},{"pk":{"S":"a"}}],"Count":2}`, false, diff.Match},
	{"set-order", "GetItem", `{"Item":{"pk":{"S":"a"},"s":{"SS":["x","y"]}}}`, `{"Item":{"pk":{"S":"a"},"s":{"SS":["y","x"]}}}`, false, diff.Match},
	{"number-spelling", "GetItem", `{"Item":{"pk":{"S":"a"},"n":{"N":"100"}}}`, `{"Item":{"pk":{"S":"a"},"n":{"N":"1E+2"}}}`, false, diff.Match},
	{"lagging", "GetItem", `{}`, `{"Item":{"pk":{"S":"new"}}}`, false, diff.Lag},
	{"shadow-timeout", "GetItem", `{"Item":{"pk":{"S":"a"}}}`, ``, true, diff.ErrorMismatch},
}

// lagRereader plays replication catching up: the re-read of "lagging"
// finds the primary holding the item too; everything else reads the same.
type lagRereader struct{}

func (lagRereader) Reread(_ context.Context, rec *auditpb.Record) (*auditpb.Response, *auditpb.Response, error) {
	if rec.GetId() == "lagging" {
		return rec.GetShadow(), rec.GetShadow(), nil
	}
	return rec.GetPrimary(), rec.GetShadow(), nil
}

func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const db, table = "dualread", "orders"

	// Stand-ins, started together: InfluxDB is the slow one.
	var influxURL, btAddr string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); btAddr = testenv.StartBigtableEmulator(t) }()
	influxURL = testenv.StartInfluxDB(t, db)
	wg.Wait()
	if btAddr == "" {
		t.Fatal("no Bigtable emulator")
	}
	psrv := testenv.NewPubSub(t)

	// Pub/Sub topic.
	const project = "dualread-test"
	psc, err := pubsub.NewClient(ctx, project, testenv.EmulatorClientOptions(psrv.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer psc.Close()
	topic := "projects/" + project + "/topics/audit-mismatches"
	if _, err := psc.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}

	// Pair table with a TTL.
	btOpts := testenv.EmulatorClientOptions(btAddr)
	admin, err := bigtable.NewAdminClient(ctx, "p", "i", btOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	const pairTable = "audit_pairs"
	if err := sink.EnsurePairTable(ctx, admin, pairTable, 72*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := sink.EnsurePairTable(ctx, admin, pairTable, 48*time.Hour); err != nil {
		t.Fatalf("second EnsurePairTable (idempotent, new TTL): %v", err)
	}
	info, err := admin.TableInfo(ctx, pairTable)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.FamilyInfos) != 1 || info.FamilyInfos[0].GCPolicy != "age() > 2d" {
		t.Errorf("pair table families %+v, want one with GC age() > 2d", info.FamilyInfos)
	}
	btc, err := bigtable.NewClient(ctx, "p", "i", btOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer btc.Close()

	// The service, its sinks and its gRPC ingest.
	influx := sink.NewInflux(sink.InfluxConfig{URL: influxURL, Bucket: db + "/autogen", Interval: time.Hour})
	store := sink.NewPairStore(btc, pairTable)
	svc, err := audit.NewService(audit.Config{Rereader: lagRereader{}, LagDelay: 200 * time.Millisecond},
		influx, sink.NewPubSub(psc, topic), store)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	svc.RegisterGRPC(gs)
	go gs.Serve(lis)
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	start := time.Now().Add(-time.Minute)
	var recs []*auditpb.Record
	for i, c := range cases {
		shadow := ok(c.shadow, 20+i)
		if c.errShadow {
			shadow = &auditpb.Response{Backend: "dynamodb", Outcome: &auditpb.Response_Error{Error: &auditpb.Error{Type: "dualread#Timeout", Message: "deadline"}},
				Latency: durationpb.New(time.Second)}
		}
		recs = append(recs, &auditpb.Record{
			Id: c.id, Time: timestamppb.New(start.Add(time.Duration(i) * time.Second)), Service: "svc", Table: table,
			Operation: c.op, KeyAttributes: []string{"pk"}, Primary: ok(c.primary, 1+i), Shadow: shadow,
		})
	}
	sum, err := audit.SendBatches(ctx, auditpb.NewAuditClient(conn), recs, 4)
	if err != nil {
		t.Fatal(err)
	}
	if sum.GetAccepted() != int64(len(cases)) {
		t.Fatalf("ingest summary %v", sum)
	}
	// Close drains: re-reads, Pub/Sub, the pair store, the last Influx interval.
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}

	wantClass := map[diff.Class]int{}
	diverging := map[string]diff.Class{}
	stored := map[string]diff.Class{}
	for _, c := range cases {
		wantClass[c.want]++
		if c.want.Diverges() {
			diverging[c.id] = c.want
		}
		if c.want.Diverges() || c.want == diff.Lag {
			stored[c.id] = c.want
		}
	}

	t.Run("influx counts", func(t *testing.T) {
		res, err := testenv.InfluxQuery(ctx, influxURL, db,
			`SELECT sum("count") FROM "dualread_audit" WHERE "table" = 'orders' GROUP BY "class"`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[diff.Class]int{}
		for _, s := range res.Results[0].Series {
			n, _ := s.Values[0][1].(float64)
			got[diff.Class(s.Tags["class"])] = int(n)
		}
		if fmt.Sprint(got) != fmt.Sprint(wantClass) {
			t.Errorf("per-class counts in InfluxDB %v, want %v", got, wantClass)
		}
	})
	t.Run("influx latency", func(t *testing.T) {
		res, err := testenv.InfluxQuery(ctx, influxURL, db,
			`SELECT sum("count"), max("max_ms") FROM "dualread_latency" WHERE "table" = 'orders' AND "op" = 'GetItem' GROUP BY "side"`)
		if err != nil {
			t.Fatal(err)
		}
		nGet := 0
		for _, c := range cases {
			if c.op == "GetItem" {
				nGet++
			}
		}
		got := map[string][2]float64{}
		for _, s := range res.Results[0].Series {
			n, _ := s.Values[0][1].(float64)
			m, _ := s.Values[0][2].(float64)
			got[s.Tags["side"]] = [2]float64{n, m}
		}
		// Shadow max: the timed-out side's 1 s; primary max: the last case's 1+i ms.
		if got["shadow"] != [2]float64{float64(nGet), 1000} {
			t.Errorf("shadow latency (count, max_ms) %v, want (%d, 1000)", got["shadow"], nGet)
		}
		if got["primary"][0] != float64(nGet) || got["primary"][1] != float64(len(cases)) {
			t.Errorf("primary latency (count, max_ms) %v, want (%d, %d)", got["primary"], nGet, len(cases))
		}
	})
	t.Run("pubsub mismatch records", func(t *testing.T) {
		msgs := psrv.Messages()
		got := map[string]diff.Class{}
		for _, m := range msgs {
			var pj audit.PairJSON
			if err := json.Unmarshal(m.Data, &pj); err != nil {
				t.Fatal(err)
			}
			if m.Attributes["class"] != string(pj.Class) || m.Attributes["table"] != table {
				t.Errorf("attributes %v disagree with body class %s", m.Attributes, pj.Class)
			}
			if len(pj.Patch) == 0 {
				t.Errorf("%s published without a patch", pj.ID)
			}
			got[pj.ID] = pj.Class
		}
		if fmt.Sprint(got) != fmt.Sprint(diverging) {
			t.Errorf("published %v, want %v", got, diverging)
		}
	})
	t.Run("pair store", func(t *testing.T) {
		pairs, err := store.List(ctx, table, start)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]diff.Class{}
		var last time.Time
		for i, p := range pairs {
			got[p.Record.GetId()] = p.Class
			at := p.Record.GetTime().AsTime()
			if i > 0 && at.After(last) {
				t.Errorf("List not newest first: %s after %s", at, last)
			}
			last = at
		}
		if fmt.Sprint(got) != fmt.Sprint(stored) {
			t.Errorf("stored %v, want %v", got, stored)
		}
		for _, p := range pairs {
			if p.Record.GetId() == "lagging" && (p.Initial != diff.MissingOnPrimary || p.Reread == nil) {
				t.Errorf("lag pair initial %s, reread %v", p.Initial, p.Reread)
			}
		}
		// since bounds the listing: only the last three records are newer.
		recent, err := store.List(ctx, table, start.Add(time.Duration(len(cases)-3)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, c := range cases[len(cases)-3:] {
			if _, ok := stored[c.id]; ok {
				want++
			}
		}
		if len(recent) != want {
			t.Errorf("List since the last 3 records: %d pairs, want %d", len(recent), want)
		}
	})
}
