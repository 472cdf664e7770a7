package differential

import "testing"

func TestFollowsAWS(t *testing.T) {
	local := Response{400, []byte(`{"__type":"com.amazon.coral.validate#ValidationException","Message":"The document path provided in the update expression is invalid for update"}`)}
	aws := Response{400, []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError]","CancellationReasons":[{"Code":"None"},{"Code":"ValidationError","Message":"The document path provided in the update expression is invalid for update"}]}`)}
	otherMsg := Response{400, []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":[{"Code":"ValidationError","Message":"something else"}]}`)}
	if !followsAWS("TransactWriteItems", nil, local, aws) {
		t.Error("documented AWS cancellation not accepted")
	}
	if followsAWS("TransactWriteItems", nil, local, otherMsg) {
		t.Error("cancellation with another message accepted")
	}
	if followsAWS("UpdateItem", nil, local, aws) {
		t.Error("rule applied outside TransactWriteItems")
	}
	if followsAWS("TransactWriteItems", nil, aws, local) {
		t.Error("rule applied the wrong way round")
	}
}

func TestFollowsAWSUpdatedPaths(t *testing.T) {
	req := []byte(`{"ReturnValues":"UPDATED_OLD"}`)
	local := Response{200, []byte(`{"Attributes":{"m":{"M":{"a":{"L":[{"N":"1"},{"N":"2"},{"N":"3"}]},"b":{"S":"x"}}}}}`)}
	for _, c := range []struct {
		name, body string
		want       bool
	}{
		{"projected list elements", `{"Attributes":{"m":{"M":{"a":{"L":[{"N":"1"},{"N":"3"}]}}}}}`, true},
		{"projected map key", `{"Attributes":{"m":{"M":{"b":{"S":"x"}}}}}`, true},
		{"changed value", `{"Attributes":{"m":{"M":{"b":{"S":"y"}}}}}`, false},
		{"list out of order", `{"Attributes":{"m":{"M":{"a":{"L":[{"N":"3"},{"N":"1"}]}}}}}`, false},
		{"missing attribute", `{}`, false},
		{"extra attribute", `{"Attributes":{"m":{"M":{"b":{"S":"x"}}},"z":{"S":"q"}}}`, false},
	} {
		if got := followsAWS("UpdateItem", req, local, Response{200, []byte(c.body)}); got != c.want {
			t.Errorf("%s: followsAWS = %v, want %v", c.name, got, c.want)
		}
	}
	if followsAWS("UpdateItem", []byte(`{"ReturnValues":"ALL_NEW"}`), local, Response{200, []byte(`{"Attributes":{"m":{"M":{"b":{"S":"x"}}}}}`)}) {
		t.Error("rule applied to ALL_NEW")
	}
}

func TestFollowsAWSOverlapMessage(t *testing.T) {
	msg := func(p1, p2 string) Response {
		return Response{400, []byte(`{"__type":"com.amazon.coral.validate#ValidationException","message":"` + overlapPrefix + `[` + p1 + `], path two: [` + p2 + `]"}`)}
	}
	if !followsAWS("BatchGetItem", nil, msg("m", "n"), msg("m", "m, y")) {
		t.Error("correct overlap pair not accepted against Local's wrong one")
	}
	if followsAWS("BatchGetItem", nil, msg("m", "m, y"), msg("m", "n")) {
		t.Error("wrong pair accepted")
	}
	if followsAWS("BatchGetItem", nil, msg("m", "m, y"), msg("a", "a, b")) {
		t.Error("different correct pair accepted")
	}
}

func TestFollowsAWSNumbersRespelled(t *testing.T) {
	msg := func(a, b string) Response {
		return Response{400, []byte(`{"__type":"x#ValidationException","message":"bounds: AttributeValue: {N:` + a + `}, upper: AttributeValue: {N:` + b + `}"}`)}
	}
	if !followsAWS("Query", nil, msg("1e2", "0"), msg("100", "0")) {
		t.Error("respelled number not accepted")
	}
	if followsAWS("Query", nil, msg("1e2", "0"), msg("101", "0")) {
		t.Error("different number accepted")
	}
	bin := func(a string) Response {
		return Response{400, []byte(`{"__type":"x#ValidationException","message":"bound: AttributeValue: {B:` + a + `}, rest"}`)}
	}
	if !followsAWS("Query", nil, bin("java.nio.HeapByteBuffer[pos=0 lim=1 cap=1]"), bin("AQ==")) {
		t.Error("binary rendering not accepted")
	}
	if followsAWS("Query", nil, bin("AQ=="), bin("AA==")) {
		t.Error("different binary accepted when the oracle rendered it")
	}
}
