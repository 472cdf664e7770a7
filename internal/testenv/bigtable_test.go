package testenv

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"
)

// TestBigtableEmulator starts the external emulator and uses the official
// client: create a table, write a row, read it back, and read it again from
// a second client, which is what an adapter restart test relies on.
func TestBigtableEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Bigtable emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := LaunchBigtableEmulator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	const project, instance, table, family = "dualread-test", "dualread", "items", "d"

	admin, err := bigtable.NewAdminClient(ctx, project, instance, EmulatorClientOptions(s.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTable(ctx, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if err := admin.CreateColumnFamily(ctx, table, family); err != nil {
		t.Fatalf("CreateColumnFamily: %v", err)
	}

	newClient := func() *bigtable.Client {
		c, err := bigtable.NewClientWithConfig(ctx, project, instance,
			bigtable.ClientConfig{MetricsProvider: bigtable.NoopMetricsProvider{}},
			EmulatorClientOptions(s.Addr)...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1 := newClient()
	m := bigtable.NewMutation()
	m.Set(family, "v", bigtable.Now(), []byte("hello"))
	if err := c1.Open(table).Apply(ctx, "pk#1", m); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	c1.Close()

	c2 := newClient()
	defer c2.Close()
	row, err := c2.Open(table).ReadRow(ctx, "pk#1")
	if err != nil {
		t.Fatalf("ReadRow: %v", err)
	}
	if cells := row[family]; len(cells) != 1 || string(cells[0].Value) != "hello" || cells[0].Column != family+":v" {
		t.Fatalf("row = %+v, want one cell d:v = hello", row)
	}
	if row, err := c2.Open(table).ReadRow(ctx, "pk#2"); err != nil || len(row) != 0 {
		t.Fatalf("missing row: %v %v", row, err)
	}

	t.Run("env var names a running instance", func(t *testing.T) {
		t.Setenv(EnvBigtableEmulatorHost, s.Addr)
		if got := StartBigtableEmulator(t); got != s.Addr {
			t.Fatalf("StartBigtableEmulator = %q, want %q", got, s.Addr)
		}
	})

	assertStopped(t, s)
}
