package audit

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/proto/auditpb"
)

// tickingReader plays DynamoDB with an attribute a writer bumps: the n-th
// read sees tick n/every, so two reads in a row differ at /tick/N about
// once in every reads.
type tickingReader struct {
	every int64
	n     atomic.Int64
}

func (r *tickingReader) RereadDynamoDB(_ context.Context, rec *auditpb.Record) (*auditpb.Response, error) {
	n := r.n.Add(1)
	return &auditpb.Response{Backend: "dynamodb", Status: 200, Outcome: &auditpb.Response_BodyJson{
		BodyJson: fmt.Appendf(nil, `{"Item":{"pk":{"S":"a"},"tick":{"N":"%d"},"v":{"S":"same"}}}`, n/r.every)}}, nil
}

func tickRec(id string, v string) *auditpb.Record {
	rec := getRec(id, `{"Item":{"pk":{"S":"a"},"tick":{"N":"0"},"v":{"S":"`+v+`"}}}`, `{"Item":{"pk":{"S":"a"},"tick":{"N":"100"},"v":{"S":"same"}}}`)
	rec.Primary.Backend, rec.Shadow.Backend = "bigtable", "dynamodb"
	return rec
}

// TestNoiseSuppression: a path DynamoDB changes between any two reads is
// noise, and a mismatch only there is suppressed; a difference elsewhere
// keeps the pair a mismatch; a path that is noisy far less often than it
// mismatches is not noise; without calibration nothing is suppressed.
func TestNoiseSuppression(t *testing.T) {
	for _, c := range []struct {
		name        string
		every       int64 // tick changes every this many reads
		sample      float64
		hot, real   diff.Class
		noisyInReal []string
	}{
		{"changes on every read", 1, 1, diff.Suppressed, diff.Mismatch, []string{"/tick/N"}},
		{"changes rarely: not noise enough", 10, 1, diff.Mismatch, diff.Mismatch, nil},
		{"no calibration", 1, 0, diff.Mismatch, diff.Mismatch, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &memSink{}
			reader := &tickingReader{every: c.every}
			svc, err := NewService(Config{Workers: 1, NoiseSample: c.sample, NoiseMinReads: 10, NoiseReader: reader, SinkFlush: 10 * time.Millisecond}, sink)
			if err != nil {
				t.Fatal(err)
			}
			const warm = 20
			for i := range warm {
				if err := svc.Submit(tickRec(fmt.Sprintf("warm%d", i), "same")); err != nil {
					t.Fatal(err)
				}
			}
			if c.sample > 0 {
				deadline := time.Now().Add(10 * time.Second)
				for svc.Stats().Calibrations < warm {
					if time.Now().After(deadline) {
						t.Fatalf("calibrations: %+v", svc.Stats())
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			for _, r := range []*auditpb.Record{tickRec("hot", "same"), tickRec("real", "differs")} {
				if err := svc.Submit(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := sink.byID()
			if got["hot"].Class != c.hot || got["real"].Class != c.real {
				t.Errorf("hot %s, real %s; want %s, %s (noise %+v)", got["hot"].Class, got["real"].Class, c.hot, c.real, svc.NoiseRates("t"))
			}
			if fmt.Sprint(got["real"].Noise) != fmt.Sprint(c.noisyInReal) {
				t.Errorf("real's noise paths %v, want %v", got["real"].Noise, c.noisyInReal)
			}
			if st := svc.Stats(); st.Classes[diff.Suppressed]+st.Classes[diff.Mismatch] != warm+2 {
				t.Errorf("classes %v: every pair differs at tick", st.Classes)
			}
		})
	}
}

func TestAttrPath(t *testing.T) {
	for _, c := range []struct{ op, path, want string }{
		{"GetItem", "/Item/tick/N", "/tick/N"},
		{"GetItem", "/Item", ""},
		{"Query", `/Items/{"S":"a"},{"N":"1"}/m/M/k/S`, "/m/M/k/S"},
		{"Scan", `/Items/{"S":"a"}`, ""},
		{"Query", "/ItemOrder/0", ""},
		{"BatchGetItem", `/Responses/t/{"S":"a"}/tick/N`, "/tick/N"},
		{"TransactGetItems", "/Responses/1/Item/tick/N", "/tick/N"},
		{"TransactGetItems", "/Responses/1/Item", ""},
		{"GetItem", "/error/type", ""},
		{"Scan", "/Count", ""},
	} {
		got, ok := diff.AttrPath(c.op, c.path)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("AttrPath(%s, %s) = %q, %v; want %q", c.op, c.path, got, ok, c.want)
		}
	}
}
