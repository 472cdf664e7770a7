package kinesis

import (
	"context"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/streamproc/lease"
)

// The lease table is shared with the DynamoDB Streams consumer and lives in
// streamproc/lease; these names keep the ones this package always had.
const (
	// LeaseSpace is the store space of the lease table.
	LeaseSpace = lease.Space
	// ShardEnd is the checkpoint of a shard read to its end.
	ShardEnd = lease.ShardEnd
)

// Lease is one row of the lease table.
type Lease = lease.Lease

// leases addresses one stream's rows of the lease table (used by the
// end-to-end test to read checkpoints).
type leases struct {
	st     store.Store
	stream string
}

func (ls *leases) list(ctx context.Context) (map[string]*Lease, error) {
	return lease.NewTable(ls.st, ls.stream).List(ctx)
}
