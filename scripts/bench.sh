#!/usr/bin/env bash
# Builds bin/dualread and runs the standard comparison of BENCHMARKS.md:
# the same workload against the bare handler (the client+HTTP ceiling), a
# private DynamoDB Local (the reference, started and stopped by the tool) and
# the in-process adapter on the embedded backend, one after another.
#
#   scripts/bench.sh                          the BENCHMARKS.md run
#   scripts/bench.sh --duration 5s --mix GetItem=1   any `bench compare` flag overrides the defaults
#
# Environment: DUALREAD_BIN uses that binary instead of building bin/dualread;
# BENCH_JSON (default .cache/bench/results.json, git-ignored) receives the JSON report.
# All traffic stays on 127.0.0.1; every run is bounded by --duration and --max-ops.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${DUALREAD_BIN:-}
if [ -z "$bin" ]; then
  make build >&2
  bin=bin/dualread
fi
if ! "$bin" bench compare --help >/dev/null 2>&1; then
  echo "bench.sh: $bin has no 'bench compare' subcommand (see internal/bench and BENCHMARKS.md)" >&2
  exit 1
fi

json=${BENCH_JSON:-$root/.cache/bench/results.json}
mkdir -p "$(dirname "$json")"

# Flags given later win, so "$@" overrides these defaults.
exec "$bin" bench compare \
  --compare-bare \
  --compare-dynamodb-local \
  --concurrency 16 \
  --rounds 3 \
  --warmup 3s \
  --duration 10s \
  --mix GetItem=50,PutItem=30,Query=20 \
  --item-size 256 \
  --keys 1000 \
  --max-ops 2000000 \
  --json "$json" \
  "$@"
