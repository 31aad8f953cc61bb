# flipbench: `make bench-quick` shows the comparison in a few minutes, `make test`
# runs the tests, `make bench` runs the full experiment (5 rounds at N = 10 and 100, one at
# N = 1000: about 2 hours on 2 cores; it prints its estimate once the first warm-up is done).

GO       ?= go
BIN      := bin
CMDS     := standard clustered queued loadtest regress
OUT      ?= results/latest
# Fuzz budgets are counts of executions, not durations: Go 1.26's fuzz coordinator
# can fail a run with "context deadline exceeded" when a duration ends while a
# worker is busy (go.dev/issue/75804, fixed in Go 1.27). FUZZTIME=30s still works.
FUZZTIME ?= 100000x

# The article's Node app (nodeapp/) needs node and npm; without them build and test say
# so on one line and go on. Its dependencies are installed again only when
# package-lock.json is newer than what npm last installed.
NODE_OK     := $(if $(shell command -v node 2>/dev/null),$(if $(shell command -v npm 2>/dev/null),yes,),)
NODE_MISSING := $(if $(shell command -v node 2>/dev/null),npm,node)
NODEAPP_DEPS := nodeapp/node_modules/.package-lock.json

# The libvips engine (-engine vips) needs libvips-dev; with it, build also makes
# bin/standard-vips and bin/clustered-vips (-tags flipbench_vips), test runs the engine
# tests on them and lint checks the tagged files. The default binaries stay pure Go.
VIPS_TAG  := flipbench_vips
VIPS_OK   := $(shell pkg-config --exists vips 2>/dev/null && echo yes)
VIPS_CMDS := standard clustered
VIPS_PKGS := ./job ./cmd/standard ./cmd/clustered

# Test packages run 4 at a time, not one per core: most of a package's time is
# spent waiting on the servers, clients and timers it starts (go test -p 2 kept
# the 2 cores 45 % busy), so 4 cut go test's wall time from 294 s to 181 s
# here, and no test's verdict depends on it (tests check counts and shapes,
# never durations). The
# libvips build is tested again in the job package, whose every test runs on
# each engine, and in the commands' engine tests; their other tests do not
# touch the engine.
TEST_P ?= 4

.PHONY: all build nodeapp-deps test test-go test-vips test-node soak lint fmt-check vet staticcheck fuzz ci bench bench-quick bench-node bench-engines report compare crosscheck regress baseline regress-proof benchjob clean

all: build

# bin/nats-server: the NATS server at the version queued embeds (go.mod pins
# it), for a real cluster (README, the queued mode) and its tests.
build: nodeapp-deps
ifneq ($(NODE_OK),yes)
	@echo "skipping the Node app (nodeapp/): $(NODE_MISSING) is not on the PATH"
endif
	@mkdir -p $(BIN)
	@for c in $(CMDS); do \
		if [ -d cmd/$$c ]; then $(GO) build -o $(BIN)/$$c ./cmd/$$c || exit 1; fi; \
	done
ifeq ($(VIPS_OK),yes)
	@for c in $(VIPS_CMDS); do $(GO) build -tags $(VIPS_TAG) -o $(BIN)/$$c-vips ./cmd/$$c || exit 1; done
else
	@echo "skipping the libvips binaries (bin/*-vips): pkg-config finds no vips (apt-get install libvips-dev)"
endif
	$(GO) build -o $(BIN)/nats-server github.com/nats-io/nats-server/v2

# The Go tests, the libvips build's and the Node app's run side by side, their
# lines as they come: they wait on servers more than they compute, and one
# after another the last two added 46 s (side by side, make test took 195 s
# here instead of 222 s).
test: nodeapp-deps
	@$(MAKE) --no-print-directory -j3 -Oline test-go test-vips test-node

test-go:
	$(GO) test -race -count=1 -p $(TEST_P) ./...

test-vips:
ifeq ($(VIPS_OK),yes)
	GOFLAGS=-tags=$(VIPS_TAG) $(GO) test -race -count=1 -p $(TEST_P) ./job
	GOFLAGS=-tags=$(VIPS_TAG) $(GO) test -race -count=1 -p $(TEST_P) -run Engine $(VIPS_CMDS:%=./cmd/%)
else
	@echo "skipping the libvips engine's tests: pkg-config finds no vips (apt-get install libvips-dev)"
