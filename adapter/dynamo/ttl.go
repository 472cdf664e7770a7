package dynamo

import (
	"context"
	"encoding/json"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/store"
)

// expired reports whether item's TTL attribute (a number of epoch seconds) is
// in the past. Such items are hidden from reads at once, rather than after
// DynamoDB's background deletion delay; writes still see them, as in DynamoDB.
func (e *Executor) expired(t *table, item attr.Item) bool {
	if t.ttlAttr == "" || item == nil {
		return false
	}
	v, ok := item[t.ttlAttr]
	if !ok || v.Type != attr.N {
		return false
	}
	now := e.opts.Now().Unix()
	return attr.CompareNumbers(v.S, itoa(now)) < 0
}

func (e *Executor) describeTTL(ctx context.Context, req *tableNameRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if s := t.rec.TTL; s != nil && s.Enabled {
		d = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": s.AttributeName}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}

type updateTTLRequest struct {
	TableName               *string `json:"TableName"`
	TimeToLiveSpecification *struct {
		AttributeName *string `json:"AttributeName"`
		Enabled       *bool   `json:"Enabled"`
	} `json:"TimeToLiveSpecification"`
}

func (e *Executor) updateTTL(ctx context.Context, req *updateTTLRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	spec := req.TimeToLiveSpecification
	if spec == nil {
		return nil, ddberr.Validation("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	}
	if spec.AttributeName == nil || *spec.AttributeName == "" {
		return nil, ddberr.Validation("1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
	}
	if spec.Enabled == nil {
		return nil, ddberr.Validation("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
	}
	err = e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		rec, err := getRecord(ctx, tx, name)
		if err != nil {
			return err
		}
		if rec == nil {
			return errNoTable()
		}
		cur := rec.TTL
		switch {
		case *spec.Enabled && cur != nil && cur.Enabled:
			return ddberr.Validation("TimeToLive is already enabled")
		case !*spec.Enabled && (cur == nil || !cur.Enabled):
			return ddberr.Validation("TimeToLive is already disabled")
		case !*spec.Enabled && cur.AttributeName != *spec.AttributeName:
			return ddberr.Validation("TimeToLive is active on a different AttributeName: current AttributeName is %s", cur.AttributeName)
		}
		rec.TTL = &ttlSpec{AttributeName: *spec.AttributeName, Enabled: *spec.Enabled}
		return putRecord(tx, *rec)
	})
	if err != nil {
		return nil, err
	}
	e.catalog.forget(name)
	return map[string]any{"TimeToLiveSpecification": map[string]any{"AttributeName": *spec.AttributeName, "Enabled": *spec.Enabled}}, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
