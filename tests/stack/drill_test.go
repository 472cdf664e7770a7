package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/deploy/dashboards"
	"github.com/dualread/dualread/drill"
	"github.com/dualread/dualread/internal/localstack"
)

// drillTable is drilled on; the demo's tables carry injected divergences
// and are drilled only to show the no-go they deserve.
const drillTable = "drill_accounts"

// runDrill runs `bin/dualread drill` against the stack, as the daily
// CronJob does, and returns its report and exit error.
func runDrill(t *testing.T, s *Stack, dir string, extra ...string) (*drill.Report, string, error) {
	t.Helper()
	e := s.Endpoints
	args := append([]string{"drill", "--adapter", e.Adapter, "--admin", e.Admin, "--dynamodb", e.DynamoDB,
		"--streamproc", e.Streamproc, "--audit", e.Audit, "--influx", e.InfluxDB, "--influx-db", localstack.InfluxDatabase,
		"--report-dir", dir, "--lag-threshold", "10s", "--canary-timeout", "30s"}, extra...)
	cmd := exec.Command(filepath.Join(s.root, "bin/dualread"), args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1")
	out, runErr := cmd.CombinedOutput()
	files, _ := filepath.Glob(filepath.Join(dir, "drill-*.json"))
	if len(files) != 1 {
		t.Fatalf("drill wrote %d JSON reports (%v, %v):\n%s", len(files), files, runErr, out)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var rep drill.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	if md, _ := filepath.Glob(filepath.Join(dir, "drill-*.md")); len(md) != 1 {
		t.Fatalf("drill wrote %d Markdown reports", len(md))
	}
	return &rep, string(out), runErr
}

func reasonsMention(rep *drill.Report, words ...string) error {
	all := strings.Join(rep.Reasons, "\n")
	for _, w := range words {
		if !strings.Contains(all, w) {
			return fmt.Errorf("reasons lack %q:\n%s", w, all)
		}
	}
	return nil
}

// modes is the admin API's view of one table.
func modes(t *testing.T, s *Stack, table string) string {
	t.Helper()
	resp, err := httpGet(s.Endpoints.Admin + "/modes?table=" + table)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Overrides map[string]any `json:"overrides"`
		Table     struct {
			Mode map[string]any `json:"mode"`
		} `json:"table"`
	}
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatalf("modes: %v\n%s", err, resp)
	}
	b, _ := json.Marshal([]any{m.Overrides[table], m.Table.Mode})
	return string(b)
}

