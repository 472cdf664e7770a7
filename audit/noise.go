package audit

import (
	"context"
	"sort"
	"sync"

	"github.com/wI2L/jsondiff"

	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/proto/auditpb"
)

// Noise calibration. Some attributes differ between any two reads taken a
// moment apart, whatever the migration does: a counter or a last-seen time
// that a writer updates continuously. Between primary and shadow they
// differ too, and without calibration every read of such an item would be a
// mismatch, drowning the real ones. So for a sample of pairs the service
// reads DynamoDB twice more, back to back, and counts per (table, path) how
// often DynamoDB disagrees with itself. A mismatch is suppressed when every
// path it differs at is noise: that path's mismatch rate (the share of the
// table's pairs differing there) does not exceed its noise rate (the share
// of the table's calibrations differing there) times the margin. A
// difference at any other path keeps the pair a mismatch.
//
// Paths are diff.AttrPath: inside the item, without its identity, so a
// calibration of one item teaches about all items of the table.

// NoiseReader reads DynamoDB once more for a record's request (through the
// same caller as the shadow reads): shadow.Rereader implements it.
type NoiseReader interface {
	RereadDynamoDB(ctx context.Context, rec *auditpb.Record) (*auditpb.Response, error)
}

// NoiseRate is what the service knows of one (table, path).
type NoiseRate struct {
	// Pairs compared for the table, and how many differed at the path.
	Pairs, PairsDiffering float64
	// Calibrations (double reads of DynamoDB) of the table, and how many
	// differed at the path.
	Reads, ReadsDiffering float64
}

// Limits on what noise tracking holds, so memory does not follow the
// traffic: counts are halved when a table's pairs or calibrations reach
// noiseWindow (recent behaviour weighs more, rates are kept), and tables
// and paths beyond the caps are not tracked (their differences are never
// noise).
const (
	noiseWindow   = 10000
	noiseMaxTable = 1000
	noiseMaxPaths = 1000
)

type tableNoise struct {
	pairs, reads float64
	differ, self map[string]float64
}

type noiseStats struct {
	margin   float64
	minReads float64

	mu     sync.Mutex
	tables map[string]*tableNoise
}

func newNoiseStats(margin float64, minReads int) *noiseStats {
	return &noiseStats{margin: margin, minReads: float64(minReads), tables: map[string]*tableNoise{}}
}

// attrPaths lists the distinct item-internal paths of a patch; inItems is
// false when some op is not inside an item (Count and ScannedCount aside:
// they follow from items).
func attrPaths(op string, patch jsondiff.Patch) (paths []string, inItems bool) {
	seen := map[string]bool{}
	inItems = true
	for _, o := range patch {
		if o.Path == "/Count" || o.Path == "/ScannedCount" {
			continue
		}
		p, ok := diff.AttrPath(op, o.Path)
		if !ok {
			inItems = false
			continue
		}
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths, inItems
}

func (n *noiseStats) table(name string) *tableNoise {
	t := n.tables[name]
	if t == nil && len(n.tables) < noiseMaxTable {
		t = &tableNoise{differ: map[string]float64{}, self: map[string]float64{}}
		n.tables[name] = t
	}
	return t
}

func bump(m map[string]float64, paths []string) {
	for _, p := range paths {
		if _, ok := m[p]; ok || len(m) < noiseMaxPaths {
			m[p]++
		}
	}
}

func halve(total *float64, m map[string]float64) {
	*total /= 2
	for k, v := range m {
		if v /= 2; v < 0.5 {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

// pair counts one compared pair of table.
func (n *noiseStats) pair(table, op string, patch jsondiff.Patch) {
	paths, _ := attrPaths(op, patch)
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.table(table)
	if t == nil {
		return
	}
	t.pairs++
	bump(t.differ, paths)
	if t.pairs >= noiseWindow {
		halve(&t.pairs, t.differ)
	}
}

// calibration counts one double read of DynamoDB for table.
func (n *noiseStats) calibration(table, op string, patch jsondiff.Patch) {
	paths, _ := attrPaths(op, patch)
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.table(table)
	if t == nil {
		return
	}
	t.reads++
	bump(t.self, paths)
	if t.reads >= noiseWindow {
		halve(&t.reads, t.self)
	}
}

// noisy returns the paths of patch that are noise, and whether all of its
// differences are.
func (n *noiseStats) noisy(table, op string, patch jsondiff.Patch) (noise []string, all bool) {
	paths, inItems := attrPaths(op, patch)
	if len(paths) == 0 {
		return nil, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.tables[table]
	if t == nil || t.reads < n.minReads || t.pairs == 0 {
		return nil, false
	}
	all = inItems
	for _, p := range paths {
		noiseRate := t.self[p] / t.reads
		if noiseRate > 0 && t.differ[p]/t.pairs <= noiseRate*n.margin {
			noise = append(noise, p)
		} else {
			all = false
		}
	}
	return noise, all
}

// rates snapshots one table's counts.
func (n *noiseStats) rates(table string) map[string]NoiseRate {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.tables[table]
	if t == nil {
		return nil
	}
	out := map[string]NoiseRate{}
	for p, v := range t.differ {
		out[p] = NoiseRate{Pairs: t.pairs, PairsDiffering: v, Reads: t.reads, ReadsDiffering: t.self[p]}
	}
	for p, v := range t.self {
		if _, ok := out[p]; !ok {
			out[p] = NoiseRate{Pairs: t.pairs, Reads: t.reads, ReadsDiffering: v}
		}
	}
	return out
}
