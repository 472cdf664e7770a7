package kdsgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/testenv"
)

// Config says what Generate writes.
type Config struct {
	// DynamoDB is the DynamoDB Local the writes go to. Generate must be the
	// only writer to Tables while it runs: each writer's model of its items
	// is what DynamoDB holds only if nobody else changes them.
	DynamoDB *testenv.RawClient
	// Tables receive the writes; each has the string hash key "pk" and no
	// sort key. The key space is spread over them.
	Tables []string
	// Changes is how many changes to make. Every one is a write DynamoDB
	// applies and emits a record for: a delete is only sent for an item
	// that exists (deleting nothing emits no record in DynamoDB either).
	Changes int
	// Keys is the size of the key space over all tables (default 100):
	// small, so that every item changes many times.
	Keys int
	// Writers is how many goroutines write (default 4). Each owns a
	// disjoint share of the keys, so one item's writes are never
	// concurrent and its records come out in change order.
	Writers int
	// Batch > 1: per step, each writer changes up to Batch (≤ 25) of its
	// items, puts and deletes in one BatchWriteItem and updates in one
	// TransactWriteItems, both sent at once; the images in the records
	// come from the writer's model of its items (checked against DynamoDB
	// Local at the end). Batch ≤ 1: one PutItem, UpdateItem or DeleteItem
	// per change with ReturnValues, the images from DynamoDB's answers.
	Batch int
	// Seed makes the sequence of operations reproducible.
	Seed uint64
	// Start is the first ApproximateCreationDateTime (default: an hour
	// before Generate is called). The clock advances exactly 1 ms per
	// change, in the order the changes completed, so both precisions give
	// every change of an item a distinct, increasing version.
	Start time.Time
}

// Result is what Generate made.
type Result struct {
	// Records has one record per change, each item's in change order.
	Records []Pub
	// PerTable counts the records of each table.
	PerTable map[string]int
	// First and Last bound the records' ApproximateCreationDateTime.
	First, Last time.Time
}

// maxBatch is BatchWriteItem's limit (TransactWriteItems allows 100).
const maxBatch = 25

