// Package kdsgen makes the change records the replication tests feed to the
// stream processor: it writes random puts, updates and deletes to DynamoDB
// Local and returns, for every change, the record Kinesis Data Streams for
// DynamoDB would have published (Record); it injects the delivery faults
// KDS allows, duplicates and out-of-order delivery (Disorder); and it
// publishes records to a kinesalite stream and splits its shards (Stream).
//
// It is shared by the in-process end-to-end test of streamproc/kinesis and
// the process-level proofs in tests/replication, so that both prove the
// stream processor against the same record stream. It must not import
// streamproc/kinesis (that package's own tests import this one).
package kdsgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/dualread/dualread/adapter/attr"
)

// Pub is one record to publish: the Kinesis partition key and the data.
// KDS for DynamoDB partitions by the item's key, so one item's records
// always land on one shard (until a split moves its hash range).
type Pub struct {
	PartitionKey string
	Data         []byte
}

// Record is the data of the Kinesis record KDS for DynamoDB publishes for
// one change (see /work/shared/DYNAMODB_FACTS.md): event is INSERT, MODIFY
// or REMOVE; newImg is nil for REMOVE, oldImg nil for INSERT; micros is the
// change's ApproximateCreationDateTime, written with MILLISECOND precision
// (truncated, as DynamoDB does) when milli is set, else MICROSECOND.
func Record(table, event string, keys, newImg, oldImg attr.Item, micros int64, milli bool) []byte {
	ts, prec := micros, "MICROSECOND"
	if milli {
		ts, prec = micros/1000, "MILLISECOND"
	}
	d := map[string]any{"ApproximateCreationDateTime": ts, "ApproximateCreationDateTimePrecision": prec,
		"Keys": keys, "SizeBytes": keys.Size() + newImg.Size() + oldImg.Size()}
	if newImg != nil {
		d["NewImage"] = newImg
	}
	if oldImg != nil {
		d["OldImage"] = oldImg
	}
	b, err := json.Marshal(map[string]any{"awsRegion": "us-east-1", "eventID": fmt.Sprint(micros), "eventName": event,
		"eventSource": "aws:dynamodb", "recordFormat": "application/json", "tableName": table, "userIdentity": nil, "dynamodb": d})
	if err != nil {
		// attr values always marshal; a failure here is a bug in attr.
		panic(fmt.Sprintf("kdsgen: marshal record: %v", err))
	}
	return b
}

// Disorder returns the records with the faults KDS for DynamoDB is
// documented to have: out-of-order delivery (each record moved up to 8
// places, then a second pass moving a quarter of them up to 16 places) and
// ~10% duplicates (a second copy, which the second pass moves away from
// its twin). Every input record is in the output at least once.
func Disorder(in []Pub, rnd *rand.Rand) []Pub {
	out := append([]Pub(nil), in...)
	for i := range out {
		j := min(len(out)-1, i+rnd.IntN(9))
		out[i], out[j] = out[j], out[i]
	}
	res := make([]Pub, 0, len(out)+len(out)/8)
	for _, p := range out {
		res = append(res, p)
		if rnd.IntN(10) == 0 {
			res = append(res, p)
		}
	}
	for i := range res {
		if rnd.IntN(4) == 0 {
			j := min(len(res)-1, i+rnd.IntN(16))
			res[i], res[j] = res[j], res[i]
		}
	}
	return res
}
