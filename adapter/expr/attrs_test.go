package expr

import (
	"reflect"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

func TestConditionAttributes(t *testing.T) {
	p := NewParams(map[string]string{"#m": "m"}, map[string]attr.Value{":v": attr.Str("x"), ":n": attr.MustNum("1")})
	c, err := ParseFilter("size(l[1]) > :n AND (begins_with(#m.k, :v) OR NOT attribute_exists(z)) AND a IN (:v, b)", p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Attributes(), []string{"a", "b", "l", "m", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Attributes() = %v, want %v", got, want)
	}
}
