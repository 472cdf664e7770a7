package bench

import (
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]int
		wantErr string
	}{
		{"GetItem=50,PutItem=30,Query=20", map[string]int{OpGetItem: 50, OpPutItem: 30, OpQuery: 20}, ""},
		{" getitem = 1 , scan=0, ", map[string]int{OpGetItem: 1, OpScan: 0}, ""},
		{"BatchGetItem=3,UpdateItem=1", map[string]int{OpBatchGetItem: 3, OpUpdateItem: 1}, ""},
		{"", nil, "add up to 0"},
		{"GetItem=0", nil, "add up to 0"},
		{"DeleteTable=1", nil, "unknown operation"},
		{"GetItem", nil, "want Operation=weight"},
		{"GetItem=-1", nil, "integer >= 0"},
		{"GetItem=x", nil, "integer >= 0"},
		{"GetItem=1,getitem=2", nil, "given twice"},
		{"GetItem=999999,PutItem=999999", nil, "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMix(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseMix(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("ParseMix(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParseMix(f *testing.F) {
	for _, s := range []string{DefaultMix, "Scan=1", "getitem=1,,", "GetItem=1,GetItem=1", "Query=+5", "=", "PutItem=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mix, err := ParseMix(s)
		if err != nil {
			return
		}
		// Whatever parses must validate and survive a round trip.
		if err := validateMix(mix); err != nil {
			t.Fatalf("ParseMix(%q) accepted an invalid mix: %v", s, err)
		}
		back, err := ParseMix(FormatMix(mix))
		if err != nil || !maps.Equal(back, mix) {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	ok := Config{Endpoint: "http://127.0.0.1:8000"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"localhost", func(c *Config) { c.Endpoint = "http://localhost:9" }, ""},
		{"ipv6 loopback", func(c *Config) { c.Endpoint = "http://[::1]:9" }, ""},
		{"127/8", func(c *Config) { c.Endpoint = "http://127.1.2.3:9" }, ""},
		{"private address", func(c *Config) { c.Endpoint = "http://10.0.0.1:8000" }, "loopback"},
		{"public name", func(c *Config) { c.Endpoint = "https://dynamodb.us-east-1.amazonaws.com" }, "loopback"},
		{"no scheme", func(c *Config) { c.Endpoint = "127.0.0.1:8000" }, "want http"},
		{"empty", func(c *Config) { c.Endpoint = "" }, "want http"},
		{"concurrency", func(c *Config) { c.Concurrency = MaxConcurrency + 1 }, "concurrency"},
		{"duration", func(c *Config) { c.Duration = MaxDuration + time.Second }, "duration"},
		{"keys", func(c *Config) { c.Keys = MaxKeys + 1 }, "keys"},
		{"item size", func(c *Config) { c.ItemSize = -1 }, "item size"},
		{"max ops", func(c *Config) { c.MaxOps = -1 }, "max ops"},
		{"mix", func(c *Config) { c.Mix = map[string]int{"Nope": 1} }, "unknown operation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			got, err := c.withDefaults()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.Concurrency == 0 || got.MaxOps == 0 || len(got.Mix) == 0 || got.Table == "" {
					t.Fatalf("defaults not applied: %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// The bare handler's answers carry the headers the SDK and DynamoDB's
// clients rely on, with a CRC32 that matches the body.
func TestBareHandlerHeaders(t *testing.T) {
	h := NewBareHandler(BareOptions{ItemSize: 10, Fail: map[string]string{OpScan: "InternalServerError"}})
	tests := []struct {
		target     string
		wantStatus int
		wantBody   string
	}{
		{targetPrefix + OpGetItem, 200, `"payload":{"S":"`},
		{targetPrefix + OpQuery, 200, `"Items":[]`},
		{targetPrefix + "DescribeTable", 200, `"TableStatus":"ACTIVE"`},
		{targetPrefix + OpScan, 500, `#InternalServerError"`},
		{targetPrefix + "Nope", 400, "UnknownOperationException"},
		{"", 400, "UnknownOperationException"},
	}
	ids := map[string]bool{}
	for _, tc := range tests {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", tc.target)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
			t.Errorf("%q: %d %s; want %d with %q", tc.target, rec.Code, body, tc.wantStatus, tc.wantBody)
		}
		if crc := rec.Header().Get("X-Amz-Crc32"); crc != strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10) {
			t.Errorf("%q: x-amz-crc32 %s does not match the body", tc.target, crc)
		}
		id := rec.Header().Get("X-Amzn-RequestId")
		if len(id) != 52 || ids[id] {
			t.Errorf("%q: request id %q is not a fresh 52-character id", tc.target, id)
		}
		ids[id] = true
	}
	if h.Requests(OpGetItem) != 1 || h.Requests(OpScan) != 1 || h.Requests("") != 2 {
		t.Errorf("counts GetItem %d Scan %d other %d; want 1, 1, 2", h.Requests(OpGetItem), h.Requests(OpScan), h.Requests(""))
	}
}
