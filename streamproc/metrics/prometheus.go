package metrics

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// ServeHTTP writes the Prometheus text exposition format (version 0.0.4):
// cumulative record counters per table/source/outcome, the last flushed
// interval's lag quantiles, and each shard's MillisBehindLatest. Written by
// hand: the format is four line shapes, not worth a dependency.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.WriteText(w)
}

// WriteText writes what ServeHTTP serves.
func (r *Recorder) WriteText(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]tableKey, 0, len(r.tables))
	for k := range r.tables {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].table+"\x00"+keys[i].source < keys[j].table+"\x00"+keys[j].source
	})
	fmt.Fprintln(w, "# HELP dualread_replication_records_total Change records by outcome.")
	fmt.Fprintln(w, "# TYPE dualread_replication_records_total counter")
	for _, k := range keys {
		for _, o := range outcomes {
			fmt.Fprintf(w, "dualread_replication_records_total{table=%s,source=%s,outcome=%s} %d\n",
				quote(k.table), quote(k.source), quote(o), r.tables[k].totals[o])
		}
	}
	gauges := []struct {
		name string
		get  func(*tableStats) float64
	}{
		{"dualread_replication_lag_p50_ms", func(s *tableStats) float64 { return s.lastP50 }},
		{"dualread_replication_lag_p99_ms", func(s *tableStats) float64 { return s.lastP99 }},
		{"dualread_replication_lag_max_ms", func(s *tableStats) float64 { return s.lastMax }},
	}
	for _, g := range gauges {
		fmt.Fprintf(w, "# HELP %s Replication lag over the last interval (now - ApproximateCreationDateTime).\n", g.name)
		fmt.Fprintf(w, "# TYPE %s gauge\n", g.name)
		for _, k := range keys {
			fmt.Fprintf(w, "%s{table=%s,source=%s} %g\n", g.name, quote(k.table), quote(k.source), g.get(r.tables[k]))
		}
	}
	sk := make([]shardKey, 0, len(r.shards))
	for k := range r.shards {
		sk = append(sk, k)
	}
	sort.Slice(sk, func(i, j int) bool { return sk[i].stream+"\x00"+sk[i].shard < sk[j].stream+"\x00"+sk[j].shard })
	fmt.Fprintln(w, "# HELP dualread_shard_millis_behind_latest MillisBehindLatest of the last GetRecords.")
	fmt.Fprintln(w, "# TYPE dualread_shard_millis_behind_latest gauge")
	for _, k := range sk {
		fmt.Fprintf(w, "dualread_shard_millis_behind_latest{stream=%s,shard=%s} %d\n", quote(k.stream), quote(k.shard), r.shards[k])
	}
}

// quote renders a label value: backslash, double quote and newline escaped.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