endif

test-node: nodeapp-deps
ifeq ($(NODE_OK),yes)
	npm test --prefix nodeapp
else
	@echo "skipping the Node app's tests (nodeapp/): $(NODE_MISSING) is not on the PATH"
endif

# Soaks, not in make test: the end-to-end clients' test with its kept-alive
# clients given time for 10 answers each, not 5 (about 4 minutes on 2 cores).
soak: nodeapp-deps
	FLIPBENCH_SOAK=1 $(GO) test -race -count=1 -run '^TestRealClients$$' ./internal/realclients

# npm ci for the Node app when it is missing or older than the lockfile; nothing without node.
ifeq ($(NODE_OK),yes)
nodeapp-deps: $(NODEAPP_DEPS)
else
nodeapp-deps:
endif

$(NODEAPP_DEPS): nodeapp/package-lock.json
	cd nodeapp && npm ci --no-audit --no-fund
	@touch $@

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
ifeq ($(VIPS_OK),yes)
	$(GO) vet -tags $(VIPS_TAG) $(VIPS_PKGS)
endif

staticcheck:
	$(GO) tool staticcheck ./...
ifeq ($(VIPS_OK),yes)
	$(GO) tool staticcheck -tags $(VIPS_TAG) $(VIPS_PKGS)
endif

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzFlip -fuzztime $(FUZZTIME) ./job
	$(GO) test -run '^$$' -fuzz FuzzParseJobID -fuzztime $(FUZZTIME) ./queue
	$(GO) test -run '^$$' -fuzz FuzzDecodeJob -fuzztime $(FUZZTIME) ./queue

# The article's experiment: the 6.7 MB photo, bursts of 10, 100 and 1000, every mode;
# then the open-model sweep (0.3 to 1.2 x each mode's capacity, 200 arrivals a step, 5
# rounds) on the 1 MP photo, where a step takes seconds, not minutes.
bench: build
	$(BIN)/loadtest bench -out $(OUT)
	$(BIN)/loadtest bench -workload rate -image testdata/photo-1mp.jpg -out $(OUT)-rate

# The same comparison on the small photo: 3 rounds, bursts of 10 and 50, and one
# open-model step at 0.8 x capacity (20 arrivals), in under 2 minutes.
bench-quick: build
	$(BIN)/loadtest bench -quick -out $(OUT)

report: build
	$(BIN)/loadtest report $(OUT)

# The article's own app beside Go on the full photo: Go standard and clustered, Node
# standard and cluster (Jimp), the same on sharp (and its cluster on one pool thread
# per worker), bursts of 10 and 100 (about 30 minutes: a Node job takes about
# 8 s and holds about 1 GB); then Node standard at 1000, which the memory guard stops.
# Not in bench-quick: at N = 100 Node holds every job at once.
bench-node: build
	$(BIN)/loadtest bench -modes standard,clustered,node-standard,node-cluster,node-sharp-standard,node-sharp-cluster,node-sharp-cluster-1t -levels 10,100 -clients 10 -out $(OUT)-node
	$(BIN)/loadtest bench -modes node-standard -levels 1000 -clients none -out $(OUT)-node-guard

# autocannon (nodeapp's devDependency) beside the project's keep-alive clients, every
# mode, the same clients, duration and photo; then the article's artillery.yaml load,
# Artillery (also a devDependency) beside the project's open model at the same
# arrivals, each on a fresh server start. ARTILLERY_RATE 0 is 1.5/S measured on
# standard (past one core's capacity, within two); ARTILLERY=false skips that part.
# With it, about 100 s a mode (3 Go modes took 5 minutes), so CROSS_MODES picks some.
# make crosscheck CLIENTS=100 DURATION=20s IMAGE=testdata/photo-6.7mb.jpg
# make crosscheck CROSS_MODES=standard,shared ARTILLERY_RATE=20 ARTILLERY_DURATION=30s
CLIENTS  ?= 10
DURATION ?= 10s
IMAGE    ?= testdata/photo-1mp.jpg
CROSS_MODES        ?=
ARTILLERY          ?= true
ARTILLERY_RATE     ?= 0
ARTILLERY_DURATION ?= 30s
crosscheck: build
	$(BIN)/loadtest crosscheck -clients $(CLIENTS) -duration $(DURATION) -image $(IMAGE) \
		$(if $(CROSS_MODES),-modes $(CROSS_MODES)) -artillery=$(ARTILLERY) \
		-artillery-rate $(ARTILLERY_RATE) -artillery-duration $(ARTILLERY_DURATION)

