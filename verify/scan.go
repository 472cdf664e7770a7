package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dualread/dualread/internal/sdkitem"
)

// bucketSum is one side's fold of a bucket: count and XOR of digests
// (order-independent, so the two sides' scan orders and the split into
// segments do not matter).
type bucketSum struct {
	n   int64
	xor [32]byte
}

func (b *bucketSum) add(dg *[32]byte) {
	b.n++
	for i := range b.xor {
		b.xor[i] ^= dg[i]
	}
}

func (b *bucketSum) merge(o *bucketSum) {
	b.n += o.n
	for i := range b.xor {
		b.xor[i] ^= o.xor[i]
	}
}

// cursor is one side's progress through one Scan segment in one pass: the
// key to continue after, and the fold of exactly the pages before it. Both
// change together under mu, after a whole page, so a saved cursor never
// counts a page it would read again, nor misses one it skips.
type cursor struct {
	mu      sync.Mutex
	pass    int
	last    json.RawMessage // LastEvaluatedKey as DynamoDB JSON; nil: from the start
	done    bool
	items   int64               // items read in this segment so far
	sums    []bucketSum         // pass 1: per bucket
	entries map[string][32]byte // pass 2: encoded key → digest, differing buckets only
}

func newCursor(pass, buckets int) *cursor {
	c := &cursor{pass: pass}
	if pass == 1 {
		c.sums = make([]bucketSum, buckets)
	} else {
		c.entries = map[string][32]byte{}
	}
	return c
}

// folded is one scanned item reduced to what a pass keeps.
type folded struct {
	key    string
	bucket int
	dg     [32]byte
}

// scanSegment reads segment seg of side s from the cursor's position to
// the end, folding each page into the cursor. differing is nil in pass 1.
func (r *run) scanSegment(ctx context.Context, s, seg int, c *cursor, differing map[int]bool) error {
	c.mu.Lock()
	done, last, pass := c.done, c.last, c.pass
	c.mu.Unlock()
	if done {
		return nil
	}
	sd := r.sides[s]
	in := &dynamodb.ScanInput{TableName: aws.String(sd.table), ConsistentRead: aws.Bool(true),
		Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(r.cfg.Segments)), Limit: aws.Int32(r.cfg.PageLimit)}
	if last != nil {
		esk, err := sdkitem.KeyToAV(last)
		if err != nil {
			return fmt.Errorf("verify: saved position of %s segment %d: %w", sd.table, seg, err)
		}
		in.ExclusiveStartKey = esk
	}
	for {
		out, err := sd.c.Scan(ctx, in)
		if err != nil {
			return fmt.Errorf("scan %s segment %d: %w", sd.table, seg, err)
		}
		if sd.lim != nil {
			// WaitN refuses more than the burst at once: take the page in
			// burst-sized bites so every item is paid for.
			for n := len(out.Items); n > 0; n -= sd.lim.Burst() {
				if err := sd.lim.WaitN(ctx, min(n, sd.lim.Burst())); err != nil {
					return err
				}
			}
		}
		// Digests are computed outside the lock; only the fold is inside.
		f := make([]folded, 0, len(out.Items))
		for _, av := range out.Items {
			it, err := toItem(av)
			if err != nil {
				return fmt.Errorf("scan %s segment %d: %w", sd.table, seg, err)
			}
			k := keyOf(it, r.sch.hash, r.sch.rng)
			b := bucketOf(k, r.cfg.Buckets)
			if pass == 2 && !differing[b] {
				continue
			}
			f = append(f, folded{key: k, bucket: b, dg: digest(it)})
		}
		var lek json.RawMessage
		if len(out.LastEvaluatedKey) > 0 {
			_, raw, err := sdkitem.ToItem(out.LastEvaluatedKey)
			if err != nil {
				return fmt.Errorf("scan %s segment %d: LastEvaluatedKey: %w", sd.table, seg, err)
			}
			lek = raw
		}
		c.mu.Lock()
		for i := range f {
			if pass == 1 {
				c.sums[f[i].bucket].add(&f[i].dg)
			} else {
				c.entries[f[i].key] = f[i].dg
			}
		}
		c.last, c.done = lek, lek == nil
		c.items += int64(len(out.Items))
		c.mu.Unlock()
		r.prog.read[s].Add(int64(len(out.Items)))
		r.itemsRead.Add(int64(len(out.Items)))
		if lek == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
