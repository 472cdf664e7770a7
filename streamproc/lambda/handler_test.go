package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/metrics"
	"github.com/dualread/dualread/streamproc/record"
)

// ddbLocal is the package's DynamoDB Local (set by TestMain unless -short).
var ddbLocal string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || os.Getenv(testenv.EnvDynamoDBEndpoint) != "" {
		ddbLocal = os.Getenv(testenv.EnvDynamoDBEndpoint)
		os.Exit(m.Run())
	}
	p, err := testenv.LaunchDynamoDBLocal(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda: start DynamoDB Local:", err)
		os.Exit(1)
	}
	ddbLocal = p.Endpoint
	code := m.Run()
	p.Stop()
	os.Exit(code)
}

func needDynamoDB(t *testing.T) {
	if testing.Short() || ddbLocal == "" {
		t.Skip("needs DynamoDB Local")
	}
}

const schema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`

// faulty fails Replicate while failing is set: a target that is down.
type faulty struct {
	streamproc.Replicator
	failing atomic.Bool
}

func (f *faulty) Replicate(ctx context.Context, table string, key, image attr.Item, version uint64) (dynamo.Outcome, error) {
	if f.failing.Load() {
		return 0, errors.New("target unavailable")
	}
	return f.Replicator.Replicate(ctx, table, key, image, version)
}

// endpoint is the handler on a real loopback HTTP server, over an embedded
// Bigtable target.
type endpoint struct {
	url    string
	ex     *dynamo.Executor
	dl     *streamproc.DeadLetters
	target *faulty
}

func newEndpoint(t *testing.T, token string, maxBody int64, tables ...string) *endpoint {
	t.Helper()
	ctx := context.Background()
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ex, err := dynamo.New(ctx, st, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if _, err := ex.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s}`, tb, schema))); err != nil {
			t.Fatal(err)
		}
	}
	dl, err := streamproc.NewDeadLetters(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	target := &faulty{Replicator: ex}
	ap, err := streamproc.NewApplier(streamproc.Config{Target: target, DeadLetter: dl, Metrics: metrics.New(nil), Source: "lambda",
		MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ap.Close)
	stamps, err := NewItemStamps(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Applier: ap, Stamps: stamps, Metrics: metrics.New(nil), Token: token, MaxBody: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &endpoint{url: srv.URL, ex: ex, dl: dl, target: target}
}

// post sends an event and returns the status and decoded answer.
func (e *endpoint) post(t *testing.T, body []byte, hdr ...string) (int, Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r Response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("answer (status %d) is not JSON: %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, r
}

func event(records []json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"Records": records})
	return b
}

// TestMalformed: bad requests get 4xx with a JSON message and apply
// nothing; an event whose change cannot be decoded is accepted and the
// change dead-lettered, as the Kinesis consumer does.
func TestMalformed(t *testing.T) {
	ctx := context.Background()
	e := newEndpoint(t, "s3cret", 2048, "tbl")
	auth := []string{"Authorization", "Bearer s3cret"}
	good := `{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/tbl/stream/x","dynamodb":{"ApproximateCreationDateTime":1700000000,"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"}},"SequenceNumber":"100","SizeBytes":5}}`
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		hdr    []string
		want   int
	}{
		{"not JSON", "POST", "/", `Records: []`, auth, 400},
		{"empty body", "POST", "/", ``, auth, 400},
		{"no Records", "POST", "/", `{}`, auth, 400},
		{"Records not an array", "POST", "/", `{"Records":{}}`, auth, 400},
		{"Records null", "POST", "/", `{"Records":null}`, auth, 400},
		{"record not an object", "POST", "/", `{"Records":[1]}`, auth, 400},
		{"record of neither shape", "POST", "/", `{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`, auth, 400},
		{"both shapes", "POST", "/", `{"Records":[{"kinesis":{"data":""},"dynamodb":{}}]}`, auth, 400},
		{"kinesis without data", "POST", "/", `{"Records":[{"eventSource":"aws:kinesis","kinesis":{}}]}`, auth, 400},
		{"kinesis data not base64", "POST", "/", `{"Records":[{"kinesis":{"data":"%%%"}}]}`, auth, 400},
		{"dynamodb null", "POST", "/", `{"Records":[{"eventSource":"aws:dynamodb","dynamodb":null}]}`, auth, 400},
		{"data after the event", "POST", "/", `{"Records":[]} {}`, auth, 400},
		{"good record after a bad one", "POST", "/", `{"Records":[` + good + `,7]}`, auth, 400},
		{"too large", "POST", "/", `{"Records":[` + strings.Repeat(good+",", 20) + good + `]}`, auth, 413},
		{"no token", "POST", "/", `{"Records":[]}`, nil, 401},
		{"wrong token", "POST", "/", `{"Records":[]}`, []string{"Authorization", "Bearer nope"}, 401},
		{"GET", "GET", "/", ``, auth, 405},
		{"other path", "POST", "/x", `{"Records":[]}`, auth, 404},
		{"empty batch", "POST", "/", `{"Records":[]}`, auth, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(tc.body))
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				req.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r Response
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatalf("answer not JSON: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, r.Message, tc.want)
			}
			if tc.want >= 400 && r.Message == "" {
				t.Error("no message")
			}
		})
	}
	if out, _ := e.ex.Do(ctx, "Scan", []byte(`{"TableName":"tbl"}`)); !strings.Contains(string(out), `"Count":0`) {
		t.Fatalf("bad requests applied something: %s", out)
	}
	if l, _ := e.dl.List(ctx, 0); len(l) != 0 {
		t.Fatalf("bad requests dead-lettered something: %+v", l)
	}
	// A well-formed event with an undecodable change (keys disagree with
	// the image): 200, the change dead-lettered with its raw record.
	bad := strings.Replace(good, `"NewImage":{"pk":{"S":"a"}}`, `"NewImage":{"pk":{"S":"b"}}`, 1)
	status, r := e.post(t, []byte(`{"Records":[`+bad+`]}`), auth...)
	if status != 200 || r.Result == nil || r.Result.DeadLettered != 1 {
		t.Fatalf("undecodable change: %d %+v", status, r)
	}
	if l, _ := e.dl.List(ctx, 0); len(l) != 1 || l[0].Source != "lambda" || !bytes.Contains(l[0].Record, []byte(`"SequenceNumber":"100"`)) {
		t.Fatalf("dead letters %+v", l)
	}
}

