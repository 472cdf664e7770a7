package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/internal/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a DynamoDB-compatible endpoint on this machine",
		Long: "bench drives a bounded mixed workload (see --mix) through the AWS SDK for Go and reports\n" +
			"req/s and latency percentiles per operation. It only targets loopback addresses.",
	}
	cmd.AddCommand(newBenchRunCmd(), newBenchCompareCmd())
	return cmd
}

func newBenchRunCmd() *cobra.Command {
	var f bench.Flags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the workload against one endpoint (default: an in-process adapter)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, log := cmd.Context(), benchLogger(cmd.ErrOrStderr())
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if f.CompareShadow != "" {
				return errors.New("--compare-shadow is a comparison: use bench compare")
			}
			if cfg.Endpoint == "" {
				h, closeAdapter, err := openBenchAdapter(ctx, log)
				if err != nil {
					return err
				}
				defer closeAdapter()
				srv, err := bench.Serve(h)
				if err != nil {
					return err
				}
				defer srv.Close()
				cfg.Endpoint = srv.URL
			}
			res, err := bench.Run(ctx, cfg, log)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), res.Markdown())
			return writeBenchJSON(f.JSON, res.JSON)
		},
	}
	f.Register(cmd.Flags())
	return cmd
}

func newBenchCompareCmd() *cobra.Command {
	var f bench.Flags
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Run the same workload against the bare handler, DynamoDB Local and the adapter in turn",
		Example: "  dualread bench compare --compare-bare --compare-dynamodb-local --duration 20s\n" +
			"  dualread bench compare --compare-dynamodb-local=http://127.0.0.1:18000 --endpoint http://127.0.0.1:8000",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, log := cmd.Context(), benchLogger(cmd.ErrOrStderr())
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			var underTest http.Handler
			// With --backend bigtable|spanner the comparison opens its own
			// adapter on a fresh emulator; only the embedded one is ours.
			if f.Endpoint == "" && (f.Backend == "" || f.Backend == adapter.BackendEmbedded) && f.CompareShadow == "" {
				h, closeAdapter, err := openBenchAdapter(ctx, log)
				if err != nil {
					return err
				}
				defer closeAdapter()
				underTest = h
			}
			targets, stop, err := f.CompareTargets(ctx, underTest, log)
			defer stop()
			if err != nil {
				return err
			}
			cmp, err := bench.Compare(ctx, targets, cfg, log)
			if cmp != nil {
				fmt.Fprint(cmd.OutOrStdout(), cmp.Markdown())
				if jerr := writeBenchJSON(f.JSON, cmp.JSON); jerr != nil && err == nil {
					err = jerr
				}
			}
			return err
		},
	}
	f.Register(cmd.Flags())
	return cmd
}

// openBenchAdapter starts the adapter in this process on the embedded
// backend, the system under test when no --endpoint is given.
func openBenchAdapter(ctx context.Context, log *slog.Logger) (http.Handler, func(), error) {
	// The adapter's own per-request logs would dominate the run: warn only.
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := adapter.Open(ctx, adapter.Config{Backend: adapter.BackendEmbedded, Logger: quiet})
	if err != nil {
		return nil, nil, fmt.Errorf("open in-process adapter: %w", err)
	}
	log.Info("bench: in-process adapter", "backend", adapter.BackendEmbedded)
	return a.Handler, func() { _ = a.Close() }, nil
}

func benchLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func writeBenchJSON(path string, render func() ([]byte, error)) error {
	if path == "" {
		return nil
	}
	b, err := render()
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
