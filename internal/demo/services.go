// Package demo is the traffic generator of the local stack (`dualread demo`,
// started by `make run`): it creates a few tables in DynamoDB Local and in
// the adapter, writes to DynamoDB Local at a modest rate (so change records
// flow through the KDS bridge and streamproc into the adapter's store),
// reads through the adapter (so shadow reads produce audit pairs), and
// injects a few divergences on purpose so that the audit's mismatch and lag
// classes and the access audit's services have something to show.
//
// Nothing here is a benchmark: the rate is bounded and low, the run is
// bounded in time, and failures are counted and logged rather than fatal.
package demo

import (
	"fmt"
	"sort"
	"strings"
)

// Service is one calling application the demo plays. The adapter names a
// caller by its SigV4 access key id, or by the service the credentials file
// maps that key to; the access audit (dualread_access) counts per service.
type Service struct {
	AccessKeyID string
	Secret      string
	Name        string
	Does        string // what the demo does as this service, for the printout
}

// The services. Each signs with its own access key, so the access audit
// shows four callers.
var (
	Checkout = Service{"AKIADEMOCHECKOUT", "demo-checkout-secret", "checkout-api", "GetItem/Query on demo_orders"}
	Catalog  = Service{"AKIADEMOCATALOG", "demo-catalog-secret", "catalog-api", "GetItem/BatchGetItem on demo_catalog"}
	Reports  = Service{"AKIADEMOREPORTS", "demo-reports-secret", "reports-job", "Scan on both tables"}
	Legacy   = Service{"AKIADEMOLEGACY", "demo-legacy-secret", "legacy-writer", "writes to the adapter directly (the injected divergence)"}
	// Writer writes to DynamoDB Local, the source of truth, and creates the
	// tables on both sides as a migration's operator would.
	Writer = Service{"AKIADEMOWRITER", "demo-writer-secret", "orders-backend", "writes to DynamoDB Local; creates the tables"}
)

// Services are the demo's callers, in a stable order.
func Services() []Service { return []Service{Checkout, Catalog, Reports, Legacy, Writer} }

// CredentialsYAML is a credentials file (for `dualread serve --credentials`)
// naming each demo service, plus extra key → service pairs (e.g. the stack's
// own key, which the audit's re-reads sign with).
func CredentialsYAML(extra map[string]Service) string {
	var b strings.Builder
	b.WriteString("# Access key id -> service, so the access audit names the demo's callers.\n")
	b.WriteString("# Written by `dualread local up`; --auth identify does not check the secrets.\n")
	all := map[string]Service{}
	for _, s := range Services() {
		all[s.AccessKeyID] = s
	}
	for k, s := range extra {
		all[k] = s
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := all[k]
		fmt.Fprintf(&b, "%s: {secret: %q, service: %q}\n", k, s.Secret, s.Name)
	}
	return b.String()
}
