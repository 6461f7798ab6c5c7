# weir: `make demo` runs the embedded-default job, `make test` runs every test.
export GOTOOLCHAIN := go1.27.3
GO ?= go
GOFMT = $(shell $(GO) env GOROOT)/bin/gofmt

# Services the tests need: connectors/redis and connectors/postgres test against real servers.
SERVICES ?= redis postgres

.PHONY: all demo test vet vet-untested fmt fmt-check bench bench-pipeline bench-nexmark services

all: test

demo:
	$(GO) run ./examples/demo

services:
	scripts/services.sh $(SERVICES)

# make test runs every vet check inside go test (-vet=all), on the race
# build it compiles anyway, and go vet itself only on the packages without
# tests. A go vet ./... first compiled every dependency a second time,
# without -race: 5.5 of the 24 minutes CI took on a new machine.
test: services fmt-check vet-untested
	$(GO) test -race -count=1 -vet=all ./...

vet:
	$(GO) vet ./...

vet-untested:
	@pkgs=$$($(GO) list -f '{{if and (not .TestGoFiles) (not .XTestGoFiles)}}{{.ImportPath}}{{end}}' ./...); \
	if [ -n "$$pkgs" ]; then echo go vet $$pkgs; $(GO) vet $$pkgs; fi

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
