package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/sdkitem"
)

// Kinds of difference, in the order the report lists them.
const (
	KindMissing   = "missing"   // on the source only
	KindExtra     = "extra"     // on the target only
	KindDifferent = "different" // on both, with other contents
)

// report compares pass 2's keys and digests and reads the samples back.
// It only reads the saved pass-2 result, so a run resumed after pass 2
// builds the same report.
func (r *run) report(ctx context.Context) (*Report, error) {
	r.mu.Lock()
	var ent [2]map[string][32]byte
	for s := range 2 {
		ent[s] = map[string][32]byte{}
		for _, c := range r.cursors[s] {
			c.mu.Lock()
			for k, d := range c.entries {
				ent[s][k] = d
			}
			c.mu.Unlock()
		}
	}
	hdr := r.hdr
	r.mu.Unlock()

	rep := &Report{Table: r.cfg.Table, TargetTable: r.cfg.TargetTable, SourceItems: hdr.SourceItems, TargetItems: hdr.TargetItems,
		Buckets: r.cfg.Buckets, Segments: r.cfg.Segments, DifferingBuckets: len(hdr.Differing), StartedAt: hdr.StartedAt, Resumed: r.resumed}
	var missing, extra, different []string
	for k, d := range ent[0] {
		t, ok := ent[1][k]
		switch {
		case !ok:
			missing = append(missing, k)
		case d != t:
			different = append(different, k)
		}
	}
	for k := range ent[1] {
		if _, ok := ent[0][k]; !ok {
			extra = append(extra, k)
		}
	}
	rep.Missing, rep.Extra, rep.Different = int64(len(missing)), int64(len(extra)), int64(len(different))
	for _, kk := range []struct {
		kind string
		keys []string
	}{{KindMissing, missing}, {KindExtra, extra}, {KindDifferent, different}} {
		// Key order makes the samples the same in every run, resumed or not.
		slices.Sort(kk.keys)
		for _, k := range kk.keys[:min(len(kk.keys), r.cfg.SampleRows)] {
			smp, err := r.sample(ctx, kk.kind, k)
			if err != nil {
				return nil, err
			}
			rep.Samples = append(rep.Samples, smp)
		}
	}
	rep.Result = ResultEqual
	if !rep.Equal() {
		rep.Result = ResultDiffer
	}
	rep.Duration = hdr.Elapsed + time.Since(r.start)
	rep.ItemsRead = r.itemsRead.Load()
	return rep, nil
}

// sample reads one differing item back from the side(s) that hold it.
func (r *run) sample(ctx context.Context, kind, enc string) (Sample, error) {
	key, err := r.decodeKey(enc)
	if err != nil {
		return Sample{}, err
	}
	keyJSON := canonicalJSON(key)
	smp := Sample{Kind: kind, Key: keyJSON}
	av, err := sdkitem.KeyToAV(keyJSON)
	if err != nil {
		return Sample{}, err
	}
	var its [2]attr.Item
	for s := range 2 {
		if kind == KindMissing && s == 1 || kind == KindExtra && s == 0 {
			continue
		}
		out, err := r.sides[s].c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.sides[s].table), Key: av, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return Sample{}, fmt.Errorf("verify: read sample %s from %s: %w", keyJSON, r.sides[s].table, err)
		}
		if out.Item == nil {
			continue // gone since the scan; the sample shows that
		}
		if its[s], _, err = sdkitem.ToItem(out.Item); err != nil {
			return Sample{}, err
		}
	}
	if its[0] != nil {
		smp.Source = canonicalJSON(its[0])
	}
	if its[1] != nil {
		smp.Target = canonicalJSON(its[1])
	}
	if kind == KindDifferent {
		smp.Attributes = differingAttributes(its[0], its[1])
	}
	return smp, nil
}

// decodeKey turns an encoded key back into the key attributes.
func (r *run) decodeKey(enc string) (attr.Item, error) {
	h, rest, err := attr.DecodeKey([]byte(enc), r.sch.hashType)
	if err != nil {
		return nil, err
	}
	key := attr.Item{r.sch.hash: h}
	if r.sch.rng != "" {
		var v attr.Value
		if v, rest, err = attr.DecodeKey(rest, r.sch.rngType); err != nil {
			return nil, err
		}
		key[r.sch.rng] = v
	}
	if len(rest) != 0 {
		return nil, errors.New("verify: trailing bytes after a key")
	}
	return key, nil
}

// differingAttributes lists, sorted, the top-level attributes whose
// canonical values differ between a and b (present on one side only
// included).
func differingAttributes(a, b attr.Item) []string {
	var out []string
	seen := map[string]bool{}
	for _, it := range []attr.Item{a, b} {
		for k := range it {
			if seen[k] {
				continue
			}
			seen[k] = true
			va, oka := a[k]
			vb, okb := b[k]
			if oka != okb || !bytes.Equal(canonicalJSON(attr.Item{k: va}), canonicalJSON(attr.Item{k: vb})) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}
