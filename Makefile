# Thin wrapper over CMake. `make demo` runs a local cluster; `make test` runs every test;
# `make fuzz` runs the fuzzers.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
PROGRAMS   := frontend storage client
TOOLS      := kvsim kvcheck kvbench

.PHONY: all deps configure build demo test test-fast test-asan fuzz format clean

all: build
	@for p in $(PROGRAMS); do cp -f $(BUILD)/$$p ./$$p; done
	@for p in $(TOOLS); do [ ! -f $(BUILD)/$$p ] || cp -f $(BUILD)/$$p ./$$p; done
	@echo "built: $$(for p in $(PROGRAMS) $(TOOLS); do [ -f $$p ] && printf './%s ' $$p; done)"

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: all
	@scripts/demo.sh

# Every test: the normal build, then the same suite under ASan + UBSan.
test: test-fast test-asan

test-fast: all
	cd $(BUILD) && ctest --output-on-failure -j 1

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKVS_SANITIZE=ON

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j 1

# libFuzzer (clang): every target for FUZZ_SECONDS seconds; not part of `make test`, which
# replays the seed corpus tests/fuzz/corpus instead. See docs/TESTING.md, "Fuzzing".
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) JOBS=$(JOBS) scripts/fuzz.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(PROGRAMS) $(TOOLS)