// TestApplyFails: while the target fails, a batch is answered 503 with the
// batch's first record as the failed item (Lambda retries from there) and
// counts as not acknowledged; sent again once the target is back, it is
// applied and answered 200, and the outcome is as if it never failed.
func TestApplyFails(t *testing.T) {
	ctx := context.Background()
	e := newEndpoint(t, "", 0, "tbl")
	rec := func(seq, v string, at int) string {
		return fmt.Sprintf(`{"eventID":"%s","eventName":"MODIFY","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/tbl/stream/x","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"v":{"S":"%s"}},"SequenceNumber":"%s","SizeBytes":9}}`, seq, at, v, seq)
	}
	// Two changes of one item in the same second, then one in the next.
	body := []byte(`{"Records":[` + rec("0101", "one", 1700000000) + `,` + rec("0102", "two", 1700000000) + `,` + rec("0103", "three", 1700000001) + `]}`)
	e.target.failing.Store(true)
	status, r := e.post(t, body)
	if status != http.StatusServiceUnavailable || len(r.BatchItemFailures) != 1 || r.BatchItemFailures[0].ItemIdentifier != "0101" || r.Result != nil {
		t.Fatalf("failing target: %d %+v", status, r)
	}
	e.target.failing.Store(false)
	// The failed attempt had stamped the records: the retry knows "three"
	// is the item's newest change and applies just that one, the two
	// older ones being superseded.
	status, r = e.post(t, body)
	if status != http.StatusOK || r.Result == nil || r.Result.Applied != 1 || r.Result.Stale != 2 {
		t.Fatalf("retry: %d %+v", status, r.Result)
	}
	out, err := e.ex.Do(ctx, "GetItem", []byte(`{"TableName":"tbl","Key":{"pk":{"S":"a"}}}`))
	if err != nil || !strings.Contains(string(out), `"three"`) {
		t.Fatalf("item after retry: %s %v", out, err)
	}
	// The same batch once more: the newest a duplicate, the others stale.
	if status, r = e.post(t, body); status != 200 || r.Result.Duplicate != 1 || r.Result.Stale != 2 {
		t.Fatalf("third delivery: %d %+v", status, r.Result)
	}
	// Two changes of an item in one second, first delivery: both applied,
	// in order (the second is not taken for a duplicate of the first).
	pair := []byte(`{"Records":[` + rec("0201", "four", 1700000005) + `,` + rec("0202", "five", 1700000005) + `]}`)
	if status, r = e.post(t, pair); status != 200 || r.Result.Applied != 2 {
		t.Fatalf("same-second pair: %d %+v", status, r.Result)
	}
	if out, _ := e.ex.Do(ctx, "GetItem", []byte(`{"TableName":"tbl","Key":{"pk":{"S":"a"}}}`)); !strings.Contains(string(out), `"five"`) {
		t.Fatalf("item after the pair: %s", out)
	}
	// An older record of the same second arriving after a newer one is
	// superseded: not applied, counted stale.
	if status, r = e.post(t, []byte(`{"Records":[`+rec("0200", "zero", 1700000005)+`]}`)); status != 200 || r.Result.Stale != 1 {
		t.Fatalf("older record: %d %+v", status, r.Result)
	}
	if out, _ := e.ex.Do(ctx, "GetItem", []byte(`{"TableName":"tbl","Key":{"pk":{"S":"a"}}}`)); !strings.Contains(string(out), `"five"`) {
		t.Fatalf("item after an older record: %s", out)
	}
}

// TestStampsCollect: stamp rows of items last changed before the cutoff
// go, newer ones stay and keep ranking.
func TestStampsCollect(t *testing.T) {
	ctx := context.Background()
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := NewItemStamps(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	stamp := func(pk, seq string, at time.Time) uint64 {
		t.Helper()
		c := &record.Change{Table: "tbl", Keys: attr.Item{"pk": attr.Str(pk)}, Version: uint64(at.UnixMicro()), SequenceNumber: seq}
		v, ok, err := s.Version(ctx, c, time.Second)
		if err != nil || !ok {
			t.Fatalf("stamp %s/%s: %v %v", pk, seq, ok, err)
		}
		return v
	}
	stamp("old", "1", now.Add(-48*time.Hour))
	v1 := stamp("new", "2", now.Add(-time.Hour))
	if n, err := s.Collect(ctx, now.Add(-24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Collect: %d %v", n, err)
	}
	if v2 := stamp("new", "3", now.Add(-time.Hour)); v2 != v1+1 {
		t.Fatalf("kept row lost its rank: %d after %d", v2, v1)
	}
	n := 0
	for _, err := range st.Scan(ctx, StampSpace, store.Range{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d stamp rows left, want 1", n)
	}
}
