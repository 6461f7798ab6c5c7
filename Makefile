# weir: `make demo` runs the embedded-default job, `make test` runs every test.
export GOTOOLCHAIN := go1.27.3
GO ?= go
GOFMT = $(shell $(GO) env GOROOT)/bin/gofmt

# Services the tests need: connectors/redis and connectors/postgres test against real servers.
SERVICES ?= redis postgres

.PHONY: all demo test vet fmt fmt-check bench bench-pipeline bench-nexmark services

all: test

demo:
	$(GO) run ./examples/demo

services:
	scripts/services.sh $(SERVICES)

test: services fmt-check vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt:
	$(GOFMT) -w $$(git ls-files '*.go')

fmt-check:
	@out=$$($(GOFMT) -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

# Benchmarks: every Nexmark query against its hand-written loop (the table
# goes to bench/results.md), the core pipeline over 10M events against a
# hand-written loop in the same run, then every other benchmark once.
NEXMARK_EVENTS ?= 10000000

bench: bench-nexmark bench-pipeline
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... ./operators/... ./statebackend/... ./timeapi/...

bench-pipeline:
	$(GO) test -run '^$$' -bench 'Pipeline' -benchmem -benchtime=10000000x -count=3 ./runtime/

bench-nexmark:
	$(GO) run ./cmd/weir nexmark --query all --events $(NEXMARK_EVENTS) --repeat 3 --report bench/results.md
