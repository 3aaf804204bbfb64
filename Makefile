# fluent-bit-drain — build, test, run. `make` alone builds the plugin.
GO        ?= go
OUT       ?= out
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOFLAGS_B := -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
SO        := $(OUT)/out_drain.so
HOST      := $(OUT)/flb-host
CLI       := bin/drain
FUZZTIME  ?= 10s
# staticcheck pinned: 0.8.2 (2026.2.2) checks this go 1.26 module.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The plugin is built with profile-guided optimisation: go build's default
# -pgo=auto reads the main package's default.pgo (9% less CPU per record on
# the flush benchmark). `make pgo` regenerates it; keep a new profile only
# if alternating runs show it faster on both presets (docs/performance.md).
PGO       := plugin/default.pgo

.PHONY: all build testhost cli test bench pgo run fuzz lint clean test-fluent-bit bench-fluent-bit fleet

all: build

build: $(SO)

$(SO): $(shell find plugin drain sink -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum $(PGO)
	@mkdir -p $(OUT)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_B) -buildmode=c-shared -o $(SO) ./plugin

testhost: $(HOST)

$(HOST): build/testhost/flb_host.c $(wildcard build/testhost/*.h)
	@mkdir -p $(OUT)
	$(CC) -O2 -g -Wall -Wextra -std=gnu11 -o $(HOST) build/testhost/flb_host.c -ldl -lpthread

cli: $(CLI)

$(CLI): $(shell find cmd drain sink plugin -name '*.go' -not -name '*_test.go' 2>/dev/null)
	$(GO) build -trimpath -o $(CLI) ./cmd/drain

# The end-to-end tests drive out/out_drain.so through out/flb-host, so build both first.
# build/k8s is its own module (Kubernetes API types stay out of the plugin's go.mod).
test: build testhost
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	cd build/k8s && $(GO) vet ./... && $(GO) test -count=1 ./...

# The optional suite inside a real Fluent Bit (build/realfb; README "Inside a real Fluent
# Bit"). Under `make test` the same tests skip: FLUENT_BIT is unset there.
test-fluent-bit: build
	@test -n "$(FLUENT_BIT)" || { echo "make test-fluent-bit: set FLUENT_BIT=/path/to/fluent-bit" >&2; exit 2; }
	FLUENT_BIT="$(FLUENT_BIT)" DRAIN_SO="$(CURDIR)/$(SO)" $(GO) test -count=1 -v -timeout 30m ./build/realfb

# CPU of the whole fluent-bit process, `null` against `drain` (both presets), alternating.
bench-fluent-bit: build
	@test -n "$(FLUENT_BIT)" || { echo "make bench-fluent-bit: set FLUENT_BIT=/path/to/fluent-bit" >&2; exit 2; }
	$(GO) run ./build/fbbench -fluent-bit "$(FLUENT_BIT)" -so $(SO) $(BENCH_FLAGS)

# The fleet simulator (docs/stores.md, "Scale"): FLEET_ARGS, e.g.
# "-nodes 500 -duration 5m"; default 2,000 nodes for 10 minutes against a
# private PostgreSQL and Redis it starts itself. make test runs a 50-node,
# 20-second version (internal/fleet).
FLEET_ARGS ?=
fleet:
	$(GO) run ./cmd/fleetsim $(FLEET_ARGS)

# Benchmarks build with the plugin's profile, as the shipped .so is built.
bench:
	$(GO) test -pgo=$(CURDIR)/$(PGO) -run '^$$' -bench . -benchmem ./...

# The profile is the flush path's (decode, scan, mine, enqueue) on both presets,
# on the kubernetes lines and on the varied corpus.
pgo:
	@mkdir -p $(OUT)
	$(GO) test -o $(OUT)/instance.test -run '^$$' -bench '^(BenchmarkFlush|BenchmarkFlushVariedAll)$$' -benchtime 5s -cpuprofile $(CURDIR)/$(PGO) ./plugin/instance

run: build testhost
	FLUENT_BIT="$(FLUENT_BIT)" ./build/run.sh

# go test fuzzes one target at a time: walk every Fuzz* of every package.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# lint is not part of test (CI runs make test): it needs the module proxy to
# fetch staticcheck on first use. go run caches the build, so later runs are
# offline. Both modules must be tidy: go mod tidy -diff prints what it would
# change and exits non-zero.
lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) mod tidy -diff
	cd build/k8s && $(GO) vet ./... && $(GO) mod tidy -diff
	$(STATICCHECK) ./...
	cd build/k8s && $(STATICCHECK) ./...

clean:
	rm -rf $(OUT) bin
