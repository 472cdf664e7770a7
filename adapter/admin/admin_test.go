package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/adapter/shadow"
)

func TestModesAPI(t *testing.T) {
	set, err := modes.NewSet([]modes.Rule{{Pattern: "default", Mode: modes.Default}})
	if err != nil {
		t.Fatal(err)
	}
	sh := shadow.New(shadow.Config{}, nil, nil, nil)
	defer sh.Close()
	srv := httptest.NewServer(Handler(set, sh, func(w io.Writer) { io.WriteString(w, "dualread_audit_sink_errors_total{sink=\"influxdb\"} 3\n") }))
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = readBody(b, resp)
		return resp.StatusCode, b.String()
	}
	if code, body := do("PUT", "/modes/orders", `{"writes":"reject"}`); code != 200 || !strings.Contains(body, `"writes": "reject"`) || !strings.Contains(body, `"serve": "store"`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if set.For("orders").Writes != "reject" {
		t.Error("override not applied")
	}
	if code, _ := do("PUT", "/modes/orders", `{"writes":"sometimes"}`); code != 400 {
		t.Errorf("bad mode accepted: %d", code)
	}
	if code, _ := do("PUT", "/modes/orders", `{"wrtes":"serve"}`); code != 400 {
		t.Errorf("unknown field accepted: %d", code)
	}
	if code, body := do("GET", "/modes?table=orders", ""); code != 200 || !strings.Contains(body, `"from": "override"`) {
		t.Errorf("GET: %d %s", code, body)
	}
	if code, _ := do("DELETE", "/modes/orders", ""); code != 200 || set.For("orders").From != "default" {
		t.Errorf("DELETE: %d, mode from %s", code, set.For("orders").From)
	}
	if code, body := do("GET", "/metrics", ""); code != 200 || !strings.Contains(body, "dualread_shadow_dropped_total 0") ||
		!strings.Contains(body, `dualread_shadow_breaker_open{target="store"} 0`) || !strings.Contains(body, `dualread_audit_sink_errors_total{sink="influxdb"} 3`) {
		t.Errorf("metrics: %d %s", code, body)
	}
	if code, _ := do("PUT", "/modes/orders", `{"serve":"dynamodb","shadow":"dynamodb"}`); code != 400 {
		t.Errorf("shadowing DynamoDB with itself accepted: %d", code)
	}
	if code, body := do("PUT", "/modes/orders", `{"serve":"dynamodb","shadow":"bigtable","sample":0.5}`); code != 200 || !strings.Contains(body, `"shadow": "bigtable"`) {
		t.Errorf("serve dynamodb, shadow bigtable: %d %s", code, body)
	}
}
