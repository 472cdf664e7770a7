package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/expr"
	"github.com/dualread/dualread/adapter/store"
)

const (
	maxTransactItems = 100
	// tokenSpace records ClientRequestTokens of TransactWriteItems, written in
	// the same transaction as the items, so a retried request is recognised by
	// any adapter process. DynamoDB keeps tokens for 10 minutes.
	tokenSpace  = "txtokens"
	tokenWindow = 10 * time.Minute
)

type transactOp struct {
	exprAttrs
	TableName                           *string   `json:"TableName"`
	Key                                 attr.Item `json:"Key"`
	Item                                attr.Item `json:"Item"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	UpdateExpression                    *string   `json:"UpdateExpression"`
	ProjectionExpression                *string   `json:"ProjectionExpression"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
}

type transactWriteItem struct {
	ConditionCheck *transactOp `json:"ConditionCheck"`
	Put            *transactOp `json:"Put"`
	Delete         *transactOp `json:"Delete"`
	Update         *transactOp `json:"Update"`
}

type transactWriteRequest struct {
	TransactItems               []transactWriteItem `json:"TransactItems"`
	ClientRequestToken          *string             `json:"ClientRequestToken"`
	ReturnConsumedCapacity      string              `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics string              `json:"ReturnItemCollectionMetrics"`
}

func checkTransactCount(n int) error {
	if n == 0 {
		return ddberr.Validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null")
	}
	if n > maxTransactItems {
		return ddberr.Validation("1 validation error detected: Value '[%d items]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100", n)
	}
	return nil
}

// prepareTransactWrite validates one TransactItems entry and builds its write.
func (e *Executor) prepareTransactWrite(ctx context.Context, it transactWriteItem) (*write, error) {
	var op *transactOp
	kinds := 0
	for _, o := range []*transactOp{it.ConditionCheck, it.Put, it.Delete, it.Update} {
		if o != nil {
			op = o
			kinds++
		}
	}
	if kinds != 1 {
		return nil, ddberr.Validation("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	name, err := tableName(op.TableName)
	if err != nil {
		return nil, err
	}
	if err := (&conditionalParams{ReturnValuesOnConditionCheckFailure: op.ReturnValuesOnConditionCheckFailure}).checkReturnOnFailure(); err != nil {
		return nil, err
	}
	p, err := op.params()
	if err != nil {
		return nil, err
	}
	var cond *expr.Condition
	if op.ConditionExpression != nil {
		if cond, err = expr.ParseCondition(*op.ConditionExpression, p); err != nil {
			return nil, err
		}
	} else if it.ConditionCheck != nil {
		return nil, ddberr.Validation("The expression can not be empty;")
	}
	var upd *expr.Update
	if it.Update != nil {
		if op.UpdateExpression == nil {
			return nil, ddberr.Validation("1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null")
		}
		if upd, err = expr.ParseUpdate(*op.UpdateExpression, p); err != nil {
			return nil, err
		}
	}
	if err := p.CheckUnused(); err != nil {
		return nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, err
	}
	w := &write{t: t, cond: cond, returnOldOnFailure: op.ReturnValuesOnConditionCheckFailure == "ALL_OLD"}
	switch {
	case it.Put != nil:
		if op.Item == nil {
			return nil, ddberr.Validation("1 validation error detected: Value null at 'transactItems.1.member.put.item' failed to satisfy constraint: Member must not be null")
		}
		if err := t.key.checkItemKey(op.Item); err != nil {
			return nil, err
		}
		if op.Item.Size() > maxItemSize {
			return nil, ddberr.Validation(itemTooLargeMsg)
		}
		if err := t.checkIndexKeys(op.Item); err != nil {
			return nil, err
		}
		item := op.Item
		w.key = t.key.keyOf(item)
		w.mutate = func(attr.Item) (attr.Item, error) { return item, nil }
	default:
		if err := t.key.checkKey(op.Key); err != nil {
			return nil, err
		}
		w.key = op.Key
		switch {
		case it.Delete != nil:
			w.mutate = func(attr.Item) (attr.Item, error) { return nil, nil }
		case it.Update != nil:
			for _, path := range upd.Paths() {
				for _, k := range t.key.names() {
					if len(path) > 0 && path[0].Name == k && !path[0].IsIndex {
						return nil, ddberr.Validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", k)
					}
				}
			}
			key := op.Key
			w.isUpdate = true
			w.mutate = func(old attr.Item) (attr.Item, error) {
				if old == nil {
					old = key.Clone()
				}
				return upd.Apply(old)
			}
		}
	}
	return w, nil
}

func (e *Executor) transactWriteItems(ctx context.Context, req *transactWriteRequest) (any, error) {
	if err := checkTransactCount(len(req.TransactItems)); err != nil {
		return nil, err
	}
	writes := make([]*write, 0, len(req.TransactItems))
	seen := map[string]bool{}
	for _, it := range req.TransactItems {
		w, err := e.prepareTransactWrite(ctx, it)
		if err != nil {
			return nil, err
		}
		id := w.t.rec.Space + "/" + string(w.t.key.rowKey(w.key))
		if seen[id] {
			return nil, ddberr.Validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		writes = append(writes, w)
	}
	var token []byte
	var digest [32]byte
	var tokens string
	if req.ClientRequestToken != nil {
		if n := len(*req.ClientRequestToken); n < 1 || n > 36 {
			return nil, ddberr.Validation("1 validation error detected: Value '%s' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36", *req.ClientRequestToken)
		}
		token = []byte(*req.ClientRequestToken)
		digest = requestDigest(req)
		// Tokens are kept on the backend of the transaction's tables, so the
		// token and the items commit in one transaction.
		tokens = spacePrefix(writes[0].t.rec.Space) + tokenSpace
		if err := e.st.CreateSpace(ctx, tokens); err != nil {
			return nil, err
		}
	}
	units := map[string]float64{}
	err := e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		clear(units)
		if token != nil {
			done, err := e.checkToken(ctx, tx, tokens, token, digest)
			if err != nil || done {
				return err
			}
		}
		reasons := make([]ddberr.CancellationReason, len(writes))
		failed := false
		for i, w := range writes {
			res, err := e.apply(ctx, tx, w)
			reasons[i] = ddberr.CancellationReason{Code: "None"}
			var de *ddberr.Error
			switch {
			case err == nil:
				units[w.t.name] += 2 * writeUnits(max(res.old.Size(), res.new.Size()))
			case errors.As(err, &de) && de.Name() == "ConditionalCheckFailedException":
				// DynamoDB ends the message with a full stop for ConditionCheck
				// actions only.
				msg := "The conditional request failed"
				if w.mutate == nil {
					msg += "."
				}
				reasons[i] = ddberr.CancellationReason{Code: "ConditionalCheckFailed", Message: msg, Item: de.Item}
				failed = true
			case errors.As(err, &de) && de.Name() == "ValidationException":
				reasons[i] = ddberr.CancellationReason{Code: "ValidationError", Message: de.Message}
				failed = true
			default:
				return err
			}
		}
		if failed {
			return cancelled(reasons)
		}
		if token != nil {
			tx.Put(tokens, token, tokenRecord(digest, e.opts.Now()))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	if caps := consumedList(req.ReturnConsumedCapacity, units); caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp, nil
}

func cancelled(reasons []ddberr.CancellationReason) error {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r.Code
	}
	err := ddberr.Dynamo("TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	err.CancellationReasons = reasons
	return err
}

// requestDigest identifies a request's content for idempotency checks.
func requestDigest(req *transactWriteRequest) [32]byte {
	return sha256.Sum256(mustJSON(req.TransactItems))
}

func tokenRecord(digest [32]byte, now time.Time) []byte {
	out := make([]byte, 8, 40)
	binary.BigEndian.PutUint64(out, uint64(now.UnixMilli()))
	return append(out, digest[:]...)
}

// checkToken reports whether this token already committed the same request
// within the window (done: nothing to apply), or fails if it was used for a
// different request.
func (e *Executor) checkToken(ctx context.Context, tx store.Txn, space string, token []byte, digest [32]byte) (bool, error) {
	raw, ok, err := tx.Get(ctx, space, token)
	if err != nil || !ok || len(raw) != 40 {
		return false, err
	}
	at := time.UnixMilli(int64(binary.BigEndian.Uint64(raw)))
	if e.opts.Now().Sub(at) > tokenWindow {
		return false, nil
	}
	if string(raw[8:]) != string(digest[:]) {
		return false, ddberr.Dynamo("IdempotentParameterMismatchException", "Request has a different set of parameters from previous request with the same client request token")
	}
	return true, nil
}

type transactGetRequest struct {
	TransactItems []struct {
		Get *transactOp `json:"Get"`
	} `json:"TransactItems"`
	ReturnConsumedCapacity string `json:"ReturnConsumedCapacity"`
}

func (e *Executor) transactGetItems(ctx context.Context, req *transactGetRequest) (any, error) {
	if err := checkTransactCount(len(req.TransactItems)); err != nil {
		return nil, err
	}
	type get struct {
		t    *table
		key  attr.Item
		proj *expr.Projection
	}
	gets := make([]get, len(req.TransactItems))
	for i, it := range req.TransactItems {
		if it.Get == nil {
			return nil, ddberr.Validation("1 validation error detected: Value null at 'transactItems.%d.member.get' failed to satisfy constraint: Member must not be null", i+1)
		}
		name, err := tableName(it.Get.TableName)
		if err != nil {
			return nil, err
		}
		proj, err := readProjection(&it.Get.exprAttrs, it.Get.ProjectionExpression, nil)
		if err != nil {
			return nil, err
		}
		t, err := e.catalog.get(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := t.key.checkKey(it.Get.Key); err != nil {
			return nil, err
		}
		gets[i] = get{t, it.Get.Key, proj}
	}
	out := make([]map[string]any, len(gets))
	units := map[string]float64{}
	// A read-only transaction: the store validates every read at commit, so
	// the items form one consistent snapshot.
	err := e.st.Update(ctx, func(ctx context.Context, tx store.Txn) error {
		clear(units)
		for i, g := range gets {
			out[i] = map[string]any{}
			raw, ok, err := tx.Get(ctx, g.t.rec.Space, g.t.key.rowKey(g.key))
			if err != nil {
				return err
			}
			var item attr.Item
			if ok {
				if item, _, err = decodeRow(raw); err != nil {
					return err
				}
			}
			units[g.t.name] += 2 * readUnits(item.Size(), true)
			if item == nil || e.expired(g.t, item) {
				continue
			}
			if g.proj != nil {
				item = g.proj.Apply(item)
			}
			out[i]["Item"] = item
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"Responses": out}
	if caps := consumedList(req.ReturnConsumedCapacity, units); caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp, nil
}
