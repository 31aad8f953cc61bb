# flipbench: `make bench-quick` shows the comparison in a few minutes, `make test`
# runs the tests, `make bench` runs the full experiment (about 50 minutes on 2 cores).

GO       ?= go
BIN      := bin
CMDS     := standard clustered loadtest regress
OUT      ?= results/latest
FUZZTIME ?= 10s

.PHONY: all build test lint fmt-check vet staticcheck fuzz ci bench bench-quick report compare regress baseline regress-proof benchjob clean

all: build

build:
	@mkdir -p $(BIN)
	@for c in $(CMDS); do \
		if [ -d cmd/$$c ]; then $(GO) build -o $(BIN)/$$c ./cmd/$$c || exit 1; fi; \
	done

test:
	$(GO) test -race -count=1 ./...

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzFlip -fuzztime $(FUZZTIME) ./job

# The article's experiment: the 6.7 MB photo, bursts of 10, 100 and 1000, every mode.
bench: build
	$(BIN)/loadtest bench -out $(OUT)

# The same comparison on the small photo, in about a minute.
bench-quick: build
	$(BIN)/loadtest bench -quick -out $(OUT)

report: build
	$(BIN)/loadtest report $(OUT)

# make compare A=results/reference-2core B=results/latest
compare: build
	$(BIN)/loadtest compare $(A) $(B)

benchjob:
	$(GO) test -run '^$$' -bench BenchmarkJob -benchmem ./job

ci: lint test fuzz

clean:
	rm -rf $(BIN) bin-slow results/latest results/regress*

# The performance gate: medians of a few quick runs against results/baseline.json.
regress: build
	@$(BIN)/regress -bin $(BIN) -out results/regress; code=$$?; \
	echo; echo "benchstat, baseline vs now (for reading; the verdicts above decide):"; \
	$(GO) tool benchstat results/baseline-jobbench.txt results/regress/jobbench.txt || true; \
	exit $$code

# Rewrite the baseline on purpose (keeps the tolerances).
baseline: build
	$(BIN)/regress -bin $(BIN) -out results/regress -write-baseline
	cp results/regress/jobbench.txt results/baseline-jobbench.txt

# Proof that the gate fails when it should: a slower job (built with an injected
# second JPEG encode) and a broken cluster (one worker on a multi-core machine)
# must each fail the gate, on the metric they break.
regress-proof: build
	@mkdir -p bin-slow
	$(GO) build -tags flipbench_slowdown -o bin-slow/standard ./cmd/standard
	$(GO) build -tags flipbench_slowdown -o bin-slow/clustered ./cmd/clustered
	.ci/expect-regression job_time_over_jpeg_floor $(BIN)/regress -bin bin-slow -tags flipbench_slowdown -runs 1 -out results/regress-slowjob
	.ci/expect-regression clustered_speedup_per_core $(BIN)/regress -bin $(BIN) -cluster-args "-workers 1" -runs 3 -out results/regress-oneworker
