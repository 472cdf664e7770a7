package main

import (
	"context"

	"github.com/dualread/dualread/adapter"
)

// openBackend connects the chosen store and builds the adapter's handler.
// All assembly (store, executor, protocol handler) lives in package adapter
// so the tests build the adapter exactly as the binary does.
func openBackend(ctx context.Context, cfg adapter.Config) (*adapter.Adapter, error) {
	return adapter.Open(ctx, cfg)
}
