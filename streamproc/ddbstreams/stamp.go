package ddbstreams

import (
	"strings"
	"time"
)

// DynamoDB Streams give ApproximateCreationDateTime in whole seconds
// (DynamoDB Local: whole minutes), so two changes of one item often carry
// the same time, and last-writer-wins on that time alone would drop the
// second as a Duplicate. Records are stamped instead with a version that
//
//   - is never earlier than the change really happened: the end of its
//     time unit, (unit+1)·resolution. A backfill stamps a Scanned item with
//     the time just before the Scan (streamproc/backfill), so a change made
//     after that Scan always beats it, as with the Kinesis source's exact
//     times. (Rounding down instead would let a backfill page read after
//     the change's unit began, but before the change, win over it.)
//   - grows along each item's changes: within one unit, later records of the
//     shard lineage get +1, +2, ... (DynamoDB Streams deliver an item's
//     changes exactly once, in order, in one shard lineage);
//   - is the same every time the same record is read: the counter is part of
//     the checkpointed state (Stamp), so a restart, another instance, or a
//     child shard (starting from its parents' final Stamp) computes exactly
//     the versions a single uninterrupted reader would have.
//
// The price: versions run up to one unit ahead of the change, so lag
// metrics under-read by up to that much (clamped at 0).

// Stamp is the version stamper's state at one point of a shard lineage.
type Stamp struct {
	// Unit is the latest time unit seen (epoch time / resolution).
	Unit int64 `json:"unit"`
	// Count is how many records of the lineage had that unit.
	Count uint64 `json:"count"`
}

// ResolutionOf is the time resolution of a stream's
// ApproximateCreationDateTime: one minute for DynamoDB Local (its ARNs
// name the region "ddblocal"), one second for DynamoDB.
func ResolutionOf(streamARN string) time.Duration {
	if strings.HasPrefix(streamARN, "arn:aws:dynamodb:ddblocal:") {
		return time.Minute
	}
	return time.Second
}

// Next returns the version of the record whose change time is micros
// (ApproximateCreationDateTime in µs) and advances s. Units never go
// backwards along a lineage (an "approximate" time earlier than the
// previous record's counts as that record's unit), so versions only grow.
func (s *Stamp) Next(micros uint64, res time.Duration) uint64 {
	r := uint64(res.Microseconds())
	unit := int64(micros / r)
	if unit > s.Unit {
		s.Unit, s.Count = unit, 0
	}
	k := s.Count
	s.Count++
	return VersionAt(s.Unit, k, res)
}

// VersionAt is the version of the k-th record (from 0) in time unit unit:
// the end of the unit plus k µs. k is capped below one unit so versions of
// consecutive units never overlap; that needs over 10⁶ records of one shard
// in one second, far beyond the write rate of a DynamoDB partition.
func VersionAt(unit int64, k uint64, res time.Duration) uint64 {
	r := uint64(res.Microseconds())
	return uint64(unit+1)*r + min(k, r-1)
}

// Merge is the Stamp a child shard starts from: the latest of its parents'
// final stamps. Each item continues in one child, so continuing every
// child from the same counter keeps each item's versions growing.
func Merge(parents ...Stamp) Stamp {
	var out Stamp
	for _, p := range parents {
		if p.Unit > out.Unit || (p.Unit == out.Unit && p.Count > out.Count) {
			out = p
		}
	}
	return out
}
