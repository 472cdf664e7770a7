package diff

import (
	"strings"
	"testing"

	"github.com/dualread/dualread/proto/auditpb"
)

func ok(body string) *auditpb.Response {
	return &auditpb.Response{Status: 200, Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(body)}}
}

func okb(body []byte) *auditpb.Response {
	return &auditpb.Response{Status: 200, Outcome: &auditpb.Response_BodyJson{BodyJson: body}}
}

func fail(status int32, typ, msg string) *auditpb.Response {
	return &auditpb.Response{Status: status, Outcome: &auditpb.Response_Error{Error: &auditpb.Error{Type: typ, Message: msg}}}
}

func record(op, req string, keys []string, p, s *auditpb.Response) *auditpb.Record {
	return &auditpb.Record{Id: "r", Table: "t", Operation: op, RequestJson: []byte(req), KeyAttributes: keys, Primary: p, Shadow: s}
}

var pk = []string{"pk"}
var pksk = []string{"pk", "sk"}

func TestCompareClassifies(t *testing.T) {
	const batchReq = `{"RequestItems":{"t":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}]}}}`
	cases := []struct {
		name string
		rec  *auditpb.Record
		want Class
		// path, when set, must be the path of some patch operation: the
		// divergence is found where it is, not just somewhere.
		path string
	}{
		// The eight injected divergences.
		{"missing item", record("GetItem", "", pk, ok(`{}`), ok(`{"Item":{"pk":{"S":"a"}}}`)), MissingOnPrimary, "/Item"},
		{"extra item", record("Scan", "", pk,
			ok(`{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"Count":2,"ScannedCount":2}`),
			ok(`{"Items":[{"pk":{"S":"a"}}],"Count":1,"ScannedCount":1}`)), MissingOnShadow, `/Items/{"S":"b"}`},
		{"changed value", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"v":{"S":"x"}}}`), ok(`{"Item":{"pk":{"S":"a"},"v":{"S":"y"}}}`)), Mismatch, "/Item/v/S"},
		{"N vs S", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}`), ok(`{"Item":{"pk":{"S":"a"},"v":{"S":"1"}}}`)), Mismatch, "/Item/v/N"},
		{"nested map change", record("Query", "", pksk,
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"},"m":{"M":{"in":{"M":{"z":{"BOOL":true}}}}}}],"Count":1}`),
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"},"m":{"M":{"in":{"M":{"z":{"BOOL":false}}}}}}],"Count":1}`)),
			Mismatch, `/Items/{"S":"a"},{"N":"1"}/m/M/in/M/z/BOOL`},
		{"set element", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"s":{"SS":["a","b"]}}}`), ok(`{"Item":{"pk":{"S":"a"},"s":{"SS":["a","c"]}}}`)), Mismatch, "/Item/s/SS/1"},
		{"list order", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"l":{"L":[{"N":"1"},{"N":"2"}]}}}`), ok(`{"Item":{"pk":{"S":"a"},"l":{"L":[{"N":"2"},{"N":"1"}]}}}`)), Mismatch, "/Item/l/L/0/N"},
		{"number precision", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"n":{"N":"1.5"}}}`), ok(`{"Item":{"pk":{"S":"a"},"n":{"N":"1.50000000000000000000000000000000001"}}}`)), Mismatch, "/Item/n/N"},

		// Differences that are not divergences.
		{"number spelling", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"n":{"N":"1.50"},"m":{"N":"1e2"},"z":{"N":"-0"},"ns":{"NS":["10","2.0"]}}}`),
			ok(`{"Item":{"pk":{"S":"a"},"n":{"N":"1.5"},"m":{"N":"100"},"z":{"N":"0"},"ns":{"NS":["2","1E1"]}}}`)), Match, ""},
		{"set order", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"},"s":{"SS":["b","a","c"]},"b":{"BS":["AQ==","Ag=="]}}}`),
			ok(`{"Item":{"pk":{"S":"a"},"s":{"SS":["c","b","a"]},"b":{"BS":["Ag==","AQ=="]}}}`)), Match, ""},
		{"scan order", record("Scan", "", pksk,
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"b"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"2"}}],"Count":3,"ScannedCount":3}`),
			ok(`{"Items":[{"pk":{"S":"b"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"2"}},{"pk":{"S":"a"},"sk":{"N":"1"}}],"Count":3,"ScannedCount":3}`)), Match, ""},
		{"consumed capacity", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}`),
			ok(`{"Item":{"pk":{"S":"a"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":1}}`)), Match, ""},
		{"scan without key names is a multiset", record("Scan", "", nil,
			ok(`{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}],"Count":2}`), ok(`{"Items":[{"pk":{"S":"b"}},{"pk":{"S":"a"}}],"Count":2}`)), Match, ""},

		// Item alignment and the other operations.
		{"query order", record("Query", "", pksk,
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"2"}}],"Count":2}`),
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"2"}},{"pk":{"S":"a"},"sk":{"N":"1"}}],"Count":2}`)), Mismatch, "/ItemOrder/0"},
		{"query missing item keeps order of the rest", record("Query", "", pksk,
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"3"}}],"Count":2}`),
			ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"a"},"sk":{"N":"2"}},{"pk":{"S":"a"},"sk":{"N":"3"}}],"Count":3}`)), MissingOnPrimary, `/Items/{"S":"a"},{"N":"2"}`},
		{"projection without keys: changed item", record("Query", "", pksk,
			ok(`{"Items":[{"v":{"S":"x"}}],"Count":1}`), ok(`{"Items":[{"v":{"S":"y"}}],"Count":1}`)), Mismatch, ""},
		{"duplicated item", record("Scan", "", pk,
			ok(`{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"a"}}],"Count":2}`), ok(`{"Items":[{"pk":{"S":"a"}}],"Count":1}`)), MissingOnShadow, `/Items/{"S":"a"} #2`},
		{"missing and extra", record("Scan", "", pk,
			ok(`{"Items":[{"pk":{"S":"a"}}],"Count":1}`), ok(`{"Items":[{"pk":{"S":"b"}}],"Count":1}`)), Mismatch, ""},
		{"paged scan", record("Scan", `{"Limit":1}`, pk,
			ok(`{"Items":[{"pk":{"S":"a"}}],"Count":1,"LastEvaluatedKey":{"pk":{"S":"a"}}}`),
			ok(`{"Items":[{"pk":{"S":"b"}}],"Count":1,"LastEvaluatedKey":{"pk":{"S":"b"}}}`)), Incomparable, ""},
		{"parallel scan", record("Scan", `{"Segment":0,"TotalSegments":4}`, pk,
			ok(`{"Items":[{"pk":{"S":"a"}}],"Count":1}`), ok(`{"Items":[],"Count":0}`)), Incomparable, ""},
		{"batch get unprocessed keys", record("BatchGetItem", batchReq, nil,
			ok(`{"Responses":{"t":[{"pk":{"S":"b"},"v":{"N":"1"}},{"pk":{"S":"a"}}]},"UnprocessedKeys":{}}`),
			ok(`{"Responses":{"t":[{"pk":{"S":"a"}}]},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"b"}}]}}}`)), Match, ""},
		{"batch get missing", record("BatchGetItem", batchReq, nil,
			ok(`{"Responses":{"t":[{"pk":{"S":"a"}}]}}`), ok(`{"Responses":{"t":[{"pk":{"S":"b"}},{"pk":{"S":"a"}}]}}`)), MissingOnPrimary, `/Responses/t/{"S":"b"}`},
		{"transact get missing", record("TransactGetItems", "", nil,
			ok(`{"Responses":[{"Item":{"pk":{"S":"a"}}},{}]}`), ok(`{"Responses":[{"Item":{"pk":{"S":"a"}}},{"Item":{"pk":{"S":"b"}}}]}`)), MissingOnPrimary, "/Responses/1/Item"},

		// Errors.
		{"same error, other namespace", record("GetItem", "", pk,
			fail(400, "com.amazon.coral.validate#ValidationException", "bad"),
			fail(400, "com.amazonaws.dynamodb.v20120810#ValidationException", "bad")), Match, ""},
		{"one side failed", record("GetItem", "", pk,
			ok(`{"Item":{"pk":{"S":"a"}}}`), fail(0, "dualread#Timeout", "context deadline exceeded")), ErrorMismatch, ""},
		{"different errors", record("GetItem", "", pk,
			fail(400, "x#ValidationException", "a"), fail(400, "x#ResourceNotFoundException", "b")), ErrorMismatch, "/error/type"},
		{"error as body", record("GetItem", "", pk,
			&auditpb.Response{Status: 400, Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(`{"__type":"a#ValidationException","message":"bad"}`)}},
			fail(400, "b#ValidationException", "bad")), Match, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Compare(c.rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Class != c.want {
				t.Fatalf("class %s, want %s; patch %v", res.Class, c.want, res.Patch)
			}
			if c.want == Match && len(res.Patch) != 0 {
				t.Errorf("match with a patch: %v", res.Patch)
			}
			if c.want != Match && c.want != Incomparable && len(res.Patch) == 0 {
				t.Errorf("%s with an empty patch", c.want)
			}
			if c.path != "" {
				found := false
				var paths []string
				for _, op := range res.Patch {
					// Patch paths escape '~' and '/'; none of these need it.
					found = found || op.Path == c.path
					paths = append(paths, op.Type+" "+op.Path)
				}
				if !found {
					t.Errorf("no op at %s; ops: %s", c.path, strings.Join(paths, "; "))
				}
			}
		})
	}
}

