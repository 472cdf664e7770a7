package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func testQuerySelect(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, indexedTable())
	tn := aws.String(name)
	for i := 1; i <= 6; i++ {
		it := item{"pk": s("q"), "sk": n(fmt.Sprint(i * 10)), "a": n(fmt.Sprint(i)), "other": s("o"),
			"lsk": s(fmt.Sprintf("l%d", 7-i))}
		if i%2 == 0 {
			it["gpk"] = s("even")
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	query := func(in *dynamodb.QueryInput) *dynamodb.QueryOutput {
		t.Helper()
		in.TableName = tn
		if in.KeyConditionExpression == nil {
			in.KeyConditionExpression = aws.String("pk = :p")
			in.ExpressionAttributeValues = item{":p": s("q")}
		}
		out, err := c.Query(ctx, in)
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		return out
	}
	sks := func(items []item) string {
		var out []string
		for _, it := range items {
			if v, ok := it["sk"].(*types.AttributeValueMemberN); ok {
				out = append(out, v.Value)
			}
		}
		return strings.Join(out, ",")
	}

	if got := sks(query(&dynamodb.QueryInput{}).Items); got != "10,20,30,40,50,60" {
		t.Errorf("forward order: %s", got)
	}
	if got := sks(query(&dynamodb.QueryInput{ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2)}).Items); got != "60,50" {
		t.Errorf("backward with Limit 2: %s", got)
	}
	out := query(&dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: item{":p": s("q"), ":a": n("20"), ":b": n("40"), ":x": n("3")},
		FilterExpression:          aws.String("a <> :x"), Limit: aws.Int32(2)})
	// Limit counts items read before the filter: 20 and 30 are read and
	// the filter (a <> 3) drops 30.
	if got := sks(out.Items); got != "20" || out.Count != 1 || out.ScannedCount != 2 || out.LastEvaluatedKey == nil {
		t.Errorf("filter+limit: items %s count %d scanned %d lek %v", got, out.Count, out.ScannedCount, out.LastEvaluatedKey != nil)
	}
	if out.LastEvaluatedKey != nil {
		wantItem(t, "LastEvaluatedKey", out.LastEvaluatedKey, item{"pk": s("q"), "sk": n("30")})
	}

	cnt := query(&dynamodb.QueryInput{Select: types.SelectCount})
	if cnt.Count != 6 || cnt.Items != nil {
		t.Errorf("Select COUNT: count %d items %v", cnt.Count, cnt.Items)
	}
	spec := query(&dynamodb.QueryInput{Select: types.SelectSpecificAttributes, ProjectionExpression: aws.String("sk, a"), Limit: aws.Int32(1)})
	wantItem(t, "SPECIFIC_ATTRIBUTES", spec.Items[0], item{"sk": n("10"), "a": n("1")})
	all := query(&dynamodb.QueryInput{Select: types.SelectAllAttributes, Limit: aws.Int32(1)})
	// sk=10 is odd, so it has no gpk: pk, sk, a, other, lsk.
	if len(all.Items) != 1 || len(all.Items[0]) != 5 {
		t.Errorf("ALL_ATTRIBUTES: %v", all.Items)
	}

	// LSI: sorted by lsk; ALL_PROJECTED_ATTRIBUTES gives keys plus "a".
	lsi := query(&dynamodb.QueryInput{IndexName: aws.String("lsi"), Select: types.SelectAllProjectedAttributes, Limit: aws.Int32(1)})
	wantItem(t, "LSI first item", lsi.Items[0], item{"pk": s("q"), "sk": n("60"), "lsk": s("l1"), "a": n("6")})
	// GSI (KEYS_ONLY, sparse): only the three even items.
	gsi := query(&dynamodb.QueryInput{IndexName: aws.String("gsi"), KeyConditionExpression: aws.String("gpk = :g"),
		ExpressionAttributeValues: item{":g": s("even")}})
	if gsi.Count != 3 || len(gsi.Items[0]) != 3 {
		t.Errorf("GSI: count %d first %v", gsi.Count, gsi.Items)
	}
	_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: tn, IndexName: aws.String("gsi"), KeyConditionExpression: aws.String("gpk = :g"),
		ExpressionAttributeValues: item{":g": s("even")}, ConsistentRead: aws.Bool(true)})
	wantAPIError(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: tn, IndexName: aws.String("gsi"), KeyConditionExpression: aws.String("gpk = :g"),
		ExpressionAttributeValues: item{":g": s("even")}, Select: types.SelectAllAttributes})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: tn, Select: types.SelectSpecificAttributes,
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": s("q")}})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: tn, KeyConditionExpression: aws.String("sk = :p"),
		ExpressionAttributeValues: item{":p": n("1")}})
	wantAPIError(t, err, "ValidationException", "Query condition missed key schema element")

	// Scan: Select COUNT and a filter.
	sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: tn, Select: types.SelectCount, FilterExpression: aws.String("attribute_exists(gpk)")})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Count != 3 || sc.ScannedCount != 6 {
		t.Errorf("Scan COUNT with filter: count %d scanned %d", sc.Count, sc.ScannedCount)
	}
	// Parallel scan: segments partition the table.
	total := 0
	for seg := int32(0); seg < 3; seg++ {
		p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: tn, Segment: aws.Int32(seg), TotalSegments: aws.Int32(3)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			total += len(page.Items)
		}
	}
	if total != 6 {
		t.Errorf("parallel scan saw %d items, want 6", total)
	}
}

// testMegabytePages checks DynamoDB's 1 MB page limit: ~100 KB items make a
// Query or Scan page stop well before Limit, with a LastEvaluatedKey.
func testMegabytePages(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, rangeTable())
	tn := aws.String(name)
	const items = 25
	blob := strings.Repeat("x", 100*1024)
	for i := 0; i < items; i++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: item{"pk": s("big"), "sk": n(fmt.Sprint(i)), "d": s(blob)}}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, pages []int) {
		t.Helper()
		sum := 0
		for i, p := range pages {
			sum += p
			// 100 KB items: a 1 MB page holds about ten, never all 25.
			if p < 8 || p > 11 {
				if i != len(pages)-1 {
					t.Errorf("%s page %d has %d items; want a 1 MB page (8..11 items)", what, i, p)
				}
			}
		}
		if sum != items || len(pages) < 3 {
			t.Errorf("%s pages %v: want %d items over at least 3 pages", what, pages, items)
		}
	}
	var pages []int
	qp := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: tn, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: item{":p": s("big")}, Limit: aws.Int32(100)})
	for qp.HasMorePages() {
		page, err := qp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(page.Items))
	}
	check("Query", pages)
	t.Logf("Query pages: %v", pages)

	// COUNT pages are cut by the data read too, not by what is returned.
	pages = nil
	qp = dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: tn, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: item{":p": s("big")}, Select: types.SelectCount})
	for qp.HasMorePages() {
		page, err := qp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, int(page.Count))
	}
	check("Query COUNT", pages)

	pages = nil
	sp := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: tn})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(page.Items))
	}
	check("Scan", pages)
}
