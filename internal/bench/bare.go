package bench

import (
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// targetPrefix is the X-Amz-Target prefix of every DynamoDB operation.
const targetPrefix = "DynamoDB_20120810."

// BareOptions shapes the bare handler's answers.
type BareOptions struct {
	// ItemSize is the payload size of the Item GetItem answers with; the
	// default 256 matches Config's default so the ceiling moves the same bytes.
	ItemSize int
	// Fail makes every request of an operation fail with the given error
	// type (e.g. "ConditionalCheckFailedException"); tests use it to check
	// that the runner counts errors by type.
	Fail map[string]string
}

// BareHandler answers every DynamoDB request with a fixed, valid response
// and does nothing else: no auth, no parsing beyond X-Amz-Target, no storage.
// Served over loopback it measures the SDK client and the HTTP stack alone,
// the ceiling no adapter can beat on the same machine.
type BareHandler struct {
	responses map[string]bareResponse
	fallback  bareResponse
	counts    map[string]*atomic.Int64 // requests received per operation
	other     atomic.Int64             // requests for any other target
	rid       atomic.Uint64            // request id sequence
}

type bareResponse struct {
	status int
	body   []byte
	crc    string // x-amz-crc32 of body, precomputed
	length string
}

func newBareResponse(status int, body []byte) bareResponse {
	return bareResponse{status: status, body: body,
		crc: strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10), length: strconv.Itoa(len(body))}
}

// NewBareHandler precomputes every answer so serving one is a map lookup
// and a write.
func NewBareHandler(opts BareOptions) *BareHandler {
	if opts.ItemSize == 0 {
		opts.ItemSize = 256
	}
	item := map[string]any{
		"pk":      map[string]string{"S": partitionKey(0)},
		"sk":      map[string]string{"S": sortKey(0)},
		"payload": map[string]string{"S": string(payload(opts.ItemSize))},
	}
	table := map[string]any{
		"TableName":   "bare",
		"TableStatus": "ACTIVE",
		"KeySchema": []map[string]string{
			{"AttributeName": "pk", "KeyType": "HASH"},
			{"AttributeName": "sk", "KeyType": "RANGE"},
		},
		"AttributeDefinitions": []map[string]string{
			{"AttributeName": "pk", "AttributeType": "S"},
			{"AttributeName": "sk", "AttributeType": "S"},
		},
		"ItemCount":      0,
		"TableSizeBytes": 0,
	}
	bodies := map[string]any{
		OpGetItem:        map[string]any{"Item": item},
		OpPutItem:        map[string]any{},
		OpUpdateItem:     map[string]any{},
		OpQuery:          map[string]any{"Count": 0, "Items": []any{}, "ScannedCount": 0},
		OpScan:           map[string]any{"Count": 0, "Items": []any{}, "ScannedCount": 0},
		OpBatchGetItem:   map[string]any{"Responses": map[string]any{}, "UnprocessedKeys": map[string]any{}},
		"BatchWriteItem": map[string]any{"UnprocessedItems": map[string]any{}},
		"DeleteItem":     map[string]any{},
		"CreateTable":    map[string]any{"TableDescription": table},
		"DescribeTable":  map[string]any{"Table": table},
		"DeleteTable":    map[string]any{"TableDescription": table},
	}
	h := &BareHandler{responses: map[string]bareResponse{}, counts: map[string]*atomic.Int64{}}
	for op, body := range bodies {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err) // static data: cannot happen
		}
		h.responses[op] = newBareResponse(http.StatusOK, b)
		h.counts[op] = new(atomic.Int64)
	}
	for op, typ := range opts.Fail {
		if _, ok := h.counts[op]; !ok {
			h.counts[op] = new(atomic.Int64)
		}
		status := http.StatusBadRequest
		if typ == "InternalServerError" || typ == "ServiceUnavailable" {
			status = http.StatusInternalServerError
		}
		b, _ := json.Marshal(map[string]string{
			"__type":  "com.amazonaws.dynamodb.v20120810#" + typ,
			"message": "injected by the bare handler",
		})
		h.responses[op] = newBareResponse(status, b)
	}
	h.fallback = newBareResponse(http.StatusBadRequest,
		[]byte(`{"__type":"com.amazon.coral.service#UnknownOperationException"}`))
	return h
}

// ServeHTTP writes the precomputed answer for the request's operation. The
// body is drained so the connection can be reused, as a real server would.
func (h *BareHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	resp, ok := h.responses[op]
	if ok {
		h.counts[op].Add(1)
	} else {
		h.other.Add(1)
		resp = h.fallback
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/x-amz-json-1.0"}
	hdr["Content-Length"] = []string{resp.length}
	hdr["X-Amz-Crc32"] = []string{resp.crc}
	hdr["X-Amzn-Requestid"] = []string{h.requestID()}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// Requests returns how many requests the handler received for op ("" for
// requests with an unknown or missing X-Amz-Target).
func (h *BareHandler) Requests(op string) int64 {
	if op == "" {
		return h.other.Load()
	}
	if c, ok := h.counts[op]; ok {
		return c.Load()
	}
	return 0
}

// requestID makes a DynamoDB-shaped request id (52 upper-case
// alphanumerics) cheaply: it only has to be present and unique per handler.
func (h *BareHandler) requestID() string {
	const width = 52
	var b [width]byte
	n := h.rid.Add(1)
	for i := width - 1; i >= 0; i-- {
		b[i] = "0123456789ABCDEF"[n&15]
		n >>= 4
	}
	copy(b[:], "BARE")
	return string(b[:])
}