// Generate makes cfg.Changes random changes on DynamoDB Local: 40% puts
// (INSERT or MODIFY), 40% updates (`ADD n :one SET u = :u`, INSERT when
// the item did not exist) and 20% deletes (REMOVE), and returns the
// records KDS for DynamoDB would publish for them. Before returning it
// scans the tables and fails if they differ from the writers' models, so
// the images in the records are proven to be DynamoDB's.
func Generate(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.DynamoDB == nil || len(cfg.Tables) == 0 || cfg.Changes <= 0 {
		return nil, errors.New("kdsgen: DynamoDB, Tables and Changes are required")
	}
	if cfg.Keys <= 0 {
		cfg.Keys = 100
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 4
	}
	cfg.Writers = min(cfg.Writers, cfg.Keys)
	cfg.Batch = min(cfg.Batch, maxBatch)
	if cfg.Start.IsZero() {
		cfg.Start = time.Now().Add(-time.Hour)
	}
	g := &gen{cfg: cfg, res: &Result{PerTable: map[string]int{}}}
	g.clock.Store(cfg.Start.UnixMicro())
	ws := make([]*writer, cfg.Writers)
	for i := range ws {
		quota := cfg.Changes / cfg.Writers
		if i < cfg.Changes%cfg.Writers {
			quota++
		}
		ws[i] = &writer{g: g, id: i, quota: quota, rnd: rand.New(rand.NewPCG(cfg.Seed, uint64(i))), model: map[int]attr.Item{}}
		for j := i; j < cfg.Keys; j += cfg.Writers {
			ws[i].keys = append(ws[i].keys, j)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.run(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g.res.First = time.UnixMicro(cfg.Start.UnixMicro() + 1000)
	g.res.Last = time.UnixMicro(g.clock.Load())
	if err := g.verify(ctx, ws); err != nil {
		return nil, err
	}
	return g.res, nil
}

type gen struct {
	cfg   Config
	clock atomic.Int64
	mu    sync.Mutex
	res   *Result
}

// key j's table and item key.
func (g *gen) key(j int) (string, string) {
	return g.cfg.Tables[(j/g.cfg.Writers)%len(g.cfg.Tables)], fmt.Sprintf("k%04d", j)
}

// emit stamps changes that DynamoDB has applied with the next clock ticks
// and adds their records.
func (g *gen) emit(rnd *rand.Rand, cs []change) {
	recs := make([]Pub, len(cs))
	for i, c := range cs {
		ts := g.clock.Add(1000)
		keys := attr.Item{"pk": attr.Str(c.pk)}
		recs[i] = Pub{c.pk, Record(c.table, c.event, keys, c.newImg, c.oldImg, ts, rnd.IntN(2) == 0)}
	}
	g.mu.Lock()
	g.res.Records = append(g.res.Records, recs...)
	for _, c := range cs {
		g.res.PerTable[c.table]++
	}
	g.mu.Unlock()
}

type change struct {
	table, pk      string
	event          string
	newImg, oldImg attr.Item
}

type writer struct {
	g     *gen
	id    int
	quota int
	keys  []int
	rnd   *rand.Rand
	model map[int]attr.Item // what DynamoDB holds for each owned key (nil: absent)
	steps int
}

func (w *writer) run(ctx context.Context) error {
	for w.quota > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if w.g.cfg.Batch > 1 {
			err = w.batchStep(ctx)
		} else {
			err = w.singleStep(ctx)
		}
		if err != nil {
			return fmt.Errorf("kdsgen writer %d: %w", w.id, err)
		}
		w.steps++
	}
	return nil
}

// op draws the next operation on key j: 0 put, 1 update, 2 delete (never
// for an absent item: that would change nothing).
func (w *writer) op(j int) int {
	switch r := w.rnd.IntN(10); {
	case r < 4:
		return 0
	case r < 8:
		return 1
	case w.model[j] == nil:
		return 0
	default:
		return 2
	}
}

func (w *writer) putItem(pk string) attr.Item {
	it := attr.Item{"pk": attr.Str(pk), "s": attr.Str(fmt.Sprintf("v%d-%d", w.id, w.steps)),
		"tags": attr.StrSet([]string{"a", fmt.Sprint("t", w.rnd.IntN(5))})}
	if w.rnd.IntN(2) == 0 {
		it["m"] = attr.Map(map[string]attr.Value{"x": attr.List([]attr.Value{attr.Bool(true), attr.Null()})})
	}
	return it
}

// updateExpr is the update every "update" makes; updated is its effect.
const updateExpr = `"UpdateExpression":"ADD n :one SET u = :u","ExpressionAttributeValues":{":one":{"N":"1"},":u":{"N":"%d.5"}}`

func (w *writer) updated(old attr.Item, pk string) (attr.Item, error) {
	it := attr.Item{"pk": attr.Str(pk), "n": attr.MustNum("1")}
	if old != nil {
		it = old.Clone()
		if n, ok := old["n"]; ok {
			sum, err := attr.AddNumbers(n.S, "1")
			if err != nil {
				return nil, err
			}
			it["n"] = attr.MustNum(sum)
		} else {
			it["n"] = attr.MustNum("1")
		}
	}
	it["u"] = attr.MustNum(fmt.Sprintf("%d.5", w.steps))
	return it, nil
}

type ddbAnswer struct {
	Attributes       attr.Item       `json:"Attributes"`
	Items            []attr.Item     `json:"Items"`
	LastEvaluatedKey attr.Item       `json:"LastEvaluatedKey"`
	UnprocessedItems json.RawMessage `json:"UnprocessedItems"`
}

func (g *gen) call(ctx context.Context, op, body string) (ddbAnswer, error) {
	resp, err := g.cfg.DynamoDB.Do(ctx, op, []byte(body))
	if err != nil {
		return ddbAnswer{}, fmt.Errorf("%s: %w", op, err)
	}
	if resp.Status != 200 {
		return ddbAnswer{}, fmt.Errorf("%s: HTTP %d: %s", op, resp.Status, resp.Body)
	}
	var a ddbAnswer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		return ddbAnswer{}, fmt.Errorf("%s answer: %w", op, err)
	}
	return a, nil
}

// singleStep makes one change with one request, reading the images from
// DynamoDB's answer.
func (w *writer) singleStep(ctx context.Context) error {
	j := w.keys[w.rnd.IntN(len(w.keys))]
	table, pk := w.g.key(j)
	keyJSON := attr.Item{"pk": attr.Str(pk)}.AppendJSON(nil)
	c := change{table: table, pk: pk, oldImg: w.model[j]}
	switch w.op(j) {
	case 0:
		it := w.putItem(pk)
		a, err := w.g.call(ctx, "PutItem", fmt.Sprintf(`{"TableName":%q,"Item":%s,"ReturnValues":"ALL_OLD"}`, table, it.AppendJSON(nil)))
		if err != nil {
			return err
		}
		c.oldImg, c.newImg = a.Attributes, it
	case 1:
		a, err := w.g.call(ctx, "UpdateItem", fmt.Sprintf(`{"TableName":%q,"Key":%s,`+updateExpr+`,"ReturnValues":"ALL_NEW"}`, table, keyJSON, w.steps))
		if err != nil {
			return err
		}
		c.newImg = a.Attributes
	default:
		a, err := w.g.call(ctx, "DeleteItem", fmt.Sprintf(`{"TableName":%q,"Key":%s,"ReturnValues":"ALL_OLD"}`, table, keyJSON))
		if err != nil {
			return err
		}
		c.oldImg = a.Attributes
	}
	c.event = eventOf(c)
	w.model[j] = c.newImg
	w.g.emit(w.rnd, []change{c})
	w.quota--
	return nil
}

func eventOf(c change) string {
	switch {
	case c.newImg == nil:
		return "REMOVE"
	case c.oldImg == nil:
		return "INSERT"
	}
	return "MODIFY"
}

// batchStep changes up to Batch distinct items at once: each owned item
// takes part with probability 3/4, in random order.
func (w *writer) batchStep(ctx context.Context) error {
	var cs []change
	var js []int
	writes := map[string][]string{} // table → BatchWriteItem requests
	var updates []string
	for _, i := range w.rnd.Perm(len(w.keys)) {
		if len(cs) == min(w.g.cfg.Batch, w.quota) {
			break
		}
		if w.rnd.IntN(4) == 0 {
			continue
		}
		j := w.keys[i]
		table, pk := w.g.key(j)
		c := change{table: table, pk: pk, oldImg: w.model[j]}
		keyJSON := attr.Item{"pk": attr.Str(pk)}.AppendJSON(nil)
		switch w.op(j) {
		case 0:
			c.newImg = w.putItem(pk)
			writes[table] = append(writes[table], fmt.Sprintf(`{"PutRequest":{"Item":%s}}`, c.newImg.AppendJSON(nil)))
		case 1:
			n, err := w.updated(c.oldImg, pk)
			if err != nil {
				return err
			}
			c.newImg = n
			updates = append(updates, fmt.Sprintf(`{"Update":{"TableName":%q,"Key":%s,`+updateExpr+`}}`, table, keyJSON, w.steps))
		default:
			writes[table] = append(writes[table], fmt.Sprintf(`{"DeleteRequest":{"Key":%s}}`, keyJSON))
		}
		c.event = eventOf(c)
		cs = append(cs, c)
		js = append(js, j)
	}
	if len(cs) == 0 {
		return nil
	}
	var wg sync.WaitGroup
	var errW, errU error
	if len(writes) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); errW = w.g.batchWrite(ctx, writes) }()
	}
	if len(updates) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); errU = w.g.transact(ctx, updates) }()
	}
	wg.Wait()
	if err := errors.Join(errW, errU); err != nil {
		return err
	}
	for i, c := range cs {
		w.model[js[i]] = c.newImg
	}
	w.g.emit(w.rnd, cs)
	w.quota -= len(cs)
	return nil
}