func TestIgnoreRules(t *testing.T) {
	rec := record("Query", "", pksk,
		ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"},"at":{"N":"5"},"m":{"M":{"etag":{"S":"1"},"v":{"S":"same"}}}}],"Count":1,"ScannedCount":1}`),
		ok(`{"Items":[{"pk":{"S":"a"},"sk":{"N":"1"},"at":{"N":"6"},"m":{"M":{"etag":{"S":"2"},"v":{"S":"same"}}}}],"Count":1,"ScannedCount":1}`))
	cases := []struct {
		name  string
		rules []IgnoreRule
		want  Class
	}{
		{"none", nil, Mismatch},
		{"one of two", []IgnoreRule{{Path: "/Items/*/at"}}, Mismatch},
		{"both", []IgnoreRule{{Path: "/Items/*/at"}, {Path: "/**/etag"}}, Match},
		{"other table", []IgnoreRule{{Table: "x*", Path: "/Items/*/at"}, {Path: "/**/etag"}}, Mismatch},
		{"table glob and op", []IgnoreRule{{Table: "t*", Operation: "Query", Path: "/Items/*/at"}, {Path: "/**/etag"}}, Match},
		{"other op", []IgnoreRule{{Operation: "Scan", Path: "/Items/*/at"}, {Path: "/**/etag"}}, Mismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &Options{Ignore: c.rules}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			res, err := Compare(rec, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Class != c.want {
				t.Errorf("class %s, want %s; patch %v", res.Class, c.want, res.Patch)
			}
		})
	}
	if err := (&Options{Ignore: []IgnoreRule{{Path: "Items"}}}).Validate(); err == nil {
		t.Error("a path without a leading / was accepted")
	}
}
