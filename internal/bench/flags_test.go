package bench

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func parseFlags(t *testing.T, args ...string) *Flags {
	t.Helper()
	var f Flags
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &f
}

func TestFlagsConfig(t *testing.T) {
	f := parseFlags(t, "--endpoint=http://127.0.0.1:9", "--concurrency=3", "--duration=2s",
		"--mix", "Scan=1,GetItem=4", "--item-size=10", "--keys=20", "--max-ops=7", "--rounds=2", "--compare-dynamodb-local")
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "http://127.0.0.1:9" || cfg.Concurrency != 3 || cfg.Duration != 2*time.Second ||
		cfg.ItemSize != 10 || cfg.Keys != 20 || cfg.MaxOps != 7 || cfg.Rounds != 2 || cfg.Warmup != 3*time.Second ||
		!maps.Equal(cfg.Mix, map[string]int{OpScan: 1, OpGetItem: 4}) {
		t.Fatalf("Config() = %+v", cfg)
	}
	if f.CompareDynamoDBLocal != DynamoDBLocalAuto {
		t.Fatalf("--compare-dynamodb-local alone = %q, want %q", f.CompareDynamoDBLocal, DynamoDBLocalAuto)
	}
	if _, err := parseFlags(t, "--mix=Nope=1").Config(); err == nil {
		t.Fatal("bad --mix accepted")
	}
}

func TestFlagsCompareTargets(t *testing.T) {
	under := http.NotFoundHandler()
	tests := []struct {
		name    string
		args    []string
		under   http.Handler
		want    string // target names joined by ","
		wantErr string
	}{
		{"all", []string{"--compare-bare", "--compare-dynamodb-local=http://127.0.0.1:18000"}, under, "bare,dynamodb-local*,adapter", ""},
		{"endpoint wins over in-process", []string{"--endpoint=http://127.0.0.1:9"}, under, "endpoint", ""},
		{"bare only", []string{"--compare-bare"}, nil, "bare", ""},
		{"nothing", nil, nil, "", "no target"},
		{"remote reference", []string{"--compare-dynamodb-local=http://192.168.1.1:8000"}, under, "", "loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := parseFlags(t, tc.args...)
			targets, stop, err := f.CompareTargets(context.Background(), tc.under, quietLog())
			defer stop()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tg := range targets {
				n := tg.Name
				if tg.Reference {
					n += "*"
				}
				names = append(names, n)
			}
			if got := strings.Join(names, ","); got != tc.want {
				t.Fatalf("targets %s, want %s", got, tc.want)
			}
		})
	}
}

// --backend and --compare-raw combinations that cannot work are refused
// before anything is started, and a plain Run refuses a backend it would
// otherwise silently replace by the embedded one.
func TestFlagsBackendRefusals(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"raw without emulator backend", []string{"--compare-raw"}, "--compare-raw needs"},
		{"raw on embedded", []string{"--compare-raw", "--backend=embedded"}, "--compare-raw needs"},
		{"backend and endpoint", []string{"--backend=spanner", "--endpoint=http://127.0.0.1:9"}, "exclude each other"},
		{"unknown backend", []string{"--backend=dynamo"}, `--backend "dynamo"`},
		{"shadow and endpoint", []string{"--compare-shadow", "--endpoint=http://127.0.0.1:9"}, "--compare-shadow runs its own"},
		{"shadow on emulator", []string{"--compare-shadow=http://127.0.0.1:9", "--backend=bigtable"}, "--compare-shadow runs its own"},
		{"shadow not loopback", []string{"--compare-shadow=http://example.com:8000"}, "loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := parseFlags(t, tc.args...)
			targets, stop, err := f.CompareTargets(context.Background(), http.NotFoundHandler(), quietLog())
			stop()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("targets %v, err %v; want error containing %q", targets, err, tc.wantErr)
			}
		})
	}
	cfg, err := parseFlags(t, "--backend=spanner", "--endpoint=http://127.0.0.1:9").Config()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, quietLog()); err == nil || !strings.Contains(err.Error(), "bench compare") {
		t.Fatalf("Run with --backend spanner: %v, want a refusal", err)
	}
}
