package dynamo

import (
	"context"

	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/store"
)

type updateTableRequest struct {
	TableName                   *string                `json:"TableName"`
	AttributeDefinitions        []AttributeDefinition  `json:"AttributeDefinitions"`
	BillingMode                 *string                `json:"BillingMode"`
	ProvisionedThroughput       *ProvisionedThroughput `json:"ProvisionedThroughput"`
	DeletionProtectionEnabled   *bool                  `json:"DeletionProtectionEnabled"`
	StreamSpecification         *StreamSpecification   `json:"StreamSpecification"`
	GlobalSecondaryIndexUpdates []struct {
		Create *secondaryIndexRequest `json:"Create"`
		Delete *struct {
			IndexName string `json:"IndexName"`
		} `json:"Delete"`
		Update *struct {
			IndexName             string                 `json:"IndexName"`
			ProvisionedThroughput *ProvisionedThroughput `json:"ProvisionedThroughput"`
		} `json:"Update"`
	} `json:"GlobalSecondaryIndexUpdates"`
}

// updateTable changes billing and throughput (recorded, otherwise no-ops:
// the backends have no capacity model) and creates or deletes GSIs. A new GSI
// is filled from the table before the call returns.
func (e *Executor) updateTable(ctx context.Context, req *updateTableRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	var created []*index
	var dropped []string
	var rec tableRecord
	err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		created, dropped = nil, nil
		r, err := getRecord(ctx, tx, name)
		if err != nil {
			return err
		}
		if r == nil {
			return errNoTable()
		}
		rec = *r
		d := &rec.Desc
		changed := false
		if req.BillingMode != nil {
			switch *req.BillingMode {
			case "PAY_PER_REQUEST":
				now := epochTime(float64(e.opts.Now().UnixMilli()) / 1000)
				d.BillingModeSummary = &BillingModeSummary{BillingMode: "PAY_PER_REQUEST", LastUpdateToPayPerRequestDateTime: now}
				d.ProvisionedThroughput = &ProvisionedThroughputDescription{}
			case "PROVISIONED":
				if req.ProvisionedThroughput == nil {
					return ddberr.Validation("One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
				}
				d.BillingModeSummary = &BillingModeSummary{BillingMode: "PROVISIONED"}
			default:
				return ddberr.Validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", *req.BillingMode)
			}
			changed = true
		}
		if p := req.ProvisionedThroughput; p != nil {
			if d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode == "PAY_PER_REQUEST" {
				return ddberr.Validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
			}
			d.ProvisionedThroughput = &ProvisionedThroughputDescription{ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits}
			changed = true
		}
		if req.DeletionProtectionEnabled != nil {
			d.DeletionProtectionEnabled = *req.DeletionProtectionEnabled
			changed = true
		}
		if req.StreamSpecification != nil {
			d.StreamSpecification = req.StreamSpecification
			changed = true
		}
		defs := map[string]string{}
		for _, a := range d.AttributeDefinitions {
			defs[a.AttributeName] = a.AttributeType
		}
		for _, a := range req.AttributeDefinitions {
			if _, ok := defs[a.AttributeName]; !ok {
				d.AttributeDefinitions = append(d.AttributeDefinitions, a)
				defs[a.AttributeName] = a.AttributeType
			}
		}
		for _, u := range req.GlobalSecondaryIndexUpdates {
			changed = true
			switch {
			case u.Create != nil:
				seen := map[string]bool{}
				for _, ix := range d.GlobalSecondaryIndexes {
					seen[ix.IndexName] = true
				}
				for _, ix := range d.LocalSecondaryIndexes {
					seen[ix.IndexName] = true
				}
				if seen[u.Create.IndexName] {
					return ddberr.Validation("One or more parameter values were invalid: Index %s already exists", u.Create.IndexName)
				}
				billing := "PROVISIONED"
				if d.BillingModeSummary != nil {
					billing = d.BillingModeSummary.BillingMode
				}
				desc, err := e.indexDesc(name, *u.Create, defs, seen, true, func(p *ProvisionedThroughput) (*ProvisionedThroughputDescription, error) {
					if billing == "PAY_PER_REQUEST" {
						return &ProvisionedThroughputDescription{}, nil
					}
					if p == nil {
						return nil, ddberr.Validation("One or more parameter values were invalid: ProvisionedThroughput should be specified for index: %s", u.Create.IndexName)
					}
					return &ProvisionedThroughputDescription{ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits}, nil
				})
				if err != nil {
					return err
				}
				desc.IndexStatus = "CREATING"
				d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, desc)
				if rec.IndexSpaces == nil {
					rec.IndexSpaces = map[string]string{}
				}
				// The index lives with its table, on the table's backend.
				rec.IndexSpaces[desc.IndexName] = newSpaceName(spacePrefix(rec.Space) + "x")
				created = append(created, &index{name: desc.IndexName, space: rec.IndexSpaces[desc.IndexName]})
			case u.Delete != nil:
				found := false
				for i, ix := range d.GlobalSecondaryIndexes {
					if ix.IndexName == u.Delete.IndexName {
						d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes[:i:i], d.GlobalSecondaryIndexes[i+1:]...)
						dropped = append(dropped, rec.IndexSpaces[ix.IndexName])
						delete(rec.IndexSpaces, ix.IndexName)
						found = true
						break
					}
				}
				if !found {
					return ddberr.ResourceNotFound("Requested resource not found: Index: %s not found", u.Delete.IndexName)
				}
			case u.Update != nil:
				// Throughput of a GSI: recorded only.
			}
		}
		if !changed {
			return ddberr.Validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
		}
		if len(d.GlobalSecondaryIndexes) == 0 {
			d.GlobalSecondaryIndexes = nil
		}
		return putRecord(tx, rec)
	})
	if err != nil {
		return nil, err
	}
	e.catalog.forget(name)
	for _, sp := range dropped {
		if err := e.st.DropSpace(ctx, sp); err != nil {
			e.log.Warn("drop index space", "space", sp, "err", err)
		}
	}
	for _, ix := range created {
		if err := e.st.CreateSpace(ctx, ix.space); err != nil {
			return nil, err
		}
	}
	if len(created) > 0 {
		if err := e.backfillIndexes(ctx, name, created); err != nil {
			return nil, err
		}
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": t.rec.Desc}, nil
}

