package audit

import (
	"fmt"
	"io"
	"sort"

	"github.com/dualread/dualread/audit/diff"
)

// WritePrometheus writes the service's counters in the Prometheus text
// format: what `dualread audit --metrics-listen` and the adapter's admin
// /metrics (embedded audit) serve. Every loss is here: records dropped or
// invalid, re-reads and calibrations skipped, and per sink the pairs lost
// and the failed writes, including the InfluxDB sink's failed interval
// flushes.
func WritePrometheus(w io.Writer, st Stats) {
	counter := func(name, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	}
	counter("dualread_audit_records_total", "records offered to the audit service, by result (accepted, dropped: queue full or closed, invalid, failed: diff error)")
	for _, r := range []struct {
		k string
		v int64
	}{{"accepted", st.Accepted}, {"dropped", st.Dropped}, {"invalid", st.Invalid}, {"failed", st.Failed}} {
		fmt.Fprintf(w, "dualread_audit_records_total{result=%q} %d\n", r.k, r.v)
	}
	counter("dualread_audit_pairs_total", "classified pairs by final class")
	for _, c := range diff.Classes {
		fmt.Fprintf(w, "dualread_audit_pairs_total{class=%q} %d\n", c, st.Classes[c])
	}
	for _, c := range []struct {
		name, help string
		v          int64
	}{
		{"dualread_audit_rereads_total", "lag re-reads of both sides", st.Rereads},
		{"dualread_audit_reread_dropped_total", "diverging pairs not re-read (re-read queue full): first verdict stands", st.RereadDropped},
		{"dualread_audit_noise_calibrations_total", "double reads of DynamoDB counted for noise calibration", st.Calibrations},
		{"dualread_audit_noise_calibration_dropped_total", "noise calibrations skipped (queue full)", st.CalibrationDropped},
		{"dualread_audit_noise_calibration_failed_total", "noise calibrations with a failed read", st.CalibrationFailed},
	} {
		counter(c.name, c.help)
		fmt.Fprintf(w, "%s %d\n", c.name, c.v)
	}
	names := make([]string, 0, len(st.Sinks))
	for n := range st.Sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, m := range []struct {
		name, help string
		v          func(SinkStats) int64
	}{
		{"dualread_audit_sink_written_total", "pairs handed to the sink", func(s SinkStats) int64 { return s.Written }},
		{"dualread_audit_sink_dropped_total", "pairs lost by the sink: queue full, failed batch, or counted in an InfluxDB interval whose write failed", func(s SinkStats) int64 { return s.Dropped }},
		{"dualread_audit_sink_errors_total", "failed sink writes (batches, InfluxDB interval flushes)", func(s SinkStats) int64 { return s.Errors }},
	} {
		counter(m.name, m.help)
		for _, n := range names {
			fmt.Fprintf(w, "%s{sink=%q} %d\n", m.name, n, m.v(st.Sinks[n]))
		}
	}
}

// WriteClientPrometheus writes a remote audit client's counters (the
// adapter's side of `--audit HOST:PORT`).
func WriteClientPrometheus(w io.Writer, st ClientStats) {
	for _, c := range []struct {
		name, help string
		v          int64
	}{
		{"dualread_audit_client_sent_total", "records the audit service accepted", st.Sent},
		{"dualread_audit_client_dropped_total", "records dropped by the adapter's audit client (buffer full, or the service unreachable)", st.Dropped},
		{"dualread_audit_client_failures_total", "failed sends to the audit service", st.Failures},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v)
	}
}
