package differential

import (
	"encoding/json"
	"strings"
)

// followsAWS recognises the documented places where DynamoDB Local (the
// oracle) departs from AWS DynamoDB and the system under test answers as AWS
// documents. Each rule is narrow: it accepts only the exact AWS-shaped answer
// for the exact Local-shaped one.
//
// UpdateItem with ReturnValues UPDATED_OLD or UPDATED_NEW: AWS returns only
// the updated paths, projected ({a:{c:[7]}} for SET a.c[1]), while DynamoDB
// Local returns each touched top-level attribute whole. The rule accepts an
// answer with the same top-level attributes whose values are each a part of
// the oracle's (maps: a subset of keys; lists: a subsequence of elements).
// AWS's behaviour is pinned by ScyllaDB Alternator's tests, which run against
// AWS (test_returnvalues.py, test_update_item_returnvalues_nested).
//
// Messages that quote a number ("{N:1e2}"): DynamoDB Local quotes the
// request's spelling, the system under test the canonical one ("{N:100}",
// as every number AWS returns); the rule accepts messages equal but for that.
// Likewise Local quotes a binary value as a Java object
// ("{B:java.nio.HeapByteBuffer[pos=0 lim=1 cap=1]}"), which no client can
// use; any rendering of a binary value is accepted in its place.
//
// Reads with overlapping ProjectionExpression paths: DynamoDB Local sometimes
// names the wrong pair of paths (e.g. "[m]" and "[n]", which do not overlap);
// the rule accepts the same error naming a pair that does overlap.
//
// TransactWriteItems: AWS cancels a transaction whose changes cause a
// validation error (item too large, a bad update path, ...) with
// TransactionCanceledException and a ValidationError cancellation reason
// carrying the message (see TransactionCanceledException in the DynamoDB API
// reference). DynamoDB Local answers a bare ValidationException with that
// message instead.
func followsAWS(target string, request []byte, oracle, other Response) bool {
	switch target {
	case "TransactWriteItems":
		return cancelsOnValidation(oracle, other)
	case "UpdateItem":
		return projectsUpdatedPaths(request, oracle, other)
	case "BatchGetItem", "GetItem", "Query", "Scan", "TransactGetItems":
		return overlapMessageFixed(oracle, other) || numbersRespelled(oracle, other)
	}
	return false
}

// cancelsOnValidation: see followsAWS.
func cancelsOnValidation(oracle, other Response) bool {
	if oracle.Status != 400 || other.Status != 400 {
		return false
	}
	var o struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
		Msg     string `json:"message"`
	}
	var t struct {
		Type    string `json:"__type"`
		Reasons []struct {
			Code    string `json:"Code"`
			Message string `json:"Message"`
		} `json:"CancellationReasons"`
	}
	if json.Unmarshal(oracle.Body, &o) != nil || json.Unmarshal(other.Body, &t) != nil {
		return false
	}
	msg := o.Message + o.Msg
	if !strings.HasSuffix(o.Type, "#ValidationException") || !strings.HasSuffix(t.Type, "#TransactionCanceledException") {
		return false
	}
	for _, r := range t.Reasons {
		if r.Code == "ValidationError" && r.Message == msg {
			return true
		}
	}
	return false
}

// projectsUpdatedPaths: see followsAWS.
func projectsUpdatedPaths(request []byte, oracle, other Response) bool {
	var req struct{ ReturnValues string }
	if json.Unmarshal(request, &req) != nil || oracle.Status != 200 || other.Status != 200 ||
		req.ReturnValues != "UPDATED_OLD" && req.ReturnValues != "UPDATED_NEW" {
		return false
	}
	var o, t struct{ Attributes map[string]any }
	if json.Unmarshal(oracle.Body, &o) != nil || json.Unmarshal(other.Body, &t) != nil {
		return false
	}
	if len(o.Attributes) != len(t.Attributes) {
		return false
	}
	for k, ov := range o.Attributes {
		tv, ok := t.Attributes[k]
		if !ok || !partOf(tv, ov) {
			return false
		}
	}
	return true
}

