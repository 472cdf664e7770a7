#!/usr/bin/env bash
# Backend-overhead benchmark of BENCHMARKS.md: for each backend (Bigtable,
# Spanner) and each of GetItem, PutItem and Query on its own, one
# `bench compare` that starts a fresh emulator, runs the in-process adapter
# on it (--backend), the raw Go client doing the same read/write on the same
# emulator (--compare-raw) and a private DynamoDB Local (the reference), in
# interleaved rounds. A fresh emulator per measurement because the Spanner
# emulator slows down as it runs (STANDINS.md).
#
#   scripts/bench-backends.sh                       the BENCHMARKS.md run
#   BENCH_BACKENDS=spanner BENCH_OPS=GetItem scripts/bench-backends.sh --duration 5s
#
# Any `bench compare` flag given overrides the defaults below. Environment:
# DUALREAD_BIN uses that binary instead of building bin/dualread; BENCH_OUT
# (default .cache/bench/backends, git-ignored) receives one Markdown and one
# JSON report per measurement, and load.txt with the load average around each.
# All traffic stays on 127.0.0.1; every run is bounded by --duration and --max-ops.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${DUALREAD_BIN:-}
if [ -z "$bin" ]; then
  make build >&2
  bin=bin/dualread
fi
if ! "$bin" bench compare --help 2>/dev/null | grep -q -- --compare-raw; then
  echo "bench-backends.sh: $bin has no 'bench compare --compare-raw' (see internal/bench and BENCHMARKS.md)" >&2
  exit 1
fi

out=${BENCH_OUT:-$root/.cache/bench/backends}
mkdir -p "$out"
backends=${BENCH_BACKENDS:-bigtable spanner}
ops=${BENCH_OPS:-GetItem PutItem Query}

for backend in $backends; do
  for op in $ops; do
    name="$backend-$op"
    echo "== $name: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2
    # Flags given later win, so "$@" overrides these defaults.
    "$bin" bench compare \
      --backend "$backend" \
      --compare-raw \
      --compare-dynamodb-local \
      --concurrency 8 \
      --rounds 2 \
      --warmup 2s \
      --duration 10s \
      --mix "$op=1" \
      --item-size 256 \
      --keys 1000 \
      --max-ops 1000000 \
      --json "$out/$name.json" \
      "$@" >"$out/$name.md"
    echo "== $name: load average after:  $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2
    cat "$out/$name.md"
  done
done
