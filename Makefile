# Thin wrapper over CMake. `make demo` runs a local cluster; `make test` runs every test;
# `make fuzz` runs the fuzzers.
BUILD      ?= build
BENCH_BUILD ?= build-bench
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
PROGRAMS   := frontend storage client
TOOLS      := kvsim kvcheck kvbench

.PHONY: all deps configure build demo test test-fast test-asan chaos soak fuzz format clean bench bench-build

all: build
	@for p in $(PROGRAMS); do cp -f $(BUILD)/$$p ./$$p; done
	@for p in $(TOOLS); do [ ! -f $(BUILD)/$$p ] || cp -f $(BUILD)/$$p ./$$p; done
	@echo "built: $$(for p in $(PROGRAMS) $(TOOLS); do [ -f $$p ] && printf './%s ' $$p; done)"

deps:
	@scripts/install-deps.sh

# -O1 -g1: compiling is what makes `make test` slow on 2 cores, and at -O1 the whole tree
# builds in about 40% of the CPU time of -O2 -g (docs/TESTING.md has the measurement).
# Benchmarks build their own -O2 tree.
BUILD_FLAGS ?= -O1 -g1 -DNDEBUG
ASAN_FLAGS  ?= -O1 -g1

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(BUILD_FLAGS)"

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: all
	@scripts/demo.sh

# ctest runs JOBS tests at a time; the integration tests (real processes and ports) share
# one RESOURCE_LOCK in CMakeLists.txt, so they run one at a time, beside the other tests.
FAST_CTEST = cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
ASAN_CTEST = cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)
# The sanitizer tree builds only what ctest runs (the test_programs target): not kvsim or
# kvwalgen, which the normal tree builds and no test starts.
ASAN_BUILD_CMD = cmake --build $(ASAN_BUILD) -j $(JOBS) --target test_programs

# Every test: the normal build and its tests, then the same suite under ASan + UBSan.
# The normal tree's tests leave the CPU mostly idle (the integration tests wait on
# processes and timeouts), so the sanitizer tree is built meanwhile, at a lower priority
# (nice -n 10: the tests get the CPU first); its output goes to build-asan/build.log,
# printed if it fails. `make test-fast` and `make test-asan` run one half each.
test: all $(ASAN_BUILD)/CMakeCache.txt
	@echo "building $(ASAN_BUILD) (nice -n 10) while the tests of $(BUILD) run; log: $(ASAN_BUILD)/build.log"
	@rm -f $(ASAN_BUILD)/build.rc; \
	  ( nice -n 10 $(ASAN_BUILD_CMD) >$(ASAN_BUILD)/build.log 2>&1; echo $$? >$(ASAN_BUILD)/build.rc ) & \
	  ( $(FAST_CTEST) ); rc=$$?; wait; \
	  if [ "$$(cat $(ASAN_BUILD)/build.rc 2>/dev/null)" != 0 ]; then \
	    cat $(ASAN_BUILD)/build.log; echo "make test: building $(ASAN_BUILD) failed"; exit 1; fi; \
	  echo "$(ASAN_BUILD) built (log: $(ASAN_BUILD)/build.log)"; exit $$rc
	$(ASAN_CTEST)

test-fast: all
	$(FAST_CTEST)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKVS_SANITIZE=ON "-DCMAKE_CXX_FLAGS_DEBUG=$(ASAN_FLAGS)"

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	$(ASAN_BUILD_CMD)
	$(ASAN_CTEST)

# Random SIGKILLs and restarts of storage nodes under load, every history checked
# (tests/integration/chaos.sh): `make chaos SECONDS=600`.
SECONDS ?= 300
chaos: all
	bash tests/integration/chaos.sh $(BUILD) $(SECONDS) $${CLIENTS:-4}

# The frontend's RSS under SECONDS of kvbench load, sampled every 5 s; fails if it grows
# after the first minute (scripts/soak_rss.sh): `make soak SECONDS=300`.
soak: all
	bash scripts/soak_rss.sh $(BUILD) $(SECONDS)

# libFuzzer (clang): every target for FUZZ_SECONDS seconds; not part of `make test`, which
# replays the seed corpus tests/fuzz/corpus instead. See docs/TESTING.md, "Fuzzing".
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) JOBS=$(JOBS) scripts/fuzz.sh

# Benchmarks against Redis and etcd, recovery and catch-up speed, simulator throughput;
# writes docs/PERFORMANCE.md (scripts/bench.sh). Not part of `make test`. Its own -O2 tree
# (-g1 only for perf's symbols and lines), so the test trees' -O1 does not skew numbers.
# `make bench BENCH_QUICK=1` runs small counts, to check the script quickly.
BENCH_FLAGS ?= -O2 -g1 -DNDEBUG
BENCH_QUICK ?= 0
BENCH_TARGETS := frontend storage client kvbench kvsim kvwalgen

$(BENCH_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(BENCH_FLAGS)"

bench-build: deps $(BENCH_BUILD)/CMakeCache.txt
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target $(BENCH_TARGETS)

bench: bench-build
	BENCH_QUICK=$(BENCH_QUICK) scripts/bench.sh $(BENCH_BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD) $(PROGRAMS) $(TOOLS)