# The engines people would pick today beside the article's: imaging and libvips in Go,
# Jimp and sharp in Node, one process and a cluster each, on the full photo at 10 and
# 100. A mode whose binary or need is missing (bin/*-vips without libvips-dev, node) is
# skipped with its reason. node-standard (Jimp) at 100 needs about 100 GB: the memory
# guard stops it.
bench-engines: build
	$(BIN)/loadtest bench -modes standard,shared,vips-standard,vips-shared,node-standard,node-sharp-standard,node-sharp-cluster -levels 10,100 -out $(OUT)-engines

# make compare A=results/reference-2core B=results/latest
compare: build
	$(BIN)/loadtest compare $(A) $(B)

benchjob:
	$(GO) test -run '^$$' -bench BenchmarkJob -benchmem ./job

ci: lint test fuzz

clean:
	rm -rf $(BIN) bin-slow bin-conngate results/latest results/regress* results/crosscheck

# The performance gate: medians of a few quick runs against results/baseline.json.
regress: build
	@$(BIN)/regress -bin $(BIN) -out results/regress; code=$$?; \
	echo; echo "benchstat, baseline vs now (for reading; the verdicts above decide):"; \
	$(GO) tool benchstat results/baseline-jobbench.txt results/regress/jobbench.txt || true; \
	exit $$code

# Rewrite the baseline on purpose (keeps the tolerances). ONLY=metric[,metric]
# remeasures just those in the baseline there is (a metric new to the gate).
ONLY ?=
baseline: build
ifeq ($(ONLY),)
	$(BIN)/regress -bin $(BIN) -out results/regress -write-baseline
	cp results/regress/jobbench.txt results/baseline-jobbench.txt
else
	$(BIN)/regress -bin $(BIN) -out results/regress -write-baseline -only $(ONLY)
endif

# Proof that the gate fails when it should: a slower job (built with two
# injected wasted JPEG encodes), a cluster short of workers (one on a
# multi-core machine: its speedup, its small burst, its split, and its p99
# under arrivals at 0.8 of the cores' capacity), a cluster
# whose workers accept without a free slot (-balance none: the share of small
# bursts it splits evenly, a count over 20 bursts a run, since one burst's
# split is chance), a queued front short of workers, and a cluster built with
# the old gate that counts connections, not work (-tags flipbench_conngate:
# keep-alive clients starve), must each fail the gate, on the metrics they
# break. Each proof measures only those metrics (-only): what they need, not
# the whole gate, against the baseline. A one-worker cluster splits no burst
# evenly, whatever the chance: 5 split bursts a run show it as well as 20.
regress-proof: build
	.ci/expect-regression job_time_over_jpeg_floor $(BIN)/regress -only job_time_over_jpeg_floor -tags flipbench_slowdown -count 3 -out results/regress-slowjob
	.ci/expect-regression cluster_speedup_per_core,cluster_small_burst_over_ideal,cluster_even_split_share,cluster_rate_p99_over_ideal $(BIN)/regress -bin $(BIN) -only cluster_speedup_per_core,cluster_small_burst_over_ideal,cluster_even_split_share,cluster_rate_p99_over_ideal -cluster-args "-workers 1" -runs 3 -split-bursts 5 -out results/regress-oneworker
	.ci/expect-regression cluster_even_split_share $(BIN)/regress -bin $(BIN) -only cluster_even_split_share -cluster-args "--balance=none" -runs 3 -out results/regress-nogate
	.ci/expect-regression queued_over_shared_makespan $(BIN)/regress -bin $(BIN) -only queued_over_shared_makespan -queued-args "--workers=1" -runs 3 -out results/regress-onequeueworker
	@mkdir -p bin-conngate
	$(GO) build -tags flipbench_conngate -o bin-conngate/clustered ./cmd/clustered
	.ci/expect-regression cluster_keepalive_served_share $(BIN)/regress -bin bin-conngate -only cluster_keepalive_served_share -runs 1 -out results/regress-conngate
