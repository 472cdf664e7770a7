#!/usr/bin/env bash
# Regenerates proto/auditpb from proto/audit.proto with pinned code
# generators installed into the git-ignored .cache/tools. protoc itself comes
# from Debian (protobuf-compiler 3.21.12 on bookworm); the generated Go does
# not depend on protoc's version beyond the header comment, which is checked
# so a different protoc shows up as a diff rather than silently.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.7       # matches google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.5.1   # needs grpc >= 1.64 at run time; go.mod has 1.74
WANT_PROTOC="libprotoc 3.21.12"

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.cache/tools"
mkdir -p "$tools"

if ! command -v protoc >/dev/null; then
  echo "gen.sh: protoc missing: apt-get install -y protobuf-compiler" >&2
  exit 1
fi
if [ "$(protoc --version)" != "$WANT_PROTOC" ]; then
  echo "gen.sh: warning: $(protoc --version), generated with $WANT_PROTOC" >&2
fi

have() { [ -x "$tools/$1" ] && [ "$(cat "$tools/$1.version" 2>/dev/null)" = "$2" ]; }
if ! have protoc-gen-go "$PROTOC_GEN_GO_VERSION"; then
  GOBIN="$tools" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  echo "$PROTOC_GEN_GO_VERSION" >"$tools/protoc-gen-go.version"
fi
if ! have protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"; then
  GOBIN="$tools" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  echo "$PROTOC_GEN_GO_GRPC_VERSION" >"$tools/protoc-gen-go-grpc.version"
fi

cd "$root/proto"
PATH="$tools:$PATH" protoc \
  --go_out=auditpb --go_opt=paths=source_relative \
  --go-grpc_out=auditpb --go-grpc_opt=paths=source_relative \
  audit.proto
