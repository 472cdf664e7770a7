package drill

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/dualread/dualread/adapter/admin"
	"github.com/dualread/dualread/adapter/modes"
)

// TestSwitchEveryReplica runs the switch and rollback against two real
// admin APIs (one per adapter replica): both are switched, each gets its
// own previous override back, and replicas that disagree stop the switch.
func TestSwitchEveryReplica(t *testing.T) {
	ctx := context.Background()
	base := modes.Mode{Serve: "store", Shadow: "dynamodb", Sample: 1, Writes: "dynamodb"}
	var sets []*modes.Set
	var urls []string
	for range 2 {
		set, err := modes.NewSet([]modes.Rule{{Pattern: "default", Mode: base}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(admin.Handler(set, nil))
		t.Cleanup(srv.Close)
		sets, urls = append(sets, set), append(urls, srv.URL)
	}
	// Replica 1 carries an override the drill must restore, not delete.
	withOverride := base
	withOverride.Sample = 0.5
	for _, s := range sets {
		if err := s.Override("orders", withOverride); err != nil {
			t.Fatal(err)
		}
	}
	d := &run{cfg: Config{AdminURLs: urls, Switch: DefaultSwitch}, rep: &Report{}}
	d.cfg.HTTP, d.admins = &http.Client{}, urls

	prev, err := d.switchMode(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sets {
		if m := s.For("orders").Mode; m.Shadow != "off" || m.Sample != 0.5 {
			t.Fatalf("replica %d after the switch: %+v", i, m)
		}
	}
	if _, err := d.rollback(ctx, "orders", prev); err != nil {
		t.Fatal(err)
	}
	for i, s := range sets {
		if _, ov := s.Snapshot(); !reflect.DeepEqual(ov["orders"], withOverride) {
			t.Fatalf("replica %d override after rollback: %+v, want %+v", i, ov["orders"], withOverride)
		}
	}

	// Replicas that disagree: nothing is switched.
	if err := sets[1].Override("orders", base); err != nil {
		t.Fatal(err)
	}
	if _, err := d.switchMode(ctx, "orders"); err == nil {
		t.Fatal("switch went ahead although the replicas disagree")
	}
	if m := sets[0].For("orders").Mode; m.Shadow != "dynamodb" {
		t.Fatalf("replica 0 switched despite the disagreement: %+v", m)
	}
}

// TestSwitchUnreadableModes: an admin API that cannot show the modes fails
// the switch step cleanly, changes nothing and leaves nothing to roll back.
func TestSwitchUnreadableModes(t *testing.T) {
	srv := httptest.NewServer(admin.Handler(nil, nil)) // no modes configured: GET /modes is 404
	t.Cleanup(srv.Close)
	d := &run{cfg: Config{AdminURLs: []string{srv.URL}, Switch: DefaultSwitch, HTTP: &http.Client{}}, rep: &Report{}, admins: []string{srv.URL}}
	prev, err := d.switchMode(context.Background(), "orders")
	if err == nil || prev != nil {
		t.Fatalf("switch = %v, %v; want an error and no state", prev, err)
	}
}
