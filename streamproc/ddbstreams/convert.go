package ddbstreams

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/dualread/dualread/streamproc/record"
)

// Record is one DynamoDB Streams record in record form: the decoded change
// (its Version already stamped, see Stamp) or the decoding error, the
// record as GetRecords JSON (for dead letters and for republishing), and
// its sequence number.
type Record struct {
	Change *record.Change
	Err    error
	Raw    []byte
	Seq    string
	// Time is ApproximateCreationDateTime as DynamoDB gave it (µs).
	Time uint64
}

// Convert turns an SDK record into record form (without stamping): the
// SDK's typed record is written back as the GetRecords JSON and decoded by
// record.DecodeStreams, so this path validates exactly like the Lambda
// path does.
func Convert(r types.Record, table string) Record {
	raw, err := recordJSON(r)
	out := Record{Raw: raw}
	if r.Dynamodb != nil && r.Dynamodb.SequenceNumber != nil {
		out.Seq = *r.Dynamodb.SequenceNumber
	}
	if err != nil {
		out.Err = err
		return out
	}
	out.Change, out.Err = record.DecodeStreams(raw, table)
	if out.Change != nil {
		out.Time = out.Change.Version
	}
	return out
}

// recordJSON is r as the GetRecords API sends it.
func recordJSON(r types.Record) ([]byte, error) {
	m := map[string]any{"eventName": string(r.EventName)}
	setStr := func(k string, v *string) {
		if v != nil {
			m[k] = *v
		}
	}
	setStr("eventID", r.EventID)
	setStr("eventSource", r.EventSource)
	setStr("eventVersion", r.EventVersion)
	setStr("awsRegion", r.AwsRegion)
	if u := r.UserIdentity; u != nil {
		id := map[string]any{}
		if u.PrincipalId != nil {
			id["principalId"] = *u.PrincipalId
		}
		if u.Type != nil {
			id["type"] = *u.Type
		}
		m["userIdentity"] = id
	}
	if d := r.Dynamodb; d != nil {
		dm := map[string]any{}
		if d.ApproximateCreationDateTime != nil {
			dm["ApproximateCreationDateTime"] = json.Number(seconds(*d.ApproximateCreationDateTime))
		}
		for k, img := range map[string]map[string]types.AttributeValue{"Keys": d.Keys, "NewImage": d.NewImage, "OldImage": d.OldImage} {
			if img == nil {
				continue
			}
			js, err := itemJSON(img)
			if err != nil {
				return nil, err
			}
			dm[k] = js
		}
		if d.SequenceNumber != nil {
			dm["SequenceNumber"] = *d.SequenceNumber
		}
		if d.SizeBytes != nil {
			dm["SizeBytes"] = *d.SizeBytes
		}
		if d.StreamViewType != "" {
			dm["StreamViewType"] = string(d.StreamViewType)
		}
		m["dynamodb"] = dm
	}
	return json.Marshal(m)
}

// seconds writes t as epoch seconds with the microseconds DynamoDB gave.
func seconds(t time.Time) string {
	us := t.UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

func itemJSON(img map[string]types.AttributeValue) (map[string]any, error) {
	out := make(map[string]any, len(img))
	for k, v := range img {
		js, err := valueJSON(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = js
	}
	return out, nil
}

// valueJSON is one AttributeValue as DynamoDB JSON ({"S": ...}); []byte
// values marshal to base64 as DynamoDB's do.
func valueJSON(v types.AttributeValue) (map[string]any, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			js, err := valueJSON(e)
			if err != nil {
				return nil, err
			}
			l[i] = js
		}
		return map[string]any{"L": l}, nil
	case *types.AttributeValueMemberM:
		m, err := itemJSON(v.Value)
		if err != nil {
			return nil, err
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("unknown AttributeValue %T", v)
}
