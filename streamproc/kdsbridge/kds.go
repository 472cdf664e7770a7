package kdsbridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/dualread/dualread/streamproc/ddbstreams"
	"github.com/dualread/dualread/streamproc/record"
)

// kdsRecord is the JSON Kinesis Data Streams for DynamoDB writes for one
// change (field order as AWS writes it; see streamproc/record/testdata).
type kdsRecord struct {
	AwsRegion    string          `json:"awsRegion"`
	Dynamodb     kdsPayload      `json:"dynamodb"`
	EventID      string          `json:"eventID"`
	EventName    string          `json:"eventName"`
	EventSource  string          `json:"eventSource"`
	RecordFormat string          `json:"recordFormat"`
	TableName    string          `json:"tableName"`
	UserIdentity json.RawMessage `json:"userIdentity"`
}

type kdsPayload struct {
	ApproximateCreationDateTime          uint64          `json:"ApproximateCreationDateTime"`
	ApproximateCreationDateTimePrecision string          `json:"ApproximateCreationDateTimePrecision"`
	Keys                                 json.RawMessage `json:"Keys"`
	NewImage                             json.RawMessage `json:"NewImage,omitempty"`
	OldImage                             json.RawMessage `json:"OldImage,omitempty"`
	SizeBytes                            int64           `json:"SizeBytes"`
}

// streamsRecord is the part of a DynamoDB Streams record that is copied.
type streamsRecord struct {
	EventID      string          `json:"eventID"`
	EventName    string          `json:"eventName"`
	UserIdentity json.RawMessage `json:"userIdentity"`
	Dynamodb     struct {
		Keys      json.RawMessage `json:"Keys"`
		NewImage  json.RawMessage `json:"NewImage"`
		OldImage  json.RawMessage `json:"OldImage"`
		SizeBytes int64           `json:"SizeBytes"`
	} `json:"dynamodb"`
}

// toKDS turns a stamped DynamoDB Streams record into the KDS-for-DynamoDB
// JSON and the partition key it is published under. The time is the
// record's stamped version in MICROSECOND precision: the Kinesis consumer
// then applies exactly the versions the DynamoDB Streams consumer would,
// so either path converges to the same target. The partition key hashes
// table and item key, so all changes of an item land in one Kinesis shard,
// in order.
func toKDS(r ddbstreams.Record, region string) (data []byte, partitionKey string, err error) {
	if r.Change == nil {
		if r.Err != nil {
			return nil, "", r.Err
		}
		return nil, "", errors.New("kdsbridge: record without change")
	}
	var src streamsRecord
	if err := json.Unmarshal(r.Raw, &src); err != nil {
		return nil, "", err
	}
	ui := src.UserIdentity
	if len(ui) == 0 {
		ui = json.RawMessage("null")
	}
	out := kdsRecord{AwsRegion: region, EventID: src.EventID, EventName: src.EventName, EventSource: "aws:dynamodb",
		RecordFormat: "application/json", TableName: r.Change.Table, UserIdentity: ui,
		Dynamodb: kdsPayload{ApproximateCreationDateTime: r.Change.Version, ApproximateCreationDateTimePrecision: record.PrecisionMicrosecond,
			Keys: src.Dynamodb.Keys, NewImage: src.Dynamodb.NewImage, OldImage: src.Dynamodb.OldImage, SizeBytes: src.Dynamodb.SizeBytes}}
	data, err = json.Marshal(out)
	if err != nil {
		return nil, "", err
	}
	return data, PartitionKey(r.Change), nil
}

// PartitionKey is the Kinesis partition key of a change: 32 hex digits of
// SHA-256 over table and canonical item key.
func PartitionKey(c *record.Change) string {
	h := sha256.Sum256(c.Keys.AppendJSON([]byte(c.Table + "\x00")))
	return hex.EncodeToString(h[:16])
}
