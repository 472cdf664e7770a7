// Package record decodes DynamoDB change records into Changes: the
// Kinesis Data Streams for DynamoDB JSON (both timestamp precisions) and the
// DynamoDB Streams record shape (GetRecords API, and the records a Lambda
// trigger forwards). A Change carries everything last-writer-wins needs: the
// table, the item key, the new image (nil for a delete) and the change's
// time in microseconds, which becomes the stored version.
package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
)

// Event is the kind of change.
type Event uint8

const (
	Insert Event = iota + 1
	Modify
	Remove
)

func (e Event) String() string {
	switch e {
	case Insert:
		return "INSERT"
	case Modify:
		return "MODIFY"
	case Remove:
		return "REMOVE"
	}
	return "?"
}

func parseEvent(s string) (Event, bool) {
	switch s {
	case "INSERT":
		return Insert, true
	case "MODIFY":
		return Modify, true
	case "REMOVE":
		return Remove, true
	}
	return 0, false
}

// Change is one decoded item change.
type Change struct {
	Table    string
	Event    Event
	Keys     attr.Item
	NewImage attr.Item // nil for Remove (and for a KEYS_ONLY stream)
	OldImage attr.Item
	// Version is ApproximateCreationDateTime in microseconds since the epoch.
	Version   uint64
	SizeBytes int64
	EventID   string
	// SequenceNumber is set for DynamoDB Streams records (per-item ordered
	// there); empty for Kinesis, where the Kinesis record's own sequence
	// number is the consumer's business.
	SequenceNumber string
	// TTLDelete marks a REMOVE made by DynamoDB's TTL process
	// (userIdentity.principalId = dynamodb.amazonaws.com).
	TTLDelete bool
}

// Image is what the item becomes: NewImage, or nil for a delete.
func (c *Change) Image() attr.Item {
	if c.Event == Remove {
		return nil
	}
	return c.NewImage
}

// Error is a record that cannot be decoded. It is permanent: retrying the
// same bytes gives the same error, so the caller dead-letters the record.
type Error struct{ Msg string }

func (e *Error) Error() string { return "record: " + e.Msg }

func errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

// IsDecodeError reports whether err is a permanent decoding error.
func IsDecodeError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Precision values of ApproximateCreationDateTimePrecision.
const (
	PrecisionMillisecond = "MILLISECOND"
	PrecisionMicrosecond = "MICROSECOND"
)

type kinesisJSON struct {
	EventID      string          `json:"eventID"`
	EventName    string          `json:"eventName"`
	TableName    string          `json:"tableName"`
	EventSource  string          `json:"eventSource"`
	UserIdentity *userIdentity   `json:"userIdentity"`
	Dynamodb     *kinesisPayload `json:"dynamodb"`
}

type userIdentity struct {
	PrincipalID string `json:"principalId"`
	Type        string `json:"type"`
}

type kinesisPayload struct {
	ApproximateCreationDateTime          json.Number     `json:"ApproximateCreationDateTime"`
	ApproximateCreationDateTimePrecision string          `json:"ApproximateCreationDateTimePrecision"`
	Keys                                 json.RawMessage `json:"Keys"`
	NewImage                             json.RawMessage `json:"NewImage"`
	OldImage                             json.RawMessage `json:"OldImage"`
	SizeBytes                            int64           `json:"SizeBytes"`
}

// DecodeKinesis decodes the data of one Kinesis record written by Kinesis
// Data Streams for DynamoDB. ApproximateCreationDateTime is epoch
// milliseconds or microseconds as ApproximateCreationDateTimePrecision says;
// an absent precision means MILLISECOND (records written before AWS added
// the field).
func DecodeKinesis(data []byte) (*Change, error) {
	var r kinesisJSON
	if err := strictUnmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.EventSource != "" && r.EventSource != "aws:dynamodb" {
		return nil, errorf("eventSource %q is not aws:dynamodb", r.EventSource)
	}
	if r.TableName == "" {
		return nil, errorf("missing tableName")
	}
	if r.Dynamodb == nil {
		return nil, errorf("missing dynamodb")
	}
	var scale uint64
	switch r.Dynamodb.ApproximateCreationDateTimePrecision {
	case PrecisionMillisecond, "":
		scale = 1000
	case PrecisionMicrosecond:
		scale = 1
	default:
		return nil, errorf("unknown ApproximateCreationDateTimePrecision %q", r.Dynamodb.ApproximateCreationDateTimePrecision)
	}
	v, err := scaleTime(r.Dynamodb.ApproximateCreationDateTime, scale)
	if err != nil {
		return nil, err
	}
	c := &Change{Table: r.TableName, EventID: r.EventID, Version: v, SizeBytes: r.Dynamodb.SizeBytes}
	if err := c.fill(r.EventName, r.Dynamodb.Keys, r.Dynamodb.NewImage, r.Dynamodb.OldImage, r.UserIdentity); err != nil {
		return nil, err
	}
	return c, nil
}

type streamsJSON struct {
	EventID        string          `json:"eventID"`
	EventName      string          `json:"eventName"`
	EventSource    string          `json:"eventSource"`
	EventSourceARN string          `json:"eventSourceARN"`
	UserIdentity   *userIdentity   `json:"userIdentity"`
	Dynamodb       *streamsPayload `json:"dynamodb"`
}

type streamsPayload struct {
	ApproximateCreationDateTime json.Number     `json:"ApproximateCreationDateTime"`
	Keys                        json.RawMessage `json:"Keys"`
	NewImage                    json.RawMessage `json:"NewImage"`
	OldImage                    json.RawMessage `json:"OldImage"`
	SequenceNumber              string          `json:"SequenceNumber"`
	SizeBytes                   int64           `json:"SizeBytes"`
}

