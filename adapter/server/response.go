package server

import (
	"crypto/rand"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"strconv"

	"github.com/dualread/dualread/adapter/ddberr"
)

const (
	contentTypeJSON10 = "application/x-amz-json-1.0"
	contentTypeJSON11 = "application/x-amz-json-1.1"
	contentTypeJSON   = "application/json"
)

// unknownOperationXML is AWS's answer to a non-POST (other than GET) or to a
// body in a content type it does not speak: 404 with this XML body.
const unknownOperationXML = "<UnknownOperationException/>\n"

// tooLargeBody is what DynamoDB Local 3.3.1 answers (with 413) for a body over
// 16 MiB. AWS's exact answer is not documented; this is the oracle's.
const tooLargeBody = `{"Message":""}`

// newRequestID returns a 52-character upper-case id in the alphabet AWS uses
// for x-amzn-RequestId ([A-Z2-7] here, from two 130-bit random texts).
func newRequestID() string {
	return rand.Text() + rand.Text()
}

// responder writes every answer with the headers DynamoDB always sends.
type responder struct {
	w           http.ResponseWriter
	id          string
	contentType string // of JSON answers; set once the request's type is known
	wrote       bool
}

// sendRaw writes body with x-amzn-RequestId and x-amz-crc32 (CRC32 IEEE of
// the exact bytes sent; SDKs verify it when present). It returns status.
func (rw *responder) sendRaw(status int, contentType string, body []byte, headOnly bool) int {
	rw.wrote = true
	h := rw.w.Header()
	// Set the map directly so the header names go out in AWS's spelling
	// (net/http would canonicalise them to X-Amzn-Requestid, X-Amz-Crc32).
	h["x-amzn-RequestId"] = []string{rw.id}
	h["x-amz-crc32"] = []string{strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	} else {
		h["Content-Type"] = nil // no sniffing: send no Content-Type at all
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rw.w.WriteHeader(status)
	if !headOnly {
		_, _ = rw.w.Write(body) // the client went away: nothing left to tell it
	}
	return status
}

func (rw *responder) jsonType() string {
	if rw.contentType == "" {
		return contentTypeJSON10
	}
	return rw.contentType
}

func (rw *responder) sendJSON(status int, body []byte) int {
	return rw.sendRaw(status, rw.jsonType(), body, false)
}

// sendError writes e as DynamoDB's {"__type":..., "message":...} body.
func (rw *responder) sendError(e *ddberr.Error) int {
	body, err := json.Marshal(e)
	status := e.Status
	if err != nil {
		// Only a malformed Item can fail to marshal; say so generically.
		body, _ = json.Marshal(ddberr.Internal())
		status = http.StatusInternalServerError
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	return rw.sendJSON(status, body)
}

func (rw *responder) sendUnknownOperationXML() int {
	return rw.sendRaw(http.StatusNotFound, "", []byte(unknownOperationXML), false)
}

func (rw *responder) sendRejection(rej *rejection) int {
	switch {
	case rej.tooLarge:
		return rw.sendRaw(http.StatusRequestEntityTooLarge, contentTypeJSON10, []byte(tooLargeBody), false)
	case rej.notDynamo:
		return rw.sendUnknownOperationXML()
	default:
		return rw.sendError(rej.err)
	}
}
