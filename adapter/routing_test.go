package adapter

import "testing"

func TestRoutingPrecedence(t *testing.T) {
	r, err := newRouting("bigtable", []Route{
		{"orders*", "spanner"},
		{"orders_archive*", "bigtable"},
		{"orders_archive_2020", "spanner"},
		{"*_tx", "spanner"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]string{
		"orders":              "spanner",
		"orders_eu":           "spanner",
		"orders_archive_2019": "bigtable", // the longer glob wins
		"orders_archive_2020": "spanner",  // an exact name beats every glob
		"payments_tx":         "spanner",
		"sessions":            "bigtable", // no route: home
	} {
		if got := r.backendFor(table); got != want {
			t.Errorf("backendFor(%q) = %q, want %q", table, got, want)
		}
	}
	if got := r.backends(); len(got) != 2 || got[0] != "bigtable" || got[1] != "spanner" {
		t.Errorf("backends() = %v", got)
	}
	if _, err := newRouting("bigtable", []Route{{"orders[", "spanner"}}); err == nil {
		t.Error("malformed pattern accepted")
	}
}