// DecodeStreams decodes one DynamoDB Streams record (the GetRecords API's
// JSON, or one element of a Lambda event's Records). Such records carry no
// table name: table names it, or, when empty, it is taken from
// eventSourceARN (arn:aws:dynamodb:R:A:table/NAME/stream/LABEL, present in
// Lambda events). ApproximateCreationDateTime is epoch seconds there
// (fractional), so Version has whole-second resolution at best; DynamoDB
// Streams deliver each item's changes exactly once and in order, so the
// consumer must apply them in SequenceNumber order rather than rely on
// Version alone (see streamproc/README.md).
func DecodeStreams(data []byte, table string) (*Change, error) {
	var r streamsJSON
	if err := strictUnmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.EventSource != "" && r.EventSource != "aws:dynamodb" {
		return nil, errorf("eventSource %q is not aws:dynamodb", r.EventSource)
	}
	if table == "" {
		table = tableFromARN(r.EventSourceARN)
	}
	if table == "" {
		return nil, errorf("no table name (none given, no eventSourceARN)")
	}
	if r.Dynamodb == nil {
		return nil, errorf("missing dynamodb")
	}
	v, err := secondsToMicros(r.Dynamodb.ApproximateCreationDateTime)
	if err != nil {
		return nil, err
	}
	c := &Change{Table: table, EventID: r.EventID, Version: v, SizeBytes: r.Dynamodb.SizeBytes, SequenceNumber: r.Dynamodb.SequenceNumber}
	if err := c.fill(r.EventName, r.Dynamodb.Keys, r.Dynamodb.NewImage, r.Dynamodb.OldImage, r.UserIdentity); err != nil {
		return nil, err
	}
	return c, nil
}

// tableFromARN extracts NAME from arn:...:table/NAME/stream/LABEL.
func tableFromARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":table/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func (c *Change) fill(eventName string, keys, newImage, oldImage json.RawMessage, ui *userIdentity) error {
	ev, ok := parseEvent(eventName)
	if !ok {
		return errorf("unknown eventName %q", eventName)
	}
	c.Event = ev
	var err error
	if c.Keys, err = decodeItem("Keys", keys); err != nil {
		return err
	}
	if len(c.Keys) == 0 {
		return errorf("missing Keys")
	}
	if c.NewImage, err = decodeItem("NewImage", newImage); err != nil {
		return err
	}
	if c.OldImage, err = decodeItem("OldImage", oldImage); err != nil {
		return err
	}
	if ev != Remove && c.NewImage == nil {
		// Without the new image the change cannot be replayed (a KEYS_ONLY
		// or OLD_IMAGE stream): refuse rather than apply a guess.
		return errorf("%s record without NewImage", ev)
	}
	for name, v := range c.Keys {
		if c.NewImage != nil {
			if nv, ok := c.NewImage[name]; !ok || !attr.Equal(nv, v) {
				return errorf("NewImage disagrees with Keys on %q", name)
			}
		}
	}
	c.TTLDelete = ev == Remove && ui != nil && ui.PrincipalID == "dynamodb.amazonaws.com"
	return nil
}

func decodeItem(field string, raw json.RawMessage) (attr.Item, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var it attr.Item
	if err := it.UnmarshalJSON(raw); err != nil {
		return nil, errorf("%s: %v", field, err)
	}
	return it, nil
}

func strictUnmarshal(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errorf("bad JSON: %v", err)
	}
	if d.More() {
		return errorf("bad JSON: data after the record")
	}
	if _, err := d.Token(); err == nil {
		return errorf("bad JSON: data after the record")
	}
	return nil
}

// maxSeconds bounds a DynamoDB Streams time (year ~2286): far beyond any
// real record, small enough that the exact conversion stays cheap.
const maxSeconds = 1e10

// maxMicros keeps versions clear of the sign bit and of overflow (year ~294,000).
const maxMicros = math.MaxInt64

// scaleTime turns an integral epoch time in units of `scale` microseconds
// into microseconds. Kinesis writes integers; a fraction or exponent means a
// producer we do not understand, so it is refused rather than rounded.
func scaleTime(n json.Number, scale uint64) (uint64, error) {
	if n == "" {
		return 0, errorf("missing ApproximateCreationDateTime")
	}
	i, ok := new(big.Int).SetString(string(n), 10)
	if !ok || i.Sign() <= 0 {
		return 0, errorf("ApproximateCreationDateTime %q is not a positive integer", n)
	}
	i.Mul(i, new(big.Int).SetUint64(scale))
	if !i.IsInt64() || i.Int64() > maxMicros {
		return 0, errorf("ApproximateCreationDateTime %q out of range", n)
	}
	return i.Uint64(), nil
}

// secondsToMicros converts epoch seconds, possibly fractional or in
// exponent form (the Streams API sends 1.7E9), to microseconds, truncating
// below one microsecond.
func secondsToMicros(n json.Number) (uint64, error) {
	if n == "" {
		return 0, errorf("missing ApproximateCreationDateTime")
	}
	// Range-check first: big.Rat would happily expand 1e999999999.
	if f, err := strconv.ParseFloat(string(n), 64); err != nil || !(f > 0 && f < maxSeconds) {
		return 0, errorf("ApproximateCreationDateTime %q is not a positive number of seconds", n)
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || r.Sign() <= 0 {
		return 0, errorf("ApproximateCreationDateTime %q is not a positive number", n)
	}
	r.Mul(r, big.NewRat(1_000_000, 1))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() || q.Sign() <= 0 {
		return 0, errorf("ApproximateCreationDateTime %q out of range", n)
	}
	return q.Uint64(), nil
}
