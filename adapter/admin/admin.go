// Package admin is the adapter's operator API, served on its own port (never
// the DynamoDB one): per-table migration modes, shown and changed at run time
// (the drill switches tables with it), shadow-read metrics, and health.
//
//	GET    /healthz               "ok"
//	GET    /modes                 rules, overrides, and ?table=T's effective mode
//	PUT    /modes/{table}         set an override: {"serve":"store","shadow":"dynamodb","sample":1,"writes":"serve"}
//	DELETE /modes/{table}         remove the override
//	GET    /metrics               Prometheus text: shadow counters, and the audit's (embedded service or remote client)
package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/adapter/shadow"
)

// Handler serves the admin API for modes (may be nil: no modes) and
// shadower (may be nil: no shadow reads). Each of metrics appends more
// Prometheus text to /metrics: the embedded audit service's counters
// (audit.WritePrometheus), or the remote audit client's.
func Handler(set *modes.Set, shadower *shadow.Shadower, metrics ...func(io.Writer)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /modes", func(w http.ResponseWriter, r *http.Request) {
		if set == nil {
			http.Error(w, "no migration modes configured", http.StatusNotFound)
			return
		}
		rules, overrides := set.Snapshot()
		out := map[string]any{"rules": rules, "overrides": overrides}
		if t := r.URL.Query().Get("table"); t != "" {
			out["table"] = map[string]any{"name": t, "mode": set.For(t)}
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("PUT /modes/{table}", func(w http.ResponseWriter, r *http.Request) {
		if set == nil {
			http.Error(w, "no migration modes configured", http.StatusNotFound)
			return
		}
		table := r.PathValue("table")
		m := set.For(table).Mode // fields the body leaves out keep their value
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			http.Error(w, "bad mode: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := set.Override(table, m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, set.For(table))
	})
	mux.HandleFunc("DELETE /modes/{table}", func(w http.ResponseWriter, r *http.Request) {
		if set == nil {
			http.Error(w, "no migration modes configured", http.StatusNotFound)
			return
		}
		set.Clear(r.PathValue("table"))
		writeJSON(w, set.For(r.PathValue("table")))
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		for _, m := range metrics {
			m(w)
		}
		if shadower == nil {
			return
		}
		st := shadower.Stats()
		for _, c := range []struct {
			name, help string
			v          int64
		}{
			{"dualread_shadow_offered_total", "reads offered for shadowing", st.Offered},
			{"dualread_shadow_sampled_total", "reads chosen by the table's sample rate", st.Sampled},
			{"dualread_shadow_dropped_total", "sampled reads dropped because the queue was full", st.Dropped},
			{"dualread_shadow_sent_total", "shadow reads answered by DynamoDB", st.Sent},
			{"dualread_shadow_failed_total", "shadow reads that failed (timeout, 5xx, connection)", st.Failed},
			{"dualread_shadow_shed_total", "shadow reads shed while the breaker was open", st.ShedByBreaker},
			{"dualread_shadow_rate_limited_total", "shadow reads dropped by the rate limit", st.RateLimited},
		} {
			fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v)
		}
		fmt.Fprintf(w, "# HELP dualread_shadow_breaker_open 1 while a side's breaker sheds shadow reads to it\n# TYPE dualread_shadow_breaker_open gauge\n")
		for _, b := range []struct {
			target string
			open   bool
		}{{shadow.TargetDynamoDB, st.BreakerOpen}, {shadow.TargetStore, st.StoreBreakerOpen}} {
			open := 0
			if b.open {
				open = 1
			}
			fmt.Fprintf(w, "dualread_shadow_breaker_open{target=%q} %d\n", b.target, open)
		}
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
