// Package audit is the audit service behind `dualread audit`: it takes
// records of shadowed reads (in-process through Submit, or over the gRPC
// ingest stream), normalises, diffs and classifies each pair, re-reads
// non-matching pairs once after a lag window, and hands the verdicts to
// sinks (InfluxDB counts and latency percentiles, Pub/Sub mismatch records,
// the Bigtable pair store).
package audit

import (
	"context"
	"encoding/json"

	"github.com/wI2L/jsondiff"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/proto/auditpb"
)

// Pair is one record with its verdict, as sinks receive it.
type Pair struct {
	Record *auditpb.Record
	// Class is the final verdict; Initial is the verdict before the re-read
	// (equal to Class when there was none). Class is Lag exactly when
	// Initial diverged and the re-read matched.
	Class   diff.Class
	Initial diff.Class
	// Patch is the first comparison's RFC 6902 patch from the normalised
	// primary answer to the normalised shadow answer.
	Patch jsondiff.Patch
	// Reread holds the re-read answers when a re-read happened.
	Reread *auditpb.Record
	// Noise lists the item paths (diff.AttrPath) of Patch that the noise
	// calibration takes for noise; Class is Suppressed when they are all
	// the pair differs at.
	Noise []string
}

// Sink consumes verdicts. Write gets batches from one goroutine per sink,
// so a Sink need not be safe for concurrent Writes; a slow or failing sink
// only fills its own bounded queue.
type Sink interface {
	Name() string
	Write(ctx context.Context, pairs []Pair) error
	// Close flushes what the sink holds and releases it.
	Close(ctx context.Context) error
}

// Rereader reads both sides of a record's request again, for the lag check.
// The adapter implements it (it owns both backends); the audit service calls
// it after Config.LagDelay for pairs that diverged with an item-level or
// value difference.
type Rereader interface {
	Reread(ctx context.Context, rec *auditpb.Record) (primary, shadow *auditpb.Response, err error)
}

// PairJSON is the JSON shape of a Pair, used for Pub/Sub message bodies and
// the pair store's patch cell: the record in protojson (request and bodies
// base64, as bytes fields are), the classes and the patch.
type PairJSON struct {
	ID        string          `json:"id"`
	Table     string          `json:"table"`
	Operation string          `json:"operation"`
	Class     diff.Class      `json:"class"`
	Initial   diff.Class      `json:"initial_class"`
	Patch     jsondiff.Patch  `json:"patch"`
	Record    json.RawMessage `json:"record"`
	Reread    json.RawMessage `json:"reread,omitempty"`
	Noise     []string        `json:"noise_paths,omitempty"`
}

// MarshalJSON renders the pair as PairJSON.
func (p Pair) MarshalJSON() ([]byte, error) {
	rec, err := protojson.Marshal(p.Record)
	if err != nil {
		return nil, err
	}
	pj := PairJSON{
		ID: p.Record.GetId(), Table: p.Record.GetTable(), Operation: p.Record.GetOperation(),
		Class: p.Class, Initial: p.Initial, Patch: p.Patch, Record: rec, Noise: p.Noise,
	}
	if pj.Patch == nil {
		pj.Patch = jsondiff.Patch{}
	}
	if p.Reread != nil {
		if pj.Reread, err = protojson.Marshal(p.Reread); err != nil {
			return nil, err
		}
	}
	return json.Marshal(pj)
}
