package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Shape of the data and of the traffic.
const (
	customers = 12
	skus      = 30
	// GhostSKU exists only in the adapter's store (legacy-writer put it
	// there): every read of it is missing-on-shadow.
	GhostSKU = "sku-ghost"
	// DriftSKU is in DynamoDB Local, but legacy-writer keeps changing its
	// price through the adapter: every read of it is a mismatch.
	DriftSKU = "sku-drift"
	// Every lagEvery-th operation writes an order to DynamoDB Local and
	// reads it through the adapter at once, before replication can have
	// carried it over: the audit's re-read then finds both sides equal and
	// classes the pair as lag.
	lagEvery = 40
	// Operations driftEvery/2, then every driftEvery-th after it, repeat
	// legacy-writer's direct write (replication of DynamoDB's copy may have
	// overwritten the previous one) and read it. The offset keeps them off
	// the lag probes' turns (50+100k is never a multiple of 40).
	driftEvery = 100
)

// gen is one demo run's state; only loop's goroutine uses it.
type gen struct {
	cfg                                    Config
	rng                                    *rand.Rand
	source                                 *dynamodb.Client // DynamoDB Local, as orders-backend
	admin, check, catalog, reports, legacy *dynamodb.Client // the adapter, per service
	run                                    string           // order id prefix of this run
	orders                                 map[string][]string
	seq                                    int
	stats                                  *Stats
}

var statuses = []string{"placed", "paid", "packed", "shipped", "delivered"}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

func customerID(i int) string { return fmt.Sprintf("c-%03d", i) }
func skuID(i int) string      { return fmt.Sprintf("sku-%04d", i) }

func (g *gen) setup(ctx context.Context) error {
	if err := createTables(ctx, g.source, true); err != nil {
		return fmt.Errorf("demo: tables in DynamoDB Local: %w", err)
	}
	if err := createTables(ctx, g.admin, false); err != nil {
		return fmt.Errorf("demo: tables in the adapter: %w", err)
	}
	var puts []types.WriteRequest
	for i := range skus {
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: g.catalogItem(skuID(i))}})
	}
	puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: g.catalogItem(DriftSKU)}})
	if err := g.batchWrite(ctx, CatalogTable, puts); err != nil {
		return err
	}
	puts = puts[:0]
	for c := range customers {
		for range 3 {
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: g.newOrder(customerID(c))}})
		}
	}
	if err := g.batchWrite(ctx, OrdersTable, puts); err != nil {
		return err
	}
	// The injected divergences: an item only the adapter has, and one the
	// adapter holds differently from DynamoDB.
	ghost := g.catalogItem(GhostSKU)
	if _, err := g.legacy.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(CatalogTable), Item: ghost}); err != nil {
		return fmt.Errorf("demo: put %s through the adapter: %w", GhostSKU, err)
	}
	atomic.AddInt64(&g.stats.AdapterWrites, 1)
	g.drift(ctx)
	return nil
}

// batchWrite writes puts to DynamoDB Local in batches of 25, resending
// unprocessed items.
func (g *gen) batchWrite(ctx context.Context, table string, puts []types.WriteRequest) error {
	for len(puts) > 0 {
		n := min(len(puts), 25)
		out, err := g.source.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: puts[:n]}})
		if err != nil {
			return fmt.Errorf("demo: seed %s: %w", table, err)
		}
		left := out.UnprocessedItems[table]
		atomic.AddInt64(&g.stats.SourceWrites, int64(n-len(left)))
		puts = append(left, puts[n:]...)
	}
	return nil
}

func (g *gen) catalogItem(sku string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"sku":   str(sku),
		"name":  str("Widget " + sku),
		"price": num(100 + g.rng.IntN(9900)),
		"stock": num(g.rng.IntN(500)),
		"tags":  &types.AttributeValueMemberSS{Value: []string{"demo", statuses[g.rng.IntN(len(statuses))]}},
	}
}

// newOrder makes an order for customer and remembers its key for reads.
func (g *gen) newOrder(customer string) map[string]types.AttributeValue {
	g.seq++
	id := fmt.Sprintf("%s-%06d", g.run, g.seq)
	g.orders[customer] = append(g.orders[customer], id)
	lines := make([]types.AttributeValue, 1+g.rng.IntN(3))
	for i := range lines {
		lines[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"sku": str(skuID(g.rng.IntN(skus))), "qty": num(1 + g.rng.IntN(4))}}
	}
	return map[string]types.AttributeValue{
		"customer":   str(customer),
		"order_id":   str(id),
		"status":     str(statuses[0]),
		"total":      &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%02d", 5+g.rng.IntN(500), g.rng.IntN(100))},
		"lines":      &types.AttributeValueMemberL{Value: lines},
		"created_at": str(time.Now().UTC().Format(time.RFC3339Nano)),
	}
}

// pickOrder returns a known order's key, or ok=false when there is none.
func (g *gen) pickOrder() (customer, id string, ok bool) {
	customer = customerID(g.rng.IntN(customers))
	ids := g.orders[customer]
	if len(ids) == 0 {
		return customer, "", false
	}
	// Recent orders are read most, as in a shop.
	i := len(ids) - 1 - min(len(ids)-1, int(g.rng.ExpFloat64()*2))
	return customer, ids[i], true
}

func orderKey(customer, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"customer": str(customer), "order_id": str(id)}
}

func skuKey(sku string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"sku": str(sku)}
}

// pickSKU is mostly an ordinary sku, sometimes one of the divergent ones.
func (g *gen) pickSKU() string {
	switch r := g.rng.IntN(20); {
	case r == 0:
		return GhostSKU
	case r == 1:
		return DriftSKU
	default:
		return skuID(g.rng.IntN(skus))
	}
}

// op is one kind of operation with its share of the traffic.
type op struct {
	weight int
	do     func(g *gen, ctx context.Context) error
	write  bool // to DynamoDB Local (else a read through the adapter)
}

var ops = []op{
	{15, (*gen).putOrder, true},
	{8, (*gen).updateOrder, true},
	{4, (*gen).deleteOrder, true},
	{5, (*gen).updatePrice, true},
	{22, (*gen).getOrder, false},
	{14, (*gen).queryOrders, false},
	{14, (*gen).getSKU, false},
	{10, (*gen).batchGetSKUs, false},
	{8, (*gen).scan, false},
}

var totalWeight = func() int {
	n := 0
	for _, o := range ops {
		n += o.weight
	}
	return n
}()

// step runs the n-th operation.
func (g *gen) step(ctx context.Context, n int) {
	switch {
	case n%lagEvery == 0:
		g.lagProbe(ctx)
		return
	case n%driftEvery == driftEvery/2:
		g.drift(ctx)
		return
	}
	r := g.rng.IntN(totalWeight)
	for _, o := range ops {
		if r -= o.weight; r < 0 {
			err := o.do(g, ctx)
			counter := &g.stats.AdapterReads
			if o.write {
				counter = &g.stats.SourceWrites
			}
			g.count(ctx, counter, err)
			return
		}
	}
}

// count adds one to counter, or to the errors when err is set (a run cut
// short by ctx is not an error of the operation).
func (g *gen) count(ctx context.Context, counter *int64, err error) {
	switch {
	case err == nil:
		atomic.AddInt64(counter, 1)
	case ctx.Err() == nil:
		atomic.AddInt64(&g.stats.Errors, 1)
		g.cfg.Logger.Warn("demo: operation failed", "err", err)
	}
}
