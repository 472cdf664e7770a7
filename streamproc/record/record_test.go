package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

func itemJSON(it attr.Item) string {
	if it == nil {
		return "nil"
	}
	return string(it.AppendJSON(nil))
}

// TestGolden decodes sample records in the shapes AWS documents and checks
// every field a consumer uses, in particular both timestamp precisions.
func TestGolden(t *testing.T) {
	cases := []struct {
		file, table    string // table: DecodeStreams argument; file prefix picks the decoder
		wantTable      string
		event          Event
		version        uint64
		keys, newImage string
		ttl            bool
		seq            string
	}{
		{file: "kds_insert_micro.json", wantTable: "Music", event: Insert, version: 1751983299344957,
			keys:     `{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}`,
			newImage: `{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"},"Tags":{"SS":["pop","indie"]},"Year":{"N":"2019"}}`},
		{file: "kds_modify_milli.json", wantTable: "counters", event: Modify, version: 1634058025614000,
			keys:     `{"pk":{"N":"17"}}`,
			newImage: `{"m":{"M":{"a":{"L":[{"BOOL":true},{"NULL":true}]}}},"n":{"N":"2"},"pk":{"N":"17"}}`},
		{file: "kds_remove_ttl_noprecision.json", wantTable: "sessions", event: Remove, version: 1634058025614000,
			keys: `{"id":{"B":"AAEC"}}`, newImage: "nil", ttl: true},
		{file: "streams_lambda.json", wantTable: "ExampleTableWithStream", event: Modify, version: 1479499740000000,
			keys: `{"Id":{"N":"101"}}`, newImage: `{"Id":{"N":"101"},"Message":{"S":"This item has changed"}}`, seq: "222"},
		{file: "streams_api_fraction.json", table: "given", wantTable: "given", event: Remove, version: 1700000001234500,
			keys: `{"pk":{"S":"a"}}`, newImage: "nil", seq: "000000000000000000017"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			var ch *Change
			if strings.HasPrefix(c.file, "kds_") {
				ch, err = DecodeKinesis(data)
			} else {
				ch, err = DecodeStreams(data, c.table)
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Table != c.wantTable || ch.Event != c.event || ch.Version != c.version || ch.TTLDelete != c.ttl || ch.SequenceNumber != c.seq {
				t.Errorf("got table %q event %s version %d ttl %v seq %q", ch.Table, ch.Event, ch.Version, ch.TTLDelete, ch.SequenceNumber)
			}
			if got := itemJSON(ch.Keys); got != c.keys {
				t.Errorf("keys %s, want %s", got, c.keys)
			}
			if got := itemJSON(ch.Image()); got != c.newImage {
				t.Errorf("image %s, want %s", got, c.newImage)
			}
		})
	}
}

// TestPrecisionsAgree: the same instant in both precisions is one version,
// so a change delivered once in each form is a Duplicate, not two changes.
func TestPrecisionsAgree(t *testing.T) {
	mk := func(ts, prec string) string {
		return `{"eventName":"INSERT","tableName":"t","dynamodb":{"ApproximateCreationDateTime":` + ts +
			`,"ApproximateCreationDateTimePrecision":"` + prec + `","Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`
	}
	a, err := DecodeKinesis([]byte(mk("1700000000123", PrecisionMillisecond)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeKinesis([]byte(mk("1700000000123000", PrecisionMicrosecond)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != b.Version || a.Version != 1700000000123000 {
		t.Fatalf("versions %d and %d", a.Version, b.Version)
	}
}

// TestRejects: records that cannot be applied are permanent decode errors
// (the consumer dead-letters them), each with a message naming the problem.
func TestRejects(t *testing.T) {
	ok := `"dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}`
	cases := []struct{ name, data, msg string }{
		{"not json", `{"eventName":`, "bad JSON"},
		{"trailing", `{"eventName":"INSERT","tableName":"t",` + ok + `} {}`, "data after"},
		{"array", `[]`, "bad JSON"},
		{"no table", `{"eventName":"INSERT",` + ok + `}`, "missing tableName"},
		{"bad event", `{"eventName":"UPSERT","tableName":"t",` + ok + `}`, "unknown eventName"},
		{"no dynamodb", `{"eventName":"INSERT","tableName":"t"}`, "missing dynamodb"},
		{"no time", `{"eventName":"INSERT","tableName":"t","dynamodb":{"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`, "missing ApproximateCreationDateTime"},
		{"fraction", `{"eventName":"INSERT","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1.5,"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`, "not a positive integer"},
		{"negative", `{"eventName":"INSERT","tableName":"t","dynamodb":{"ApproximateCreationDateTime":-1,"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`, "not a positive integer"},
		{"overflow", `{"eventName":"INSERT","tableName":"t","dynamodb":{"ApproximateCreationDateTime":99999999999999999999,"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`, "out of range"},
		{"bad precision", `{"eventName":"INSERT","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1,"ApproximateCreationDateTimePrecision":"SECOND","Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`, "unknown ApproximateCreationDateTimePrecision"},
		{"no keys", `{"eventName":"REMOVE","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1}}`, "missing Keys"},
		{"bad keys", `{"eventName":"REMOVE","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"k":{"Q":"a"}}}}`, "Keys:"},
		{"no image", `{"eventName":"MODIFY","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"k":{"S":"a"}}}}`, "without NewImage"},
		{"image disagrees", `{"eventName":"MODIFY","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"b"}}}}`, "disagrees"},
		{"other source", `{"eventSource":"aws:s3","eventName":"INSERT","tableName":"t",` + ok + `}`, "not aws:dynamodb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeKinesis([]byte(c.data))
			if err == nil || !IsDecodeError(err) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err %v, want a decode error containing %q", err, c.msg)
			}
		})
	}
	if _, err := DecodeStreams([]byte(`{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"k":{"S":"a"}}}}`), ""); err == nil || !strings.Contains(err.Error(), "no table name") {
		t.Errorf("streams record without table: %v", err)
	}
	if _, err := DecodeStreams([]byte(`{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1e999999999,"Keys":{"k":{"S":"a"}}}}`), "t"); err == nil {
		t.Errorf("huge exponent accepted")
	}
}

// FuzzDecode: neither decoder panics, every error is a decode error, and a
// decoded change is self-consistent (a key, a positive version, an image
// unless it is a delete).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"eventName":"INSERT","tableName":"t","dynamodb":{"ApproximateCreationDateTime":1e3,"Keys":{"k":{"S":"a"}},"NewImage":{"k":{"S":"a"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dec := range []func([]byte) (*Change, error){DecodeKinesis, func(b []byte) (*Change, error) { return DecodeStreams(b, "") }} {
			c, err := dec(data)
			if err != nil {
				if !IsDecodeError(err) {
					t.Fatalf("error %v is not a decode error", err)
				}
				continue
			}
			if c.Table == "" || len(c.Keys) == 0 || c.Version == 0 || c.Version > maxMicros {
				t.Fatalf("inconsistent change %+v", c)
			}
			if c.Event != Remove && c.Image() == nil {
				t.Fatalf("%s without image", c.Event)
			}
		}
	})
}
