package dynamo

import (
	"context"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/expr"
	"github.com/dualread/dualread/adapter/store"
)

type getItemRequest struct {
	exprAttrs
	TableName              *string   `json:"TableName"`
	Key                    attr.Item `json:"Key"`
	ConsistentRead         bool      `json:"ConsistentRead"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	AttributesToGet        []string  `json:"AttributesToGet"`
	ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
}

// projectionFor parses ProjectionExpression or AttributesToGet (nil: whole item).
func projectionFor(pe *string, atg []string, p *expr.Params) (*expr.Projection, error) {
	if pe != nil {
		return expr.ParseProjection(*pe, p)
	}
	if atg != nil {
		if len(atg) == 0 {
			return nil, ddberr.Validation("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		seen := map[string]bool{}
		for _, a := range atg {
			if seen[a] {
				return nil, ddberr.Validation("One or more parameter values were invalid: Duplicate value in attribute name: %s", a)
			}
			seen[a] = true
		}
		return expr.FromAttributesToGet(atg), nil
	}
	return nil, nil
}

func (e *Executor) getItem(ctx context.Context, req *getItemRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	proj, err := readProjection(&req.exprAttrs, req.ProjectionExpression, req.AttributesToGet)
	if err != nil {
		return nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := t.key.checkKey(req.Key); err != nil {
		return nil, err
	}
	item, err := e.readItem(ctx, t, req.Key)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	size := 0
	if item != nil {
		size = item.Size()
		if proj != nil {
			item = proj.Apply(item)
		}
		resp["Item"] = item
	}
	if c := consumed(req.ReturnConsumedCapacity, name, readUnits(size, req.ConsistentRead)); c != nil {
		resp["ConsumedCapacity"] = c
	}
	return resp, nil
}

// readItem is a strong read of one item; nil when absent, a tombstone or expired.
func (e *Executor) readItem(ctx context.Context, t *table, key attr.Item) (attr.Item, error) {
	raw, ok, err := e.st.Get(ctx, t.rec.Space, t.key.rowKey(key))
	if err != nil {
		if err == store.ErrNoSpace {
			return nil, errNoTable()
		}
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	item, _, err := decodeRow(raw)
	if err != nil {
		return nil, err
	}
	if e.expired(t, item) {
		return nil, nil
	}
	return item, nil
}

// write is one item mutation through the shared read-modify-write path used by
// PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems.
type write struct {
	t    *table
	key  attr.Item
	cond *expr.Condition
	// mutate computes the new item from the current one (nil when absent);
	// returning nil deletes the item. nil mutate means condition check only.
	mutate func(old attr.Item) (attr.Item, error)
	// returnOldOnFailure puts the current item into ConditionalCheckFailedException.
	returnOldOnFailure bool
	// isUpdate selects DynamoDB's message for an update that outgrows 400 KB.
	isUpdate bool
}

// writeResult is what a write saw and did.
type writeResult struct {
	old, new attr.Item
}

// apply runs w inside tx: read, check, mutate, write base row and index rows.
func (e *Executor) apply(ctx context.Context, tx store.Txn, w *write) (writeResult, error) {
	rowKey := w.t.key.rowKey(w.key)
	raw, ok, err := tx.Get(ctx, w.t.rec.Space, rowKey)
	if err != nil {
		return writeResult{}, err
	}
	var old attr.Item
	if ok {
		if old, _, err = decodeRow(raw); err != nil {
			return writeResult{}, err
		}
	}
	if w.cond != nil {
		pass, err := w.cond.Eval(old)
		if err != nil {
			return writeResult{}, err
		}
		if !pass {
			ce := ddberr.ConditionalCheckFailed()
			if w.returnOldOnFailure && old != nil {
				ce.Item = mustJSON(old)
			}
			return writeResult{old: old}, ce
		}
	}
	if w.mutate == nil {
		return writeResult{old: old, new: old}, nil
	}
	newItem, err := w.mutate(old)
	if err != nil {
		return writeResult{}, err
	}
	version := uint64(e.opts.Now().UnixMicro())
	if newItem == nil {
		if ok {
			tx.Delete(w.t.rec.Space, rowKey)
		}
	} else {
		if newItem.Size() > maxItemSize {
			if w.isUpdate {
				return writeResult{}, ddberr.Validation(updateTooLargeMsg)
			}
			return writeResult{}, ddberr.Validation(itemTooLargeMsg)
		}
		if err := w.t.checkIndexKeys(newItem); err != nil {
			return writeResult{}, err
		}
		enc, err := encodeRow(newItem, version)
		if err != nil {
			return writeResult{}, err
		}
		tx.Put(w.t.rec.Space, rowKey, enc)
	}
	if err := w.t.maintainIndexes(tx, old, newItem, version); err != nil {
		return writeResult{}, err
	}
	return writeResult{old: old, new: newItem}, nil
}

const (
	maxItemSize       = 400 * 1024
	itemTooLargeMsg   = "Item size has exceeded the maximum allowed size"
	updateTooLargeMsg = "Item size to update has exceeded the maximum allowed size"
)

// runWrite executes one write in its own transaction.
func (e *Executor) runWrite(ctx context.Context, w *write) (writeResult, error) {
	var res writeResult
	err := e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		var err error
		res, err = e.apply(ctx, tx, w)
		return err
	})
	if err == store.ErrNoSpace {
		return res, errNoTable()
	}
	return res, err
}

type conditionalParams struct {
	exprAttrs
	ConditionExpression                 *string                                `json:"ConditionExpression"`
	Expected                            map[string]expr.ExpectedAttributeValue `json:"Expected"`
	ConditionalOperator                 *string                                `json:"ConditionalOperator"`
	ReturnValues                        string                                 `json:"ReturnValues"`
	ReturnConsumedCapacity              string                                 `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         string                                 `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure string                                 `json:"ReturnValuesOnConditionCheckFailure"`
}

// condition parses ConditionExpression or Expected (nil: unconditional).
func (c *conditionalParams) condition(p *expr.Params) (*expr.Condition, error) {
	if c.ConditionalOperator != nil && c.Expected == nil {
		return nil, ddberr.Validation("ConditionalOperator can only be used when Expected is set")
	}
	if c.ConditionExpression != nil {
		return expr.ParseCondition(*c.ConditionExpression, p)
	}
	if c.Expected != nil {
		op := ""
		if c.ConditionalOperator != nil {
			op = *c.ConditionalOperator
		}
		return expr.FromExpected(c.Expected, op)
	}
	return nil, nil
}

func (c *conditionalParams) checkReturnOnFailure() error {
	switch c.ReturnValuesOnConditionCheckFailure {
	case "", "NONE", "ALL_OLD":
		return nil
	}
	return ddberr.Validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", c.ReturnValuesOnConditionCheckFailure)
}

// prepareConditional validates what PutItem and DeleteItem share, in
// DynamoDB's order (table name, the operation's own check, ReturnValues,
// expressions), and resolves the table.
func (e *Executor) prepareConditional(ctx context.Context, tableNameP *string, c *conditionalParams, own func() error) (*table, *expr.Condition, error) {
	name, err := tableName(tableNameP)
	if err != nil {
		return nil, nil, err
	}
	if own != nil {
		if err := own(); err != nil {
			return nil, nil, err
		}
	}
	switch c.ReturnValues {
	case "", "NONE", "ALL_OLD":
	default:
		return nil, nil, ddberr.Validation("Return values set to invalid value")
	}
	if err := c.checkReturnOnFailure(); err != nil {
		return nil, nil, err
	}
	if err := checkExprMix(&c.exprAttrs, present(param{"Expected", c.Expected != nil}),
		present(param{"ConditionExpression", c.ConditionExpression != nil})); err != nil {
		return nil, nil, err
	}
	p, err := c.params()
	if err != nil {
		return nil, nil, err
	}
	cond, err := c.condition(p)
	if err != nil {
		return nil, nil, err
	}
	if err := p.CheckUnused(); err != nil {
		return nil, nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return t, cond, nil
}

type putItemRequest struct {
	conditionalParams
	TableName *string   `json:"TableName"`
	Item      attr.Item `json:"Item"`
}

func (e *Executor) putItem(ctx context.Context, req *putItemRequest) (any, error) {
	t, cond, err := e.prepareConditional(ctx, req.TableName, &req.conditionalParams, func() error {
		if req.Item == nil {
			return ddberr.Validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := t.key.checkItemKey(req.Item); err != nil {
		return nil, err
	}
	if req.Item.Size() > maxItemSize {
		return nil, ddberr.Validation(itemTooLargeMsg)
	}
	if err := t.checkIndexKeys(req.Item); err != nil {
		return nil, err
	}
	res, err := e.runWrite(ctx, &write{
		t: t, key: t.key.keyOf(req.Item), cond: cond,
		mutate:             func(attr.Item) (attr.Item, error) { return req.Item, nil },
		returnOldOnFailure: req.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
	})
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	if req.ReturnValues == "ALL_OLD" && res.old != nil {
		resp["Attributes"] = res.old
	}
	if c := consumed(req.ReturnConsumedCapacity, t.name, writeUnits(max(res.old.Size(), req.Item.Size()))); c != nil {
		resp["ConsumedCapacity"] = c
	}
	return resp, nil
}

type deleteItemRequest struct {
	conditionalParams
	TableName *string   `json:"TableName"`
	Key       attr.Item `json:"Key"`
}

func (e *Executor) deleteItem(ctx context.Context, req *deleteItemRequest) (any, error) {
	t, cond, err := e.prepareConditional(ctx, req.TableName, &req.conditionalParams, nil)
	if err != nil {
		return nil, err
	}
	if err := t.key.checkKey(req.Key); err != nil {
		return nil, err
	}
	res, err := e.runWrite(ctx, &write{
		t: t, key: req.Key, cond: cond,
		mutate:             func(attr.Item) (attr.Item, error) { return nil, nil },
		returnOldOnFailure: req.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
	})
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	if req.ReturnValues == "ALL_OLD" && res.old != nil {
		resp["Attributes"] = res.old
	}
	if c := consumed(req.ReturnConsumedCapacity, t.name, writeUnits(res.old.Size())); c != nil {
		resp["ConsumedCapacity"] = c
	}
	return resp, nil
}

type updateItemRequest struct {
	conditionalParams
	TableName        *string                              `json:"TableName"`
	Key              attr.Item                            `json:"Key"`
	UpdateExpression *string                              `json:"UpdateExpression"`
	AttributeUpdates map[string]expr.AttributeValueUpdate `json:"AttributeUpdates"`
}

func (e *Executor) updateItem(ctx context.Context, req *updateItemRequest) (any, error) {
	name, err := tableName(req.TableName)
	if err != nil {
		return nil, err
	}
	switch req.ReturnValues {
	case "", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW":
	default:
		return nil, ddberr.Validation("Return values set to invalid value")
	}
	if err := req.checkReturnOnFailure(); err != nil {
		return nil, err
	}
	if err := checkExprMix(&req.exprAttrs,
		present(param{"AttributeUpdates", req.AttributeUpdates != nil}, param{"Expected", req.Expected != nil}),
		present(param{"UpdateExpression", req.UpdateExpression != nil}, param{"ConditionExpression", req.ConditionExpression != nil})); err != nil {
		return nil, err
	}
	p, err := req.params()
	if err != nil {
		return nil, err
	}
	var upd *expr.Update
	switch {
	case req.UpdateExpression != nil:
		upd, err = expr.ParseUpdate(*req.UpdateExpression, p)
	case req.AttributeUpdates != nil:
		upd, err = expr.FromAttributeUpdates(req.AttributeUpdates)
	}
	if err != nil {
		return nil, err
	}
	cond, err := req.condition(p)
	if err != nil {
		return nil, err
	}
	if err := p.CheckUnused(); err != nil {
		return nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := t.key.checkKey(req.Key); err != nil {
		return nil, err
	}
	if upd != nil {
		for _, path := range upd.Paths() {
			for _, k := range t.key.names() {
				if len(path) > 0 && !path[0].IsIndex && path[0].Name == k {
					return nil, ddberr.Validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", k)
				}
			}
		}
	}
	res, err := e.runWrite(ctx, &write{
		t: t, key: req.Key, cond: cond,
		mutate: func(old attr.Item) (attr.Item, error) {
			base := old
			if base == nil {
				base = req.Key.Clone()
			}
			if upd == nil {
				return base, nil
			}
			return upd.Apply(base)
		},
		returnOldOnFailure: req.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
		isUpdate:           true,
	})
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	// UPDATED_OLD/NEW return just the updated paths, projected (a.c[1] gives
	// {a:{c:[v]}}), as AWS does; DynamoDB Local returns whole top-level
	// attributes instead (see tests/differential/deviations.go).
	var attrs attr.Item
	switch req.ReturnValues {
	case "ALL_OLD":
		attrs = res.old
	case "ALL_NEW":
		attrs = res.new
	case "UPDATED_OLD":
		if upd != nil && res.old != nil {
			attrs = expr.ProjectPaths(res.old, upd.Paths())
		}
	case "UPDATED_NEW":
		if upd != nil {
			attrs = expr.ProjectPaths(res.new, upd.Paths())
		}
	}
	if len(attrs) > 0 {
		resp["Attributes"] = attrs
	}
	if c := consumed(req.ReturnConsumedCapacity, name, writeUnits(max(res.old.Size(), res.new.Size()))); c != nil {
		resp["ConsumedCapacity"] = c
	}
	return resp, nil
}
