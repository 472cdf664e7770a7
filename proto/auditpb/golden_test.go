package auditpb_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dualread/dualread/proto/auditpb"
)

// -update rewrites the golden files; review the diff before keeping it, since
// a changed golden file means a changed wire format.
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenRecord sets every field, both oneof arms (one per side) and a
// repeated field, so a renumbered or retyped field changes the bytes.
func goldenRecord() *auditpb.Record {
	return &auditpb.Record{
		Id:            "req-0001",
		Time:          timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)),
		Service:       "checkout",
		Table:         "orders",
		Operation:     "GetItem",
		RequestJson:   []byte(`{"TableName":"orders","Key":{"pk":{"S":"a"}}}`),
		KeyAttributes: []string{"pk", "sk"},
		Primary: &auditpb.Response{
			Backend: "spanner",
			Status:  200,
			Outcome: &auditpb.Response_BodyJson{BodyJson: []byte(`{"Item":{"pk":{"S":"a"},"n":{"N":"1"}}}`)},
			Latency: durationpb.New(1500 * time.Microsecond),
		},
		Shadow: &auditpb.Response{
			Backend: "dynamodb",
			Status:  400,
			Outcome: &auditpb.Response_Error{Error: &auditpb.Error{
				Type:    "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
				Message: "Requested resource not found",
			}},
			Latency: durationpb.New(7 * time.Millisecond),
		},
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got %q\nwant %q", name, got, want)
	}
}

func TestRecordWireGolden(t *testing.T) {
	rec := goldenRecord()
	got, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "record.golden", got)

	// The golden bytes decode back to the same record: the format is read
	// compatible, not only write stable.
	want, _ := os.ReadFile(filepath.Join("testdata", "record.golden"))
	var back auditpb.Record
	if err := proto.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&back, rec) {
		t.Errorf("golden bytes decode to %v, want %v", &back, rec)
	}
}

func TestRecordJSONGolden(t *testing.T) {
	rec := goldenRecord()
	raw, err := protojson.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	// protojson randomises whitespace on purpose; compacting then indenting
	// gives bytes that are stable for the same message.
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&indented, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	checkGolden(t, "record.golden.json", indented.Bytes())

	var back auditpb.Record
	want, _ := os.ReadFile(filepath.Join("testdata", "record.golden.json"))
	if err := protojson.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&back, rec) {
		t.Errorf("golden JSON decodes to %v, want %v", &back, rec)
	}
}