// TestDrill runs the daily drill against the local stack as `make run`
// starts it: on a replicated, equal table it passes end to end and rolls
// back; with an injected divergence, or with the stream processor stopped,
// it returns no-go naming the reason; on the demo's diverging table the
// audit's mismatch rate makes it no-go. Every run leaves the modes as
// they were and a dualread_drill point in InfluxDB.
func TestDrill(t *testing.T) {
	s := startStack(t, Options{DemoRate: 10})
	ctx := context.Background()
	adapter, source := Client(s.Endpoints.Adapter, testKey), Client(s.Endpoints.DynamoDB, testKey)
	for _, c := range []*dynamodb.Client{source, adapter} {
		in := &dynamodb.CreateTableInput{
			TableName:            aws.String(drillTable),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		}
		if c == source {
			in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
		}
		if _, err := c.CreateTable(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// Items reach the adapter through the stack's own replication: DynamoDB
	// Local's stream, kds-bridge, kinesalite, streamproc. While they
	// arrive, the test's polling reads are not shadowed: the audit would
	// rightly count half-replicated answers against the table.
	adminDo(t, http.MethodPut, s.Endpoints.Admin+"/modes/"+drillTable, `{"shadow":"off"}`)
	const n = 150
	for i := range n {
		item := map[string]types.AttributeValue{"id": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
			"owner": str(fmt.Sprintf("owner-%d", i%7)), "tags": &types.AttributeValueMemberSS{Value: []string{"a", "b" + strconv.Itoa(i)}}}
		if _, err := source.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(drillTable), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 2*time.Minute, "the table replicated to the adapter", func() error {
		out, err := adapter.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(drillTable), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		if out.Count != n {
			return fmt.Errorf("%d of %d items", out.Count, n)
		}
		return nil
	})
	adminDo(t, http.MethodDelete, s.Endpoints.Admin+"/modes/"+drillTable, "")
	before := modes(t, s, drillTable)

	t.Run("go", func(t *testing.T) {
		rep, out, err := runDrill(t, s, t.TempDir(), "--tables", drillTable, "--verify", "full", "--mismatch-window", "10m")
		if err != nil || rep.Verdict != drill.VerdictGo {
			t.Fatalf("verdict %s (%v), reasons %q:\n%s", rep.Verdict, err, rep.Reasons, out)
		}
		tr := rep.Tables[0]
		if tr.CanaryMS < 0 || tr.Verify == nil || tr.Verify.Compared != n || !tr.Switched || !tr.RolledBack || tr.SmokeReads == 0 {
			t.Fatalf("table report %+v", tr)
		}
		for _, want := range []string{"preflight adapter", "preflight streamproc", "preflight audit", "preflight influxdb", "canary", "drain", "verify", "switch", "smoke", "rollback", "audit"} {
			found := false
			for _, st := range rep.Steps {
				found = found || (st.Name == want && st.Status == drill.StatusOK)
			}
			if !found {
				t.Errorf("no passed %q step in %+v", want, rep.Steps)
			}
		}
		if got := modes(t, s, drillTable); got != before {
			t.Fatalf("modes after the drill %s, before %s", got, before)
		}
	})

	t.Run("dry run changes nothing", func(t *testing.T) {
		rep, out, err := runDrill(t, s, t.TempDir(), "--tables", drillTable, "--dry-run", "--mismatch-window", "10m")
		if err != nil || rep.Verdict != drill.VerdictDryRun {
			t.Fatalf("verdict %s (%v), reasons %q:\n%s", rep.Verdict, err, rep.Reasons, out)
		}
		for _, st := range rep.Steps {
			if (st.Name == "canary" || st.Name == "switch" || st.Name == "smoke") && st.Status != drill.StatusSkipped {
				t.Errorf("dry run performed %s", st.Name)
			}
		}
		if !strings.Contains(out, "dry run: would PUT") {
			t.Errorf("dry run does not print the switch it would make:\n%s", out)
		}
	})

	t.Run("divergence is no-go", func(t *testing.T) {
		// Changed through the adapter only: DynamoDB never sees it.
		if _, err := adapter.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(drillTable), Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberN{Value: "7"}, "owner": str("someone-else")}}); err != nil {
			t.Fatal(err)
		}
		rep, out, err := runDrill(t, s, t.TempDir(), "--tables", drillTable, "--verify", "full", "--mismatch-window", "10m")
		if err == nil || rep.Verdict != drill.VerdictNoGo {
			t.Fatalf("verdict %s (%v), want no-go:\n%s", rep.Verdict, err, out)
		}
		if err := reasonsMention(rep, drillTable+": verify", "1 different"); err != nil {
			t.Fatal(err)
		}
		if got := modes(t, s, drillTable); got != before {
			t.Fatalf("modes after the drill %s, before %s", got, before)
		}
	})

	t.Run("stream processor stopped is no-go", func(t *testing.T) {
		var pid int
		for _, c := range s.State.Children {
			if c.Role == "streamproc" {
				pid = c.PID
			}
		}
		if pid == 0 {
			t.Fatal("no streamproc in stack.json")
		}
		// SIGSTOP, not kill: a hung consumer, and the stack (which stops
		// everything when a child dies) keeps running for the next test.
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)
		rep, out, err := runDrill(t, s, t.TempDir(), "--tables", drillTable, "--verify", "off", "--canary-timeout", "5s")
		if err == nil || rep.Verdict != drill.VerdictNoGo {
			t.Fatalf("verdict %s (%v), want no-go:\n%s", rep.Verdict, err, out)
		}
		if err := reasonsMention(rep, "preflight streamproc"); err != nil {
			t.Fatal(err)
		}
		for _, st := range rep.Steps {
			if st.Name == "switch" && st.Status != drill.StatusSkipped {
				t.Fatalf("a drill with replication down switched the table: %+v", st)
			}
		}
	})

	t.Run("demo divergences are no-go", func(t *testing.T) {
		rep, out, err := runDrill(t, s, t.TempDir(), "--tables", "demo_catalog", "--verify", "sample", "--mismatch-window", "1h")
		if err == nil || rep.Verdict != drill.VerdictNoGo {
			t.Fatalf("verdict %s (%v), want no-go:\n%s", rep.Verdict, err, out)
		}
		if err := reasonsMention(rep, "demo_catalog: audit: mismatch rate"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("verify writes its result", func(t *testing.T) {
		e := s.Endpoints
		cmd := exec.Command(filepath.Join(s.root, "bin/dualread"), "verify", "--table", drillTable, "--source", e.DynamoDB,
			"--target", e.Adapter, "--influx", e.InfluxDB, "--influx-bucket", localstack.InfluxDatabase+"/autogen", "--progress", "none")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY=secret")
		out, err := cmd.CombinedOutput()
		// Item 7 still differs (the divergence subtest): exit status 1.
		if err == nil || !strings.Contains(string(out), "1 different") {
			t.Fatalf("verify: %v\n%s", err, out)
		}
	})

	t.Run("results in InfluxDB", func(t *testing.T) {
		got, err := s.sums(ctx, "dualread_drill", "passed", "time > now() - 1h", "verdict")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got["go"]; !ok {
			t.Errorf("no go drill point: %v", got)
		}
		if _, ok := got["no_go"]; !ok {
			t.Errorf("no no_go drill point: %v", got)
		}
	})

	t.Run("every Grafana panel query returns data", func(t *testing.T) { testDashboards(t, s) })
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, b)
	}
	return b, nil
}

func adminDo(t *testing.T, method, url, body string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", method, url, resp.StatusCode, b)
	}
}

// TestDrill's stack has now run demo traffic, replication, drills and a
// verify: every panel query of every Grafana dashboard in deploy/ must
// return data from its InfluxDB, as Grafana would show it.
func testDashboards(t *testing.T, s *Stack) {
	res, err := dashboards.Run(context.Background(), dashboards.Influx{URL: s.Endpoints.InfluxDB, Database: localstack.InfluxDatabase},
		filepath.Join(s.root, "deploy/grafana/dashboards"), time.Now().Add(-time.Hour), time.Now().Add(time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) < 10 {
		t.Fatalf("only %d dashboard queries", len(res))
	}
	for _, r := range res {
		if !r.HasData() {
			t.Errorf("no data: %s", r)
		}
	}
	t.Logf("%d dashboard queries, each returned data", len(res))
}
