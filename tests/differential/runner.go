package differential

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/dualread/dualread/internal/testenv"
)

// maxPages bounds pagination so a server that never stops returning
// LastEvaluatedKey fails the run instead of hanging it.
const maxPages = 500

// Runner sends each operation to both sides. A is the oracle.
type Runner struct {
	A, B *testenv.RawClient
}

// Result is the outcome of one operation on both sides.
type Result struct {
	Diffs []Difference
	// A and B are the (first) answers of each side, for reports.
	A, B Response
	// Outcome is the oracle's answer class: "ok" or its error's short name.
	Outcome string
}

// Run executes op on both sides and compares.
func (r *Runner) Run(ctx context.Context, op Op) (Result, error) {
	switch op.Mode {
	case Single:
		body, err := json.Marshal(op.Body)
		if err != nil {
			return Result{}, err
		}
		var a, b Response
		errA, errB := both(
			func() (err error) { a, err = do(ctx, r.A, op.Target, body); return err },
			func() (err error) { b, err = do(ctx, r.B, op.Target, body); return err })
		if errA != nil {
			return Result{}, fmt.Errorf("oracle: %w", errA)
		}
		if errB != nil {
			return Result{}, fmt.Errorf("under test: %w", errB)
		}
		diffs := Compare(a, b)
		if len(diffs) > 0 && followsAWS(op.Target, body, a, b) {
			diffs = nil
		}
		return Result{Diffs: diffs, A: a, B: b, Outcome: outcome(a)}, nil
	default:
		var pa, pb []Response
		errA, errB := both(
			func() (err error) { pa, err = r.pages(ctx, r.A, op); return err },
			func() (err error) { pb, err = r.pages(ctx, r.B, op); return err })
		if errA != nil {
			return Result{}, fmt.Errorf("oracle: %w", errA)
		}
		if errB != nil {
			return Result{}, fmt.Errorf("under test: %w", errB)
		}
		res := Result{A: pa[0], B: pb[0], Outcome: outcome(pa[len(pa)-1])}
		switch op.Mode {
		case QueryPages:
			res.Diffs = comparePages(pa, pb)
		case IndexQueryPages:
			res.Diffs = compareMerged(mergeIndexPages(pa, op.SortAttr), mergeIndexPages(pb, op.SortAttr))
		default:
			res.Diffs = compareMerged(mergeScanPages(pa), mergeScanPages(pb))
		}
		if len(res.Diffs) > 0 && len(pa) == 1 && len(pb) == 1 && followsAWS(op.Target, nil, pa[0], pb[0]) {
			res.Diffs = nil
		}
		return res, nil
	}
}

func do(ctx context.Context, c *testenv.RawClient, target string, body []byte) (Response, error) {
	r, err := c.Do(ctx, target, body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: r.Status, Body: r.Body}, nil
}

func outcome(r Response) string {
	if r.Status == 200 {
		return "ok"
	}
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(r.Body, &e)
	for i := len(e.Type) - 1; i >= 0; i-- {
		if e.Type[i] == '#' {
			return e.Type[i+1:]
		}
	}
	return fmt.Sprintf("status %d", r.Status)
}

// pages runs a Query or Scan to the end, following LastEvaluatedKey, over
// every segment of a parallel Scan. It stops at the first error answer.
func (r *Runner) pages(ctx context.Context, c *testenv.RawClient, op Op) ([]Response, error) {
	segments := max(op.Segments, 1)
	var out []Response
	for seg := 0; seg < segments; seg++ {
		req := make(map[string]any, len(op.Body)+3)
		for k, v := range op.Body {
			req[k] = v
		}
		if op.Segments > 0 {
			req["Segment"], req["TotalSegments"] = seg, op.Segments
		}
		for n := 0; ; n++ {
			if n == maxPages {
				return nil, fmt.Errorf("%s did not finish in %d pages", op.Target, maxPages)
			}
			body, err := json.Marshal(req)
			if err != nil {
				return nil, err
			}
			resp, err := do(ctx, c, op.Target, body)
			if err != nil {
				return nil, err
			}
			out = append(out, resp)
			if resp.Status != 200 {
				return out, nil
			}
			var page struct {
				LastEvaluatedKey json.RawMessage
			}
			if err := json.Unmarshal(resp.Body, &page); err != nil {
				return out, nil // the comparer reports the bad body
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			req["ExclusiveStartKey"] = page.LastEvaluatedKey
		}
	}
	return out, nil
}

// comparePages compares Query pages one by one: page boundaries (Limit, 1 MB)
// and LastEvaluatedKey are deterministic for a base-table Query.
func comparePages(a, b []Response) []Difference {
	var diffs []Difference
	if len(a) != len(b) {
		diffs = append(diffs, Difference{Path: "pages", A: strconv.Itoa(len(a)), B: strconv.Itoa(len(b)), Note: "page count"})
	}
	for i := 0; i < min(len(a), len(b)); i++ {
		for _, d := range Compare(a[i], b[i]) {
			d.Path = fmt.Sprintf("page[%d]%s", i, d.Path)
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// mergeScanPages reduces a Scan's pages to what is specified regardless of
// order: the multiset of items, the total Count and ScannedCount, and the
// error answer if the Scan ended in one.
func mergeScanPages(pages []Response) map[string]any {
	return mergePages(pages, "")
}

// mergeIndexPages is mergeScanPages plus the sequence of index sort key
// values, which must come back in order even though ties may not.
func mergeIndexPages(pages []Response, sortAttr string) map[string]any {
	return mergePages(pages, sortAttr)
}

func mergePages(pages []Response, sortAttr string) map[string]any {
	out := map[string]any{}
	var items, sortKeys []any
	var count, scanned int64
	for i, p := range pages {
		n, err := normalizeBody(p.Body)
		m, ok := n.(map[string]any)
		if p.Status != 200 || err != nil || !ok {
			out["error"] = map[string]any{"page": i, "status": p.Status, "body": n, "raw": rawIfBad(p.Body, err)}
			break
		}
		if l, ok := m["Items"].([]any); ok {
			items = append(items, l...)
			for _, it := range l {
				if im, ok := it.(map[string]any); ok && sortAttr != "" {
					sortKeys = append(sortKeys, im[sortAttr])
				}
			}
		}
		count += jsonInt(m["Count"])
		scanned += jsonInt(m["ScannedCount"])
	}
	SortItems(items)
	out["Items"], out["Count"], out["ScannedCount"] = items, count, scanned
	if sortAttr != "" {
		out["SortKeys"] = sortKeys
	}
	return out
}

func rawIfBad(b []byte, err error) string {
	if err != nil {
		return string(b)
	}
	return ""
}

func jsonInt(v any) int64 {
	if n, ok := v.(json.Number); ok {
		i, _ := n.Int64()
		return i
	}
	return 0
}

func compareMerged(a, b map[string]any) []Difference {
	var diffs []Difference
	compareValues("$", a, b, &diffs)
	return diffs
}

// both runs the two sides' requests at once: they are independent systems,
// and this halves the run's wall time.
func both(a, b func() error) (errA, errB error) {
	done := make(chan struct{})
	go func() { errB = b(); close(done) }()
	errA = a()
	<-done
	return errA, errB
}
