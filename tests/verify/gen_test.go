package verify_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter/attr"
)

// The table: 8 items per partition (pk S, sk N).
func createTable(t *testing.T, ctx context.Context, c *dynamodb.Client, name string) {
	t.Helper()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// spelling chooses how numbers are written: the source gets the plain
// form, the target another spelling of the same value (trailing zeros, an
// exponent), which verify must not count as a difference.
type spelling bool

const (
	plain   spelling = false
	respelt spelling = true
)

// num spells the decimal n (as written in plain form).
func (sp spelling) num(n string) string {
	if !sp {
		return n
	}
	if strings.Contains(n, ".") {
		return n + "00"
	}
	return n + ".0"
}

// sset orders a set's elements: the target gets them reversed (set order
// is unspecified in DynamoDB).
func (sp spelling) sset(v []string) []string {
	v = slices.Clone(v)
	if sp {
		slices.Reverse(v)
	}
	return v
}

// bset orders a binary set's elements like sset.
func (sp spelling) bset(v [][]byte) [][]byte {
	v = slices.Clone(v)
	if sp {
		slices.Reverse(v)
	}
	return v
}

func key(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("p%06d", i/8)},
		"sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i % 8)},
	}
}

// keyJSON is key(i) as verify's report writes it.
func keyJSON(i int) string {
	b, _ := attr.Item{"pk": attr.Str(fmt.Sprintf("p%06d", i/8)), "sk": attr.MustNum(fmt.Sprint(i % 8))}.MarshalJSON()
	return string(b)
}

// item is the i-th item of the generator: every attribute type, a set of
// each kind, a map two deep and a list, kept small (~150 bytes) because
// 100,000 of them go through DynamoDB Local, the adapter and verify many
// times.
func item(i int, sp spelling) map[string]types.AttributeValue {
	it := key(i)
	it["sk"] = &types.AttributeValueMemberN{Value: sp.num(fmt.Sprint(i % 8))}
	it["s"] = &types.AttributeValueMemberS{Value: fmt.Sprint("value ", i)}
	it["n"] = &types.AttributeValueMemberN{Value: sp.num(fmt.Sprintf("%d.%d", i*7, 1+i%9))}
	it["ss"] = &types.AttributeValueMemberSS{Value: sp.sset([]string{"a", fmt.Sprint("b", i%5)})}
	it["ns"] = &types.AttributeValueMemberNS{Value: sp.sset([]string{sp.num("0.5"), sp.num(fmt.Sprint(i + 2))})}
	it["bs"] = &types.AttributeValueMemberBS{Value: sp.bset([][]byte{{byte(i)}, {0xff, 0}})}
	it["m"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"x": &types.AttributeValueMemberN{Value: sp.num(fmt.Sprint(i % 100))},
		"y": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"z": &types.AttributeValueMemberS{Value: fmt.Sprint("deep", i)},
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberBOOL{Value: i%2 == 0}, &types.AttributeValueMemberNULL{Value: true},
				&types.AttributeValueMemberB{Value: []byte{byte(i >> 8), 0}}, &types.AttributeValueMemberN{Value: sp.num(fmt.Sprint(-i))}}},
		}},
	}}
	return it
}

// load writes items [0, n) with BatchWriteItem from writers goroutines,
// resending UnprocessedItems.
func load(t *testing.T, ctx context.Context, c *dynamodb.Client, table string, n, writers int, sp spelling) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := w * 25; lo < n; lo += writers * 25 {
				var reqs []types.WriteRequest
				for i := lo; i < min(lo+25, n); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(i, sp)}})
				}
				in := map[string][]types.WriteRequest{table: reqs}
				for len(in) > 0 {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
					if err != nil {
						errs <- fmt.Errorf("BatchWriteItem into %s: %w", table, err)
						return
					}
					in = out.UnprocessedItems
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// injection is a set of known differences made on the target.
type injection struct {
	missing   []int          // deleted from the target
	extra     []int          // put on the target only (indices ≥ n)
	different map[int]string // index → the one attribute changed
	spelling  []int          // numbers re-spelt only: must not count
}

func newInjection(n int) injection {
	return injection{
		missing: []int{17, n / 2, n - 2},
		extra:   []int{n + 3, n + 11},
		different: map[int]string{
			123:       "s",  // a changed value
			n/3 + 5:   "n",  // N "x" became S "x"
			n/4 + 1:   "ss", // one more set element
			n*3/4 + 7: "m",  // a change deep in a nested map
		},
		spelling: []int{888, n/5 + 3},
	}
}

// apply makes the differences on the target.
func (inj injection) apply(t *testing.T, ctx context.Context, c *dynamodb.Client, table string) {
	t.Helper()
	put := func(it map[string]types.AttributeValue) {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range inj.missing {
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range inj.extra {
		put(item(i, respelt))
	}
	for i, a := range inj.different {
		it := item(i, respelt)
		switch a {
		case "s":
			it["s"] = &types.AttributeValueMemberS{Value: "changed"}
		case "n":
			it["n"] = &types.AttributeValueMemberS{Value: it["n"].(*types.AttributeValueMemberN).Value}
		case "ss":
			ss := it["ss"].(*types.AttributeValueMemberSS)
			ss.Value = append(ss.Value, "added")
		case "m":
			m := it["m"].(*types.AttributeValueMemberM).Value["y"].(*types.AttributeValueMemberM)
			m.Value["z"] = &types.AttributeValueMemberS{Value: "deep changed"}
		}
		put(it)
	}
	for _, i := range inj.spelling {
		it := item(i, plain)
		// Exponent forms of the same values: 7i.(1+i%9) and the set's.
		it["n"] = &types.AttributeValueMemberN{Value: expSpelling(it["n"].(*types.AttributeValueMemberN).Value)}
		it["ns"] = &types.AttributeValueMemberNS{Value: []string{fmt.Sprint(i+2, "0E-1"), "5E-1"}}
		put(it)
	}
}

// expSpelling writes a decimal d.f as d.f0E0 → "df0E-(len(f)+1)" style,
// e.g. 12.5 → 1250E-2: the same number, spelt with an exponent.
func expSpelling(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	return fmt.Sprintf("%s%s0E-%d", whole, frac, len(frac)+1)
}

// expected lists, per kind, the sample keys the report must hold, sorted.
func (inj injection) expected() map[string][]string {
	want := map[string][]string{}
	for _, i := range inj.missing {
		want["missing"] = append(want["missing"], keyJSON(i))
	}
	for _, i := range inj.extra {
		want["extra"] = append(want["extra"], keyJSON(i))
	}
	for i := range inj.different {
		want["different"] = append(want["different"], keyJSON(i))
	}
	for _, v := range want {
		slices.Sort(v)
	}
	return want
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