// batchWrite sends one BatchWriteItem of the given requests by table,
// resending unprocessed items until none are left.
func (g *gen) batchWrite(ctx context.Context, reqs map[string][]string) error {
	var parts []string
	for table, rs := range reqs {
		parts = append(parts, fmt.Sprintf("%q:[%s]", table, strings.Join(rs, ",")))
	}
	body := []byte(`{"RequestItems":{` + strings.Join(parts, ",") + `}}`)
	for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		a, err := g.call(ctx, "BatchWriteItem", string(body))
		if err != nil {
			return err
		}
		if len(a.UnprocessedItems) == 0 || string(a.UnprocessedItems) == "{}" {
			return nil
		}
		body = []byte(fmt.Sprintf(`{"RequestItems":%s}`, a.UnprocessedItems))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// transact sends the updates as one TransactWriteItems. A cancelled
// transaction changed nothing, so it is safe to resend; with disjoint
// items per writer it should not happen at all.
func (g *gen) transact(ctx context.Context, updates []string) error {
	body := fmt.Sprintf(`{"TransactItems":[%s]}`, strings.Join(updates, ","))
	var err error
	for attempt := range 5 {
		if _, err = g.call(ctx, "TransactWriteItems", body); err == nil || !strings.Contains(err.Error(), "TransactionCanceledException") {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
	return err
}

// verify scans every table and compares it with the writers' models, item
// by item (sets as sets): the records' images are only DynamoDB's if the
// models are.
func (g *gen) verify(ctx context.Context, ws []*writer) error {
	want := map[string]attr.Item{}
	for _, w := range ws {
		for j, it := range w.model {
			if it != nil {
				table, pk := g.key(j)
				want[table+"/"+pk] = it
			}
		}
	}
	var bad []string
	for _, table := range g.cfg.Tables {
		var esk attr.Item
		for {
			body := fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true}`, table)
			if esk != nil {
				body = fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true,"ExclusiveStartKey":%s}`, table, esk.AppendJSON(nil))
			}
			a, err := g.call(ctx, "Scan", body)
			if err != nil {
				return err
			}
			for _, it := range a.Items {
				k := table + "/" + it["pk"].S
				if m, ok := want[k]; !ok || !attr.Equal(attr.Map(m), attr.Map(it)) {
					bad = append(bad, fmt.Sprintf("%s: DynamoDB Local %s, model %s", k, it.AppendJSON(nil), m.AppendJSON(nil)))
				}
				delete(want, k)
			}
			if esk = a.LastEvaluatedKey; esk == nil {
				break
			}
		}
	}
	for k, m := range want {
		bad = append(bad, fmt.Sprintf("%s: absent from DynamoDB Local, model %s", k, m.AppendJSON(nil)))
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("kdsgen: %d items differ from the writers' models (the records would not be DynamoDB's):\n%s",
			len(bad), strings.Join(bad[:min(len(bad), 5)], "\n"))
	}
	return nil
}