// backfillIndexes writes index rows for every existing item, then marks the
// indexes ACTIVE. Each item is re-read and indexed in its own transaction, so
// a concurrent write (which already maintains the new index, since it is in
// the catalog) can never be overwritten by a stale index row.
func (e *Executor) backfillIndexes(ctx context.Context, name string, created []*index) error {
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return err
	}
	for row, err := range e.st.Scan(ctx, t.rec.Space, store.Range{}) {
		if err != nil {
			return err
		}
		key := append([]byte{}, row.Key...)
		err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			raw, ok, err := tx.Get(ctx, t.rec.Space, key)
			if err != nil || !ok {
				return err
			}
			item, ver, err := decodeRow(raw)
			if err != nil || item == nil {
				return err
			}
			for _, c := range created {
				ix := t.indexes[c.name]
				if k, ok := ix.indexRowKey(t.key, item); ok {
					enc, err := encodeRow(ix.project(t.key, item), ver)
					if err != nil {
						return err
					}
					tx.Put(ix.space, k, enc)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		rec, err := getRecord(ctx, tx, name)
		if err != nil || rec == nil {
			return err
		}
		for i := range rec.Desc.GlobalSecondaryIndexes {
			rec.Desc.GlobalSecondaryIndexes[i].IndexStatus = "ACTIVE"
		}
		return putRecord(tx, *rec)
	})
	e.catalog.forget(name)
	return err
}
