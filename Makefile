# dualread build, test and developer targets. `make test` is what CI runs.

GO        ?= go
BIN       := bin/dualread
# The version baked into the binary; GOFLAGS may disable Go's own VCS stamp.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
LDFLAGS   := -X main.version=$(VERSION)
# Whole-repo test budget: the Google Cloud emulator packages are slow to build cold.
TESTFLAGS ?= -timeout 30m
FUZZTIME  ?= 2m
ARGS      ?=

# Debian packages the tests use (boto3 and pytest for the Python suites, the
# AWS CLI for CLI checks) and the commands the stand-ins need.
APT_PKGS  := python3-boto3 python3-pytest awscli
NEED_CMDS := javac:openjdk-17-jdk-headless npm:npm

.PHONY: all build test vet deps standins run serve fuzz lint proto clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dualread

# deps installs only what is missing, so it is free on a prepared machine; on
# one without network it fails loudly rather than running tests without them.
deps:
	@missing=""; \
	for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	for cp in $(NEED_CMDS); do command -v $${cp%%:*} >/dev/null 2>&1 || missing="$$missing $${cp#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update || { echo "deps: apt-get update failed (no network?); install$$missing by hand" >&2; exit 1; }; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing \
	    || { echo "deps: could not install$$missing" >&2; exit 1; }; \
	fi

# The real stand-ins (DynamoDB Local, kinesalite), cached in the git-ignored .cache/.
standins:
	deploy/local/standins.sh install

vet:
	$(GO) vet ./...

# go test runs every fuzz target's seed corpus as an ordinary test. The
# semantic suites (differential against DynamoDB Local, e2e) then run again
# with the adapter on each other backend: gcloud's Bigtable emulator in its
# own process, and the Cloud Spanner emulator.
MATRIX_BACKENDS ?= bigtable spanner
MATRIX_PKGS     ?= ./tests/differential ./tests/e2e ./tests/contention

test: deps standins vet
	$(GO) test $(TESTFLAGS) ./...
	@for b in $(MATRIX_BACKENDS); do \
	  echo "== semantic suites on the $$b backend"; \
	  DUALREAD_TEST_BACKEND=$$b $(GO) test -count=1 $(TESTFLAGS) $(MATRIX_PKGS) || exit 1; \
	done

# The full local stack (dualread local up): DynamoDB Local, kinesalite,
# InfluxDB and the Bigtable emulator, the adapter with shadow reads and the
# audit, kds-bridge and streamproc replicating DynamoDB Local into the store,
# and demo traffic. Ctrl-C stops it all. ARGS go to `local up`, e.g.
# ARGS='--demo=false' or ARGS='--adapter-port 9000' (see bin/dualread local up --help).
run: deps build standins
	$(BIN) local up $(ARGS)

# The adapter alone (embedded backend: in-memory, lost on exit); ARGS go to serve.
serve: build
	$(BIN) serve $(ARGS)

# Runs every fuzz target for FUZZTIME, one after another (go test -fuzz takes
# one target of one package at a time).
fuzz:
	@set -e; \
	pkgs=$$(grep -rl --include='*_test.go' '^func Fuzz' . 2>/dev/null | grep -v '^./\.cache/' | xargs -r -n1 dirname | sort -u); \
	if [ -z "$$pkgs" ]; then echo "fuzz: no fuzz targets"; exit 0; fi; \
	for pkg in $$pkgs; do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	@bad=$$(find . -name '*.go' -not -path './.cache/*' -not -path './bin/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...

# Regenerates proto/auditpb with the pinned generators (protoc from Debian's
# protobuf-compiler); the generated code is committed.
proto:
	proto/gen.sh

clean:
	rm -rf bin
