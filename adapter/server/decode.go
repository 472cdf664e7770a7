package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/dualread/dualread/adapter/ddberr"
)

// request is a POST body after the protocol checks that come before the
// target and authentication.
type request struct {
	raw          []byte // the body as sent: what SigV4 signs
	body         []byte // the decoded JSON object; empty when no body was sent
	responseType string // Content-Type of the JSON answers
}

// rejection is a request refused before it reaches the target check.
type rejection struct {
	tooLarge  bool          // 413
	notDynamo bool          // 404 <UnknownOperationException/>
	err       *ddberr.Error // anything else
}

// readRequest reads and decodes the body of a POST. It never reads more than
// limit bytes from the wire nor inflates gzip beyond limit bytes.
func readRequest(w http.ResponseWriter, r *http.Request, limit int64) (*request, *rejection) {
	if r.ContentLength > limit {
		return nil, &rejection{tooLarge: true}
	}
	// MaxBytesReader also tells net/http to close the connection once the
	// handler is done, so the rest of an oversized body is never read.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &rejection{tooLarge: true}
		}
		// A broken chunked encoding or a client that hung up mid-body.
		return nil, &rejection{err: ddberr.Serialization("")}
	}

	ctype := mediaType(r.Header.Get("Content-Type"))
	if len(raw) > 0 && ctype != contentTypeJSON10 && ctype != contentTypeJSON11 && ctype != contentTypeJSON {
		return nil, &rejection{notDynamo: true}
	}
	req := &request{raw: raw, responseType: contentTypeJSON}
	if ctype == contentTypeJSON10 || ctype == contentTypeJSON11 {
		req.responseType = ctype
	}

	body, rej := decodeContent(raw, r.Header.Values("Content-Encoding"), limit)
	if rej != nil {
		return nil, rej
	}
	if len(body) == 0 {
		return req, nil
	}
	obj, derr := jsonObject(body)
	if derr != nil {
		return nil, &rejection{err: derr}
	}
	req.body = obj
	return req, nil
}

// mediaType is the lower-cased type/subtype of a Content-Type header value,
// without parameters such as charset.
func mediaType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// decodeContent undoes the Content-Encoding codings (gzip or identity),
// applied in the order listed, so they are undone in reverse.
func decodeContent(raw []byte, encodings []string, limit int64) ([]byte, *rejection) {
	var codings []string
	for _, v := range encodings {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	body := raw
	for i := len(codings) - 1; i >= 0; i-- {
		if len(body) == 0 {
			break
		}
		if codings[i] != "gzip" && codings[i] != "x-gzip" {
			return nil, &rejection{err: ddberr.Serialization("Unsupported Content-Encoding: %s", codings[i])}
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, &rejection{err: ddberr.Serialization("")}
		}
		// Read one byte past the limit to tell "exactly limit" from "more".
		out, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, &rejection{err: ddberr.Serialization("")}
		}
		if int64(len(out)) > limit {
			return nil, &rejection{tooLarge: true}
		}
		body = out
	}
	return body, nil
}

// jsonObject checks that body is one JSON value and that it is an object.
// AWS answers malformed JSON with a SerializationException without message.
// A JSON null is read as an empty object, as AWS's JSON 1.0 stack does for a
// null structure (and dynalite mirrors); any other non-object is refused the
// way AWS refuses a value of the wrong type in a structure.
func jsonObject(body []byte) ([]byte, *ddberr.Error) {
	if !json.Valid(body) {
		return nil, ddberr.Serialization("")
	}
	trimmed := bytes.TrimSpace(body)
	switch trimmed[0] {
	case '{':
		return body, nil
	case 'n':
		return []byte("{}"), nil
	case '[':
		return nil, ddberr.Serialization("Start of list found where not expected")
	default:
		return nil, ddberr.Serialization("Unexpected value type in payload")
	}
}
