package diff

import (
	"encoding/json"
	"strings"

	"github.com/wI2L/jsondiff"

	"github.com/dualread/dualread/proto/auditpb"
)

// Class is the verdict on one pair. The strings are what InfluxDB's class
// tag holds.
type Class string

const (
	Match            Class = "match"
	Mismatch         Class = "mismatch"
	MissingOnPrimary Class = "missing-on-primary" // shadow has items the primary lacks, nothing else differs
	MissingOnShadow  Class = "missing-on-shadow"  // primary has items the shadow lacks, nothing else differs
	ErrorMismatch    Class = "error-mismatch"     // a side failed and the answers differ
	// Lag is decided by the service, not here: a non-matching pair whose
	// re-read matched.
	Lag Class = "lag"
	// Incomparable: the two answers cannot be expected to agree even with
	// equal data (a Scan page, whose boundaries follow each backend's own
	// item order). Counted so coverage is visible, never a mismatch.
	Incomparable Class = "incomparable"
	// Suppressed is decided by the service too: a mismatch every one of
	// whose differing paths differs no more often between primary and
	// shadow than DynamoDB differs from itself there (noise calibration).
	Suppressed Class = "suppressed"
)

// Classes lists every class, for metrics that report zeros too.
var Classes = []Class{Match, Mismatch, MissingOnPrimary, MissingOnShadow, ErrorMismatch, Lag, Incomparable, Suppressed}

// Diverges reports whether the class is a real disagreement worth
// publishing and keeping.
func (c Class) Diverges() bool {
	switch c {
	case Mismatch, MissingOnPrimary, MissingOnShadow, ErrorMismatch:
		return true
	}
	return false
}

// Result is the comparison of one record.
type Result struct {
	Class Class
	// Patch turns the normalised primary answer into the normalised shadow
	// answer (RFC 6902): "add" means the shadow has it and the primary does
	// not.
	Patch jsondiff.Patch
}

// Compare normalises both sides of rec, diffs them and classifies the pair.
func Compare(rec *auditpb.Record, opts *Options) (Result, error) {
	p, s := normalize(rec, opts)
	patch, err := jsondiff.CompareWithoutMarshal(p.doc, s.doc)
	if err != nil {
		return Result{}, err
	}
	return Result{Class: classify(rec, patch, p.paged || s.paged), Patch: patch}, nil
}

func classify(rec *auditpb.Record, patch jsondiff.Patch, paged bool) Class {
	if Failed(rec.GetPrimary()) || Failed(rec.GetShadow()) {
		if len(patch) == 0 {
			return Match // both failed the same way
		}
		return ErrorMismatch
	}
	if rec.GetOperation() == "Scan" && (paged || parallelScan(rec)) {
		return Incomparable
	}
	if len(patch) == 0 {
		return Match
	}
	adds, removes, other := 0, 0, 0
	for _, op := range patch {
		switch {
		case op.Path == "/Count" || op.Path == "/ScannedCount":
			// Follow from missing items; judged by the item ops.
		case isItemPath(rec.GetOperation(), op.Path) && op.Type == jsondiff.OperationAdd:
			adds++
		case isItemPath(rec.GetOperation(), op.Path) && op.Type == jsondiff.OperationRemove:
			removes++
		default:
			other++
		}
	}
	switch {
	case other == 0 && removes == 0 && adds > 0:
		return MissingOnPrimary
	case other == 0 && adds == 0 && removes > 0:
		return MissingOnShadow
	}
	return Mismatch
}

// isItemPath reports whether a patch path names a whole item: an add or
// remove there is an item present on one side only.
func isItemPath(op, p string) bool {
	segs := strings.Split(p, "/")[1:]
	switch op {
	case "GetItem":
		return len(segs) == 1 && segs[0] == "Item"
	case "Query", "Scan":
		return len(segs) == 2 && segs[0] == "Items"
	case "BatchGetItem":
		return len(segs) == 3 && segs[0] == "Responses"
	case "TransactGetItems":
		return len(segs) == 3 && segs[0] == "Responses" && segs[2] == "Item"
	}
	return false
}

// A paged Scan answer (LastEvaluatedKey) holds the first items in that
// backend's order: a hash order on DynamoDB, key order on Bigtable/Spanner.
// parallelScan: which items land in a segment is each backend's own hashing.
func parallelScan(rec *auditpb.Record) bool {
	var b struct{ TotalSegments int }
	_ = json.Unmarshal(rec.GetRequestJson(), &b)
	return b.TotalSegments > 1
}
