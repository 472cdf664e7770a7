package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/dualread/dualread/streamproc/record"
)

// The two event shapes a forwarding Lambda function receives, by trigger:
//
//	DynamoDB Streams: {"Records":[{"eventID","eventName","eventSource":"aws:dynamodb",
//	  "eventSourceARN","dynamodb":{"ApproximateCreationDateTime" (s),"Keys","NewImage",
//	  "OldImage","SequenceNumber","SizeBytes","StreamViewType"}}]}
//	Kinesis (fed by Kinesis Data Streams for DynamoDB):
//	  {"Records":[{"kinesis":{"data": base64 of the KDS JSON,"sequenceNumber",
//	  "partitionKey",...},"eventSource":"aws:kinesis","eventID","eventSourceARN"}]}

// item is one record of an event, decoded.
type item struct {
	// id identifies the record in batchItemFailures: its sequence number.
	id      string
	streams bool // a DynamoDB Streams record (needs stamping)
	arn     string
	change  *record.Change
	err     error  // the change could not be decoded (dead-lettered)
	raw     []byte // the record (Streams) or the decoded data (Kinesis)
}

// badRequest is malformed input: the event itself, not one change in it.
// Such a batch is refused whole with a 400: a forwarder sending it is
// broken, and nothing of it is applied.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

type probe struct {
	EventSource    string          `json:"eventSource"`
	EventSourceARN string          `json:"eventSourceARN"`
	EventID        string          `json:"eventID"`
	Kinesis        json.RawMessage `json:"kinesis"`
	Dynamodb       json.RawMessage `json:"dynamodb"`
}

type kinesisPart struct {
	Data           *string `json:"data"`
	SequenceNumber string  `json:"sequenceNumber"`
}

type streamsPart struct {
	SequenceNumber string `json:"SequenceNumber"`
}

// parse decodes an event. Changes that do not decode are kept with their
// error (the caller dead-letters them, as the Kinesis consumer does: a
// record DynamoDB wrote can never decode later); anything wrong with the
// envelope is a badRequest.
func parse(body []byte) ([]item, error) {
	var ev struct {
		Records *[]json.RawMessage `json:"Records"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&ev); err != nil {
		return nil, badf("body is not a JSON event: %v", err)
	}
	if d.More() {
		return nil, badf("body has data after the event")
	}
	if ev.Records == nil {
		return nil, badf("event has no Records array")
	}
	out := make([]item, 0, len(*ev.Records))
	for i, raw := range *ev.Records {
		var p probe
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &p) != nil {
			return nil, badf("Records[%d] is not an object", i)
		}
		switch {
		case p.Kinesis != nil && p.Dynamodb == nil && (p.EventSource == "" || p.EventSource == "aws:kinesis"):
			var k kinesisPart
			if json.Unmarshal(p.Kinesis, &k) != nil || k.Data == nil {
				return nil, badf("Records[%d].kinesis has no data", i)
			}
			data, err := base64.StdEncoding.DecodeString(*k.Data)
			if err != nil {
				return nil, badf("Records[%d].kinesis.data is not base64: %v", i, err)
			}
			it := item{id: k.SequenceNumber, arn: p.EventSourceARN, raw: data}
			it.change, it.err = record.DecodeKinesis(data)
			out = append(out, it)
		case p.Dynamodb != nil && p.Kinesis == nil && (p.EventSource == "" || p.EventSource == "aws:dynamodb"):
			var s streamsPart
			if p.Dynamodb[0] != '{' || json.Unmarshal(p.Dynamodb, &s) != nil {
				return nil, badf("Records[%d].dynamodb is not an object", i)
			}
			it := item{id: s.SequenceNumber, streams: true, arn: p.EventSourceARN, raw: raw}
			it.change, it.err = record.DecodeStreams(raw, "")
			if it.err == nil && it.change.SequenceNumber == "" {
				// Without it, retries and duplicates of an item's records
				// within one second cannot be told apart.
				it.change, it.err = nil, &record.Error{Msg: "DynamoDB Streams record without SequenceNumber"}
			}
			out = append(out, it)
		default:
			return nil, badf("Records[%d] is neither a DynamoDB Streams record nor a Kinesis record", i)
		}
	}
	return out, nil
}