// partOf reports whether typed value a is b with some map keys or list
// elements left out (and nothing else changed).
func partOf(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok || len(am) != 1 || len(bm) != 1 {
		return sameValue(b, a)
	}
	switch {
	case am["M"] != nil && bm["M"] != nil:
		ai, _ := am["M"].(map[string]any)
		bi, _ := bm["M"].(map[string]any)
		for k, v := range ai {
			w, ok := bi[k]
			if !ok || !partOf(v, w) {
				return false
			}
		}
		return true
	case am["L"] != nil && bm["L"] != nil:
		al, _ := am["L"].([]any)
		bl, _ := bm["L"].([]any)
		j := 0
		for _, v := range al {
			for j < len(bl) && !partOf(v, bl[j]) {
				j++
			}
			if j == len(bl) {
				return false
			}
			j++
		}
		return true
	}
	return sameValue(b, a)
}

// sameValue compares the oracle's typed value with another's by the
// harness's own rules (sets unordered, numbers by value, the oracle's
// non-canonical spelling against AWS's canonical one accepted).
func sameValue(oracle, other any) bool {
	a, b := oracle, other
	ja, errA := json.Marshal(map[string]any{"Attributes": map[string]any{"v": a}})
	jb, errB := json.Marshal(map[string]any{"Attributes": map[string]any{"v": b}})
	return errA == nil && errB == nil && len(Compare(Response{200, ja}, Response{200, jb})) == 0
}

const overlapPrefix = "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "

// overlapMessageFixed: see followsAWS.
func overlapMessageFixed(oracle, other Response) bool {
	om, tm := messageOf(oracle), messageOf(other)
	if oracle.Status != 400 || other.Status != 400 || !strings.HasPrefix(om, overlapPrefix) || !strings.HasPrefix(tm, overlapPrefix) {
		return false
	}
	o1, o2, ok1 := overlapPaths(om)
	t1, t2, ok2 := overlapPaths(tm)
	overlaps := func(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }
	return ok1 && ok2 && !overlaps(o1, o2) && overlaps(t1, t2)
}

// overlapPaths extracts "a, b" and "a" from "...path one: [a, b], path two: [a]",
// each with a trailing "]" kept so [a] is a prefix of [a, b] only as a path.
func overlapPaths(msg string) (string, string, bool) {
	rest := strings.TrimPrefix(msg, overlapPrefix)
	one, two, ok := strings.Cut(rest, ", path two: ")
	if !ok {
		return "", "", false
	}
	trim := func(s string) string { return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]") }
	return trim(one), trim(two), true
}

func messageOf(r Response) string {
	var e struct {
		Message string `json:"Message"`
		Msg     string `json:"message"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Message + e.Msg
}

// numbersRespelled: see followsAWS.
func numbersRespelled(oracle, other Response) bool {
	om, tm := messageOf(oracle), messageOf(other)
	if oracle.Status != 400 || other.Status != 400 || om == tm || !strings.Contains(om, "{N:") && !strings.Contains(om, "{B:java.nio.") {
		return false
	}
	return canonicalQuoted(om) == canonicalQuoted(tm)
}

// canonicalQuoted rewrites every "{N:x}" in msg with x canonicalised, and
// every "{B:x}" as "{B:?}".
func canonicalQuoted(msg string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, "{B:")
		if n := strings.Index(msg, "{N:"); n >= 0 && (i < 0 || n < i) {
			i = n
		}
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		j := strings.IndexByte(msg[i:], '}')
		if j < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+3])
		if msg[i+1] == 'N' {
			b.WriteString(canonicalNumber(msg[i+3 : i+j]))
		} else {
			b.WriteString("?")
		}
		msg = msg[i+j:]
	}
}
