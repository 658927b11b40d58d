# adsync — see README.md.
GO       ?= go
BIN      := bin/adsync
FIXTURES := $(GO) run ./internal/testenv/fixturectl

.PHONY: all build test test-unit vet rules demo demo-clean deps fmt clean

all: build

build:
	$(GO) build -o $(BIN) .

## deps: install the Debian packages the demo and the tests need
deps:
	deploy/debian/install-deps.sh

## test: every test, end-to-end ones included (real Samba AD DC, OpenLDAP, NATS)
test: deps vet rules
	$(GO) test -count=1 -timeout 25m ./...
	$(FIXTURES) samba down

## rules: check and unit-test the Prometheus alert rules (promtool, Debian's prometheus)
rules:
	promtool check rules deploy/prometheus/adsync-rules.yml
	promtool test rules deploy/prometheus/adsync-rules.test.yml

## test-unit: the tests that need no directory (fast)
test-unit:
	$(GO) test -count=1 -short ./...

vet:
	$(GO) vet ./...

## demo: a throwaway Samba AD DC with sample users, adsync run, a job, the accounts
demo: deps build
	deploy/demo/demo.sh

demo-clean:
	-deploy/demo/demo.sh stop
	$(FIXTURES) samba down
	rm -rf data/demo

fmt:
	gofmt -w .

clean:
	rm -rf bin

## bench: adsync against the raw directory read (slapd, 10k and 100k users; Samba
## AD delta figures) and a table of times, ratios and peak RSS per service.
## BENCH_N=1000000 or BENCH_LARGE=1 for 1M users, BENCH_DELTA=0 without Samba,
## BENCH_KEEP_SAMBA=1 to keep the Samba DC and OU it made for the next bench,
## BENCH_PROFILE=DIR for profiles, BENCH_ONE_PROCESS=1 to run adsync as one
## `adsync run` (embedded NATS), BENCH_GROUPS=K to put each user in K of 100
## groups, BENCH_NAMES=shuffled for users in no order of name (as AD hands them
## out), BENCH_FLAGS for more (bin/adsync-bench -h)
.PHONY: bench
bench: build
	GO="$(GO)" deploy/bench/bench.sh

## test-cluster: only the cluster tests (a real 3-node NATS cluster, each service
## its own process; also part of `make test`), verbose, with the logs of a failed
## test kept in $(CLUSTER_LOGS)
CLUSTER_LOGS ?= /tmp/adsync-clustertest-logs
.PHONY: test-cluster
test-cluster:
	ADSYNC_CLUSTERTEST_LOGS=$(CLUSTER_LOGS) $(GO) test -count=1 -v -timeout 10m ./internal/clustertest
	$(GO) test -count=1 -v -run 'TestNATSCluster' ./internal/testenv/natscluster

## fuzz: every fuzz target in the tree (each func Fuzz* of a _test.go) for
## FUZZTIME each (default 60s); failing inputs are written to testdata/fuzz
## next to the fuzz test and then run as seeds by `go test`
FUZZTIME ?= 60s
.PHONY: fuzz
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "== $$t ($$(dirname $$f))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$f); \
	  done; \
	done
