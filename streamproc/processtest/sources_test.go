package processtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/ddbstreams"
	"github.com/dualread/dualread/streamproc/lease"
)

func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9) }

// moreWrites makes n puts and deletes on DynamoDB Local, round robin over
// tables, on keys k000..k019.
func moreWrites(t *testing.T, ctx context.Context, ddbURL string, tables []string, n int) {
	t.Helper()
	ddb := testenv.NewRawClient(ddbURL)
	for i := range n {
		tb, k := tables[i%len(tables)], fmt.Sprintf(`{"pk":{"S":"k%03d"}}`, i%20)
		op, body := "PutItem", fmt.Sprintf(`{"TableName":%q,"Item":{"pk":{"S":"k%03d"},"late":{"N":"%d"}}}`, tb, i%20, i)
		if i%3 == 2 {
			op, body = "DeleteItem", fmt.Sprintf(`{"TableName":%q,"Key":%s}`, tb, k)
		}
		if r, err := ddb.Do(ctx, op, []byte(body)); err != nil || r.Status != 200 {
			t.Fatalf("%s: %v %s", op, err, r.Body)
		}
	}
}

// TestDynamoDBStreamsProcess: `dualread streamproc --source
// dynamodbstreams` replicates random changes on two tables; SIGKILLed in
// the middle of them and started again, it resumes from the checkpoints;
// SIGTERM ends it with exit 0 and its leases released; changes made while
// nothing ran are picked up by the next start. The target equals DynamoDB
// Local item for item after each phase.
func TestDynamoDBStreamsProcess(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	inst := uniq("ds")
	a := e.target(t, ctx, inst)
	tables := []string{uniq("pds_a"), uniq("pds_b")}
	e.createTables(t, ctx, a, true, tables...)
	args := append([]string{"streamproc", "--source", "dynamodbstreams", "--tables", strings.Join(tables, ","),
		"--source-endpoint", e.ddb, "--lease", "3s"}, targetArgs(inst)...)

	p1 := e.start(t, "streamproc 1", args...)
	p1.waitOutput(t, "consuming the DynamoDB Streams of")
	gen := make(chan error, 1)
	go func() {
		_, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: testenv.NewRawClient(e.ddb), Tables: tables, Changes: 1200, Keys: 50, Batch: 8, Seed: 11})
		gen <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	p1.kill() // SIGKILL mid-stream: leases stay taken until they expire
	p2 := e.start(t, "streamproc 2", args...)
	if err := <-gen; err != nil {
		t.Fatal(err)
	}
	e.waitConverged(t, ctx, a, "after SIGKILL and restart", tables...)
	if err := p2.stop(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	ls, err := lease.NewTable(a.Store, ddbstreams.Group).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, l := range ls {
		if strings.Contains(id, tables[0]) || strings.Contains(id, tables[1]) {
			if l.Owner != "" || l.Checkpoint == "" {
				t.Errorf("lease %s after SIGTERM: owner %q, checkpoint %q", id, l.Owner, l.Checkpoint)
			}
		}
	}
	moreWrites(t, ctx, e.ddb, tables, 60)
	p3 := e.start(t, "streamproc 3", args...)
	e.waitConverged(t, ctx, a, "changes made while stopped", tables...)
	if err := p3.stop(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

// streamRecords reads a table's stream on DynamoDB Local as a Lambda
// DynamoDB trigger would deliver its records.
func streamRecords(t *testing.T, ctx context.Context, ddbURL, table string) []json.RawMessage {
	t.Helper()
	sc := dynamodbstreams.New(dynamodbstreams.Options{Region: testenv.Region, BaseEndpoint: aws.String(ddbURL),
		Credentials: credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")})
	ss, err := ddbstreams.ListStreams(ctx, sc, table)
	if err != nil || len(ss) != 1 {
		t.Fatalf("streams of %s: %v %v", table, ss, err)
	}
	var (
		mu  sync.Mutex
		out []json.RawMessage
	)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	w := &ddbstreams.Walker{Reader: &ddbstreams.Reader{Client: sc, Idle: 50 * time.Millisecond}, Poll: 50 * time.Millisecond}
	idle := time.AfterFunc(2*time.Second, stop)
	w.Walk(rctx, ss[0], func(_ context.Context, _ string, b ddbstreams.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		idle.Reset(2 * time.Second) // stop once nothing came for 2 s
		for _, r := range b.Records {
			var m map[string]any
			if err := json.Unmarshal(r.Raw, &m); err != nil {
				return err
			}
			m["eventSourceARN"] = ss[0].ARN
			raw, _ := json.Marshal(m)
			out = append(out, raw)
		}
		return nil
	})
	return out
}

func post(t *testing.T, url, token string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLambdaProcess: `dualread streamproc --source lambda` answers
// Lambda-forwarded DynamoDB Streams batches 200 and applies them; a
// malformed body gets 400 and a missing token 401; SIGKILLed after half
// the batches and restarted, it takes every batch again (Lambda's retry of
// what was not acknowledged, and more) and the target equals DynamoDB
// Local; SIGTERM ends it with exit 0.
func TestLambdaProcess(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	inst := uniq("lp")
	a := e.target(t, ctx, inst)
	table := uniq("plam")
	e.createTables(t, ctx, a, true, table)
	if _, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: testenv.NewRawClient(e.ddb), Tables: []string{table}, Changes: 600, Keys: 30, Batch: 8, Seed: 12}); err != nil {
		t.Fatal(err)
	}
	recs := streamRecords(t, ctx, e.ddb, table)
	if len(recs) < 500 {
		t.Fatalf("%d stream records", len(recs))
	}
	var batches [][]byte
	for i := 0; i < len(recs); i += 50 {
		b, _ := json.Marshal(map[string]any{"Records": recs[i:min(len(recs), i+50)]})
		batches = append(batches, b)
	}
	args := append([]string{"streamproc", "--source", "lambda", "--listen", "127.0.0.1:0", "--lambda-token", "tok"}, targetArgs(inst)...)
	listening := func(c *child) string {
		line := c.waitOutput(t, "listening for Lambda batches on ")
		return "http://" + strings.TrimSpace(line[strings.LastIndex(line, " ")+1:]) + "/"
	}
	p1 := e.start(t, "lambda endpoint 1", args...)
	url := listening(p1)
	if s := post(t, url, "tok", []byte(`{"Records":[{"nope":1}]}`)); s != http.StatusBadRequest {
		t.Fatalf("malformed event: %d", s)
	}
	if s := post(t, url, "", batches[0]); s != http.StatusUnauthorized {
		t.Fatalf("no token: %d", s)
	}
	for _, b := range batches[:len(batches)/2] {
		if s := post(t, url, "tok", b); s != http.StatusOK {
			t.Fatalf("batch: %d", s)
		}
	}
	p1.kill()
	p2 := e.start(t, "lambda endpoint 2", args...)
	url = listening(p2)
	for _, b := range batches {
		if s := post(t, url, "tok", b); s != http.StatusOK {
			t.Fatalf("batch after restart: %d", s)
		}
	}
	if d := e.differences(t, ctx, a, table); d != "" {
		t.Fatal(d)
	}
	if err := p2.stop(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

// TestKDSBridgeProcess: `dualread kds-bridge` with the flags the local
// stack uses and `dualread streamproc --source kinesis` as two processes:
// changes on DynamoDB Local (one table created after the bridge started,
// without a stream: --enable-streams turns it on) reach the target exactly
// through kinesalite; SIGINT stops the bridge and SIGTERM the consumer,
// both with exit 0.
func TestKDSBridgeProcess(t *testing.T) {
	e := sharedEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	inst := uniq("kb")
	a := e.target(t, ctx, inst)
	tables := []string{uniq("pkb_pre"), uniq("pkb_new")}
	stream := uniq("kdsb")
	e.createTables(t, ctx, a, true, tables[0])
	bridge := e.start(t, "kds-bridge", "kds-bridge", "--dynamodb-endpoint", e.ddb, "--kinesis-endpoint", e.kinesis,
		"--stream", stream, "--tables", strings.Join(tables, ","), "--region", "us-east-1", "--enable-streams", "--poll", "100ms",
		"--log-format", "text")
	bridge.waitOutput(t, "kds-bridge publishing")
	consumer := e.start(t, "streamproc", append([]string{"streamproc", "--source", "kinesis", "--stream", stream,
		"--source-endpoint", e.kinesis, "--lease", "3s"}, targetArgs(inst)...)...)
	consumer.waitOutput(t, "consuming "+stream)
	e.createTables(t, ctx, a, false, tables[1])
	bridge.waitOutput(t, "enabled stream")
	bridge.waitOutput(t, "table="+tables[1]+" stream=") // its stream is being bridged
	if _, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: testenv.NewRawClient(e.ddb), Tables: tables, Changes: 900, Keys: 40, Batch: 8, Seed: 13}); err != nil {
		t.Fatal(err)
	}
	e.waitConverged(t, ctx, a, "through the bridge", tables...)
	if err := bridge.stop(t, syscall.SIGINT, 20*time.Second); err != nil {
		t.Fatalf("bridge SIGINT: %v", err)
	}
	bridge.waitOutput(t, "kds-bridge stopped:")
	if err := consumer.stop(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("streamproc SIGTERM: %v", err)
	}
}
