# txlab front door. The README's two commands:
#   make demo   install what the demo needs, build the txlab binary only (release), run the broker scenario
#   make test   install what is missing, build, run every test
PRESET ?= dev
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)

.PHONY: deps deps-demo install configure build demo test asan test-asan test-tsan fuzz image interop-matrix bench bench-run bench-rss bench-peers bench-all bench-baseline lint format clean

deps:
	@bash scripts/install-deps.sh

deps-demo:
	@bash scripts/install-deps.sh --demo

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The first run: only the compiler and the libraries txlab links, only the txlab target.
demo: deps-demo
	@cmake --preset demo >/dev/null
	@cmake --build build/demo -j $(JOBS) --target txlab
	build/demo/cli/txlab run scenarios/broker.yaml

# txlab and the shipped scenarios under PREFIX (default /usr/local): bin/txlab,
# share/txlab/scenarios.
PREFIX ?= /usr/local
install: deps-demo
	@cmake --preset demo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build build/demo -j $(JOBS) --target txlab
	cmake --install build/demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan

# ThreadSanitizer; Debian's prebuilt cpp-httplib is uninstrumented, so its internals are suppressed.
test-tsan:
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp $(TSAN_OPTIONS)" $(MAKE) --no-print-directory test PRESET=tsan

# The vendor matrix: conformance runs against txlab's AS, a real Keycloak, a real Spring
# Authorization Server and @jmondi/oauth2-server (started by the interop tests), one table.
interop-matrix: build
	@cd $(BUILD) && ctest --output-on-failure -R 'interop[.](keycloak|spring|jmondi|matrix)'
	@cp $(BUILD)/tests/matrix/interop-matrix.md $(BUILD)/tests/matrix/interop-matrix.json build/
	@echo "build/interop-matrix.md and build/interop-matrix.json"

# libFuzzer (clang, ASan + UBSan): each target for FUZZ_SECONDS, seeded with its committed
# corpus (never modified; new inputs go to build/fuzz/corpus). A crash fails the run and leaves
# its input in build/fuzz/crashes/; commit it under tests/fuzz/regressions/<target>/ with the fix.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := jwt form http_request jwks scenario
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@mkdir -p build/fuzz/crashes
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  extra=""; [ $$t = scenario ] && extra="scenarios scenarios/faults"; \
	  [ -d tests/fuzz/regressions/$$t ] && extra="$$extra tests/fuzz/regressions/$$t"; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  build/fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/$$t- \
	    build/fuzz/corpus/$$t tests/fuzz/corpus/$$t $$extra 2>build/fuzz/$$t.log \
	    || { tail -60 build/fuzz/$$t.log; echo "make fuzz: fuzz_$$t failed; input in build/fuzz/crashes/"; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build/fuzz/$$t.log | tr '\n' ' '; echo; \
	done

# The container image (multi-stage Dockerfile) built with buildah from a debootstrapped Debian 12
# base, then run: txlab run, one role with serve --role, no compilers, at most 120 MB. Root only.
image:
	@bash scripts/image.sh

# Benchmarks: release build, JSON run, regression gate against the committed baseline.
BENCH_JSON := build/release/bench.json
BENCH_MIN_TIME ?= 0.3

bench-run:
	@$(MAKE) --no-print-directory build PRESET=release
	build/release/bench/txlab_bench --benchmark_min_time=$(BENCH_MIN_TIME) \
	  --benchmark_out=$(BENCH_JSON) --benchmark_out_format=json

# Memory flatness: 60 s of load on the broker chain, RSS sampled every 500 ms.
LOAD_JSON := build/release/load-rss.json
bench-rss:
	@$(MAKE) --no-print-directory build PRESET=release
	build/release/cli/txlab load scenarios/broker.yaml --concurrency 4 --duration 60 --json $(LOAD_JSON)

bench: bench-run bench-rss
	@echo; python3 bench/targets $(BENCH_JSON) $(LOAD_JSON) $(wildcard $(PEERS_JSON))
	@echo; python3 bench/compare bench/baseline.json $(BENCH_JSON)

# Side by side with node oidc-provider and Apache mod_auth_openidc (installs them if missing).
PEERS_JSON := build/release/peers.json
# Seconds of sustained wrk load on the gateway for the memory-flatness target (0: skip).
SOAK ?= 180
bench-peers:
	SOAK=$(SOAK) bash bench/peers/run --json $(PEERS_JSON)

bench-all: bench-peers bench


bench-baseline: bench-run
	cp $(BENCH_JSON) bench/baseline.json

# Formatting (the checked-in .clang-format) and every shipped scenario, faults included.
CXX_SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.cpp' '*.h' 2>/dev/null)
lint: build
	@clang-format --dry-run --Werror $(CXX_SOURCES) || { echo "make lint: formatting drift; run: make format"; exit 1; }
	@for f in scenarios/*.yaml scenarios/faults/*.yaml scenarios/vendors/*.yaml; do $(BUILD)/cli/txlab lint $$f >/dev/null || exit 1; done
	@echo "make lint: $(words $(CXX_SOURCES)) C++ files formatted, every shipped scenario valid"

format:
	clang-format -i $(CXX_SOURCES)

clean:
	rm -rf build
